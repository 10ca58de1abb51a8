/**
 * Documented results as data (after Pyserini's reproduction matrix): each file under
 * `regressions/` is one table of docs/results.md — its rows are commands with the metrics they
 * must print, to 4 decimals, within a tolerance. `npm run regressions` runs them
 * (scripts/regressions.mjs) and rewrites each table between its markers in docs/results.md from
 * the numbers the runs printed, so the documented tables are the runs' output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';

export interface RegressionEntry {
  /** Unique across all files, e.g. `bm25-scifact`. */
  id: string;
  /** The first cell of the row in docs/results.md. */
  row: string;
  /** The command as documented, starting with `genir ` and printing one JSON object (`--json`) as its last line. */
  command: string;
  /** Dataset id the command reads; the runner skips the entry when it is not installed. */
  dataset: string;
  /** Expected value of each of the table's metrics, to 4 decimals; null where the documented row has none (shown as –, not compared). */
  metrics: Record<string, number | null>;
  /**
   * Where the metrics stand in the command's JSON line: dot-separated fields, and `name[key=value,…]`
   * for the first element of array `name` whose fields have those values (default `metrics`).
   */
  report: string;
  /** Commands run first, in order (e.g. the training a documented evaluation reads); same form as `command`. */
  setup: string[];
  /** Largest accepted |printed − expected| after rounding to 4 decimals (0: exact). */
  tolerance: number;
  /** Part of `npm run regressions -- --quick` (and of the tests): seconds, not minutes. */
  quick: boolean;
}

export interface RegressionTable {
  /** The file it was read from. */
  file: string;
  /** Name of the marker pair in docs/results.md: `<!-- regressions:NAME -->` … `<!-- /regressions:NAME -->`. */
  table: string;
  /** Header of the first column. */
  rowHeader: string;
  /** Metric columns, in order; every entry gives each of them. */
  columns: string[];
  entries: RegressionEntry[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One table from its JSON text; any problem is one UserError naming the file and the field. */
export function parseRegressionTable(text: string, file: string): RegressionTable {
  let data: Json;
  try {
    data = JSON.parse(text) as Json;
  } catch (err) {
    throw new UserError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(data)) throw new UserError(`${file}: expected a JSON object with table, rowHeader, columns and entries`);
  const text_ = (value: Json | undefined, field: string): string => {
    if (typeof value !== 'string' || value.trim() === '') throw new UserError(`${file}: ${field}: expected a non-empty string`);
    return value;
  };
  const table = text_(data.table, 'table');
  if (!/^[a-z0-9-]+$/.test(table)) throw new UserError(`${file}: table '${table}': expected lower-case letters, digits and '-'`);
  const rowHeader = text_(data.rowHeader, 'rowHeader');
  if (!Array.isArray(data.columns) || data.columns.length === 0)
    throw new UserError(`${file}: columns: expected a non-empty array of metric names`);
  const columns = data.columns.map((c, i) => text_(c, `columns[${i}]`));
  if (!Array.isArray(data.entries) || data.entries.length === 0) throw new UserError(`${file}: entries: expected a non-empty array`);
  const entries = data.entries.map((raw, i): RegressionEntry => {
    const at = `entries[${i}]`;
    if (!isObject(raw)) throw new UserError(`${file}: ${at}: expected an object`);
    const known = new Set(['id', 'row', 'command', 'dataset', 'metrics', 'tolerance', 'quick', 'report', 'setup']);
    const unknown = Object.keys(raw).find((key) => !known.has(key));
    if (unknown !== undefined) throw new UserError(`${file}: ${at}.${unknown}: unknown field (expected ${[...known].join(', ')})`);
    const command = text_(raw.command, `${at}.command`);
    if (!command.startsWith('genir ') || !/(^| )--json( |$)/.test(command))
      throw new UserError(`${file}: ${at}.command: expected 'genir … --json', got '${command}'`);
    if (!isObject(raw.metrics)) throw new UserError(`${file}: ${at}.metrics: expected an object of metric name → number`);
    const metrics: Record<string, number | null> = {};
    for (const column of columns) {
      const value = raw.metrics[column];
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value)))
        throw new UserError(`${file}: ${at}.metrics.${column}: expected a number, or null for none (every entry gives every column)`);
      metrics[column] = value;
    }
    const extra = Object.keys(raw.metrics).find((key) => !columns.includes(key));
    if (extra !== undefined) throw new UserError(`${file}: ${at}.metrics.${extra}: not one of the columns (${columns.join(', ')})`);
    const tolerance = raw.tolerance;
    if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw new UserError(`${file}: ${at}.tolerance: expected a number >= 0`);
    if (typeof raw.quick !== 'boolean') throw new UserError(`${file}: ${at}.quick: expected true or false`);
    const report = raw.report === undefined ? 'metrics' : text_(raw.report, `${at}.report`);
    try {
      parseReportPath(report);
    } catch (err) {
      throw new UserError(`${file}: ${at}.report: ${(err as Error).message}`);
    }
    if (raw.setup !== undefined && !Array.isArray(raw.setup))
      throw new UserError(`${file}: ${at}.setup: expected an array of 'genir …' commands`);
    const setup = (raw.setup ?? []).map((c, j) => {
      const line = text_(c, `${at}.setup[${j}]`);
      if (!line.startsWith('genir ')) throw new UserError(`${file}: ${at}.setup[${j}]: expected 'genir …', got '${line}'`);
      return line;
    });
    return {
      id: text_(raw.id, `${at}.id`),
      row: text_(raw.row, `${at}.row`),
      command,
      dataset: text_(raw.dataset, `${at}.dataset`),
      metrics,
      tolerance,
      quick: raw.quick,
      report,
      setup,
    };
  });
  return { file, table, rowHeader, columns, entries };
}

/** Every `*.json` table under `dir`, in file-name order; ids and table names must be unique. */
export function loadRegressions(dir: string): RegressionTable[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new UserError(`${dir}: cannot read the regressions folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const tables = names.map((name) => parseRegressionTable(readFileSync(join(dir, name), 'utf8'), join(dir, name)));
  const ids = new Map<string, string>();
  const tableNames = new Map<string, string>();
  for (const table of tables) {
    const previous = tableNames.get(table.table);
    if (previous !== undefined) throw new UserError(`${table.file}: table '${table.table}' is also the table of ${previous}`);
    tableNames.set(table.table, table.file);
    for (const entry of table.entries) {
      const other = ids.get(entry.id);
      if (other !== undefined) throw new UserError(`${table.file}: id '${entry.id}' is also used in ${other}`);
      ids.set(entry.id, table.file);
    }
  }
  return tables;
}

/** The arguments after `genir` of a documented command (they have no quoting). */
export function commandArgs(entry: RegressionEntry | string): string[] {
  return (typeof entry === 'string' ? entry : entry.command).split(/\s+/).slice(1);
}

interface PathStep {
  field: string;
  /** Pick the first array element with these field values. */
  where?: [string, string][];
}

/** `rows[method=sft,docids=pq].metrics` → its steps; throws an Error saying what is wrong. */
export function parseReportPath(path: string): PathStep[] {
  return path.split('.').map((segment) => {
    const match = /^([A-Za-z0-9_@-]+)(?:\[([^\]]+)\])?$/.exec(segment);
    if (match === null) throw new Error(`'${path}': expected fields separated by '.', each optionally followed by [key=value,…]`);
    if (match[2] === undefined) return { field: match[1] };
    const where = match[2].split(',').map((pair): [string, string] => {
      const [key, value, extra] = pair.split('=');
      if (key === undefined || value === undefined || extra !== undefined || key === '')
        throw new Error(`'${path}': '[${match[2]}]': expected key=value pairs separated by ','`);
      return [key, value];
    });
    return { field: match[1], where };
  });
}

/** The value at `path` in a report, or undefined where the report has none. */
function atPath(report: Json, path: string): Json | undefined {
  let value: Json | undefined = report;
  for (const step of parseReportPath(path)) {
    value = isObject(value) ? value[step.field] : undefined;
    if (step.where !== undefined) {
      const where = step.where;
      value = Array.isArray(value) ? value.find((item) => isObject(item) && where.every(([k, v]) => String(item[k]) === v)) : undefined;
    }
  }
  return value;
}

/** The metrics of a command's last stdout line (`"metrics": {…}`, as every `--json` report of genir has them). */
export function printedMetrics(stdout: string, entry: RegressionEntry): Record<string, number> {
  const last = stdout.trimEnd().split('\n').pop() ?? '';
  let report: Json;
  try {
    report = JSON.parse(last) as Json;
  } catch {
    throw new UserError(`${entry.id}: the last line of '${entry.command}' is not JSON`);
  }
  const metrics = atPath(report, entry.report);
  if (!isObject(metrics)) throw new UserError(`${entry.id}: '${entry.command}' printed no metrics object at ${entry.report}`);
  const out: Record<string, number> = {};
  for (const [name, expected] of Object.entries(entry.metrics)) {
    if (expected === null) continue;
    const value = metrics[name];
    if (typeof value !== 'number') throw new UserError(`${entry.id}: '${entry.command}' printed no ${name}`);
    out[name] = value;
  }
  return out;
}

/** One line per metric outside its tolerance once rounded to 4 decimals; empty when the run reproduces the entry. */
export function mismatches(entry: RegressionEntry, printed: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(entry.metrics)) {
    if (expected === null) continue;
    const value = printed[name];
    const rounded = Number(value.toFixed(4));
    // 1e-9 absorbs the binary representation of 4-decimal numbers, not a real difference.
    if (Math.abs(rounded - expected) > entry.tolerance + 1e-9) {
      problems.push(
        `${entry.id} ${name}: printed ${value.toFixed(4)}, expected ${expected.toFixed(4)}${entry.tolerance > 0 ? ` ± ${entry.tolerance}` : ''}`,
      );
    }
  }
  return problems;
}

/** The Markdown table of the printed numbers (4 decimals), rows in the file's order. */
export function renderTable(table: RegressionTable, printed: ReadonlyMap<string, Readonly<Record<string, number | null>>>): string {
  const lines = [
    `| ${table.rowHeader} | ${table.columns.join(' | ')} |`,
    `|${' --- |'.repeat(table.columns.length + 1)}`.replace(/ --- /g, '---'),
  ];
  for (const entry of table.entries) {
    const values = printed.get(entry.id);
    if (values === undefined) throw new Error(`renderTable: no run of ${entry.id}`);
    const cell = (column: string): string => {
      const value = values[column];
      return entry.metrics[column] === null || value === null ? '–' : value.toFixed(4);
    };
    lines.push(`| ${entry.row} | ${table.columns.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** `doc` with the text between the table's markers replaced by `rendered`; `docName` names the file in errors. */
export function replaceTable(doc: string, table: string, rendered: string, docName: string): string {
  const open = `<!-- regressions:${table} -->`;
  const close = `<!-- /regressions:${table} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) throw new UserError(`${docName}: no '${open}' … '${close}' pair for table ${table}`);
  if (doc.indexOf(open, start + open.length) >= 0) throw new UserError(`${docName}: '${open}' appears twice`);
  return `${doc.slice(0, start + open.length)}\n${rendered}\n${doc.slice(end)}`;
}
