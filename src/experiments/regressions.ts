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
  /**
   * The first cell of the row in docs/results.md. Entries with the same row text make one row
   * together, each giving some of its cells (e.g. a language's BM25 run and its GenIR run).
   */
  row: string;
  /** The first cell's text where it differs from `row`: rows that are different runs but show the same text (`2,000` classes twice). */
  label: string;
  /**
   * The command as documented, printing one JSON object as its last line: `genir … --json`, or
   * `node --import tsx scripts/….ts …` for a table a script of this repository made; null for a
   * row that is not a run (`derive`, or a documented row: `note`).
   */
  command: string | null;
  /** Dataset id the command reads (null without a command). */
  dataset: string | null;
  /** Expected value of each metric the entry reads, to `decimals`; null where the documented row has none (shown as –, not compared). */
  metrics: Record<string, number | null>;
  /**
   * Where the metrics stand in the command's JSON line: dot-separated fields, and `name[key=value,…]`
   * for the first element of array `name` whose fields have those values (default `metrics`; `.`
   * for the line's own fields, as a script prints them).
   */
  report: string;
  /** Commands run first, in order (e.g. the training a documented evaluation reads); same form as `command`. */
  setup: string[];
  /** Largest accepted |printed − expected| after rounding to `decimals` (0: exact). */
  tolerance: number;
  /** Decimals a placeholder shows and a printed value is rounded to before the comparison (default 4). */
  decimals: number;
  /** Part of `npm run regressions -- --quick` (and of the tests): seconds, not minutes. */
  quick: boolean;
  /**
   * The cells the entry gives, column → template: `{NAME}` stands for metric NAME at `decimals`
   * (– when null), so a cell can be `**{RR@10}**` or `{RR@10} / {R@1} / {R@10}`; text around it
   * (bold, a documented p-value, a wall-clock figure) is written as it is and not compared.
   * Default: each column whose name is a metric, as `{column}`.
   */
  cells: Record<string, string>;
  /** `mean`: each cell's `{}` is the mean, over the table's other rows, of the first number in that column. */
  derive: 'mean' | null;
  /** Why a row without a command is not a run (e.g. its command is not a genir command, or the code that made it is gone). */
  note: string | null;
}

export interface RegressionTable {
  /** The file it was read from. */
  file: string;
  /** Name of the marker pair in docs/results.md: `<!-- regressions:NAME -->` … `<!-- /regressions:NAME -->`. */
  table: string;
  /** Header of the first column. */
  rowHeader: string;
  /** Column headers, in order; every row gives each of them (from one of its entries). */
  columns: string[];
  entries: RegressionEntry[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{NAME}` placeholders of a cell template; `{}` is the derived value of a `derive` row. */
const PLACEHOLDER = /\{([^{}]*)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
}

const RUN_FIELDS = ['id', 'row', 'label', 'command', 'dataset', 'metrics', 'tolerance', 'decimals', 'quick', 'report', 'setup', 'cells'];
const DERIVED_FIELDS = ['id', 'row', 'label', 'derive', 'cells'];
const DOCUMENTED_FIELDS = ['id', 'row', 'label', 'note', 'cells'];

/** A script command: `node --import tsx scripts/<path>.ts …` (the script path is relative to the checkout). */
const SCRIPT_COMMAND = /^node --import tsx scripts\/[A-Za-z0-9_/.-]+\.ts( |$)/;

/** Whether a command runs a script of this repository rather than `genir`. */
export function isScriptCommand(command: string): boolean {
  return SCRIPT_COMMAND.test(command);
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
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated !== undefined) throw new UserError(`${file}: columns: '${repeated}' appears twice`);
  if (!Array.isArray(data.entries) || data.entries.length === 0) throw new UserError(`${file}: entries: expected a non-empty array`);
  const entries = data.entries.map((raw, i): RegressionEntry => {
    const at = `entries[${i}]`;
    if (!isObject(raw)) throw new UserError(`${file}: ${at}: expected an object`);
    const kind = raw.derive !== undefined ? 'derived' : raw.command === undefined && raw.note !== undefined ? 'documented' : 'run';
    const known = kind === 'derived' ? DERIVED_FIELDS : kind === 'documented' ? DOCUMENTED_FIELDS : RUN_FIELDS;
    const unknown = Object.keys(raw).find((key) => !known.includes(key));
    if (unknown !== undefined)
      throw new UserError(
        `${file}: ${at}.${unknown}: unknown field${kind === 'run' ? '' : ` in a ${kind} row`} (expected ${known.join(', ')})`,
      );
    const id = text_(raw.id, `${at}.id`);
    const row = text_(raw.row, `${at}.row`);
    const label = raw.label === undefined ? row : text_(raw.label, `${at}.label`);
    let cells: Record<string, string> | null = null;
    if (raw.cells !== undefined) {
      if (!isObject(raw.cells)) throw new UserError(`${file}: ${at}.cells: expected an object of column → cell text`);
      cells = {};
      for (const [column, template] of Object.entries(raw.cells)) {
        if (!columns.includes(column))
          throw new UserError(`${file}: ${at}.cells.${column}: not one of the columns (${columns.join(', ')})`);
        if (typeof template !== 'string') throw new UserError(`${file}: ${at}.cells.${column}: expected a string`);
        cells[column] = template;
      }
    }
    if (kind !== 'run') {
      if (cells === null || Object.keys(cells).length === 0)
        throw new UserError(`${file}: ${at}.cells: a row without a command gives its cells (an object of column → text)`);
      if (kind === 'derived' && raw.derive !== 'mean') throw new UserError(`${file}: ${at}.derive: expected 'mean'`);
      for (const [column, template] of Object.entries(cells)) {
        const names = placeholders(template);
        if (kind === 'derived' ? names.some((name) => name !== '') : names.length > 0)
          throw new UserError(
            `${file}: ${at}.cells.${column}: ${kind === 'derived' ? "a derived cell's only placeholder is {}" : 'a documented row has no placeholders (no run fills them)'}`,
          );
      }
      return {
        id,
        row,
        label,
        command: null,
        dataset: null,
        metrics: {},
        report: 'metrics',
        setup: [],
        tolerance: 0,
        decimals: 4,
        quick: true,
        cells,
        derive: kind === 'derived' ? 'mean' : null,
        note: kind === 'documented' ? text_(raw.note, `${at}.note`) : null,
      };
    }
    const command = text_(raw.command, `${at}.command`);
    const script = isScriptCommand(command);
    if (!script && (!command.startsWith('genir ') || !/(^| )--json( |$)/.test(command)))
      throw new UserError(`${file}: ${at}.command: expected 'genir … --json' or 'node --import tsx scripts/….ts …', got '${command}'`);
    if (!isObject(raw.metrics)) throw new UserError(`${file}: ${at}.metrics: expected an object of metric name → number`);
    const metrics: Record<string, number | null> = {};
    // Without cells every column is a metric of the entry; with cells the metrics are what its templates name.
    const names = cells === null ? columns : Object.keys(raw.metrics);
    for (const name of names) {
      const value = raw.metrics[name];
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value)))
        throw new UserError(
          `${file}: ${at}.metrics.${name}: expected a number, or null for none${cells === null ? ' (every entry without cells gives every column)' : ''}`,
        );
      metrics[name] = value;
    }
    if (cells === null) {
      const extra = Object.keys(raw.metrics).find((key) => !columns.includes(key));
      if (extra !== undefined) throw new UserError(`${file}: ${at}.metrics.${extra}: not one of the columns (${columns.join(', ')})`);
      cells = Object.fromEntries(columns.map((column) => [column, `{${column}}`]));
    } else {
      const used = new Set(Object.values(cells).flatMap(placeholders));
      for (const [column, template] of Object.entries(cells)) {
        const missing = placeholders(template).find((name) => !(name in metrics));
        if (missing !== undefined) throw new UserError(`${file}: ${at}.cells.${column}: {${missing}} is not one of the entry's metrics`);
      }
      const unused = Object.keys(metrics).find((name) => !used.has(name));
      if (unused !== undefined) throw new UserError(`${file}: ${at}.metrics.${unused}: no cell shows it`);
    }
    const tolerance = raw.tolerance;
    if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw new UserError(`${file}: ${at}.tolerance: expected a number >= 0`);
    const decimals = raw.decimals ?? 4;
    if (typeof decimals !== 'number' || !Number.isInteger(decimals) || decimals < 0 || decimals > 8)
      throw new UserError(`${file}: ${at}.decimals: expected a whole number from 0 to 8`);
    if (typeof raw.quick !== 'boolean') throw new UserError(`${file}: ${at}.quick: expected true or false`);
    // npm test runs the quick entries in process through the CLI; a script is run by the regressions script only.
    if (script && raw.quick) throw new UserError(`${file}: ${at}.quick: a script command is not quick (only 'genir' commands are)`);
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
      id,
      row,
      label,
      command,
      dataset: text_(raw.dataset, `${at}.dataset`),
      metrics,
      tolerance,
      decimals,
      quick: raw.quick,
      report,
      setup,
      cells,
      derive: null,
      note: null,
    };
  });
  for (const row of tableRows(entries)) {
    const other = row.entries.find((entry) => entry.label !== row.entries[0].label);
    if (other !== undefined)
      throw new UserError(`${file}: row '${row.row}': ${row.entries[0].id} and ${other.id} show different first cells (label)`);
    const given = new Map<string, string>();
    for (const entry of row.entries) {
      for (const column of Object.keys(entry.cells)) {
        const other = given.get(column);
        if (other !== undefined) throw new UserError(`${file}: row '${row.row}': column '${column}' is given by ${other} and ${entry.id}`);
        given.set(column, entry.id);
      }
    }
    const missing = columns.find((column) => !given.has(column));
    if (missing !== undefined) throw new UserError(`${file}: row '${row.row}': no entry gives column '${missing}'`);
  }
  return { file, table, rowHeader, columns, entries };
}

/** The table's rows in order of first appearance, each with the entries that give its cells. */
function tableRows(entries: readonly RegressionEntry[]): { row: string; entries: RegressionEntry[] }[] {
  const rows = new Map<string, RegressionEntry[]>();
  for (const entry of entries) rows.set(entry.row, [...(rows.get(entry.row) ?? []), entry]);
  return [...rows].map(([row, members]) => ({ row, entries: members }));
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

/** The arguments after `genir` (or after `node`, for a script command) of a documented command (they have no quoting). */
export function commandArgs(command: string): string[] {
  return command.split(/\s+/).slice(1);
}

interface PathStep {
  field: string;
  /** Pick the first array element with these field values. */
  where?: [string, string][];
}

/** `rows[method=sft,docids=pq].metrics` → its steps (`.`: none, the line's own fields); throws an Error saying what is wrong. */
export function parseReportPath(path: string): PathStep[] {
  if (path === '.') return [];
  return path.split('.').map((segment) => {
    const match = /^([A-Za-z0-9_@-]+)(?:\[([^\]]+)\])?$/.exec(segment);
    if (match === null) throw new Error(`'${path}': expected fields separated by '.', each optionally followed by [key=value,…]`);
    if (match[2] === undefined) return { field: match[1] };
    // A value may hold a comma ('hybrid (sft + bm25, RRF)'): a pair starts only where `key=` follows the comma.
    const where = match[2].split(/,(?=[A-Za-z0-9_@-]+=)/).map((pair): [string, string] => {
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

/**
 * The metrics of a command's last stdout line (`"metrics": {…}`, as every `--json` report of genir
 * has them, or the object or array at the entry's report path).
 */
export function printedMetrics(stdout: string, entry: RegressionEntry): Record<string, number> {
  const last = stdout.trimEnd().split('\n').pop() ?? '';
  let report: Json;
  try {
    report = JSON.parse(last) as Json;
  } catch {
    throw new UserError(`${entry.id}: the last line of '${entry.command}' is not JSON`);
  }
  const found = atPath(report, entry.report);
  // An array (e.g. one value per seed) is read by index: metrics "0", "1", ….
  const metrics = Array.isArray(found) ? Object.fromEntries(found.map((value, i) => [String(i), value])) : found;
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

/** One line per metric outside its tolerance once rounded to the entry's decimals; empty when the run reproduces the entry. */
export function mismatches(entry: RegressionEntry, printed: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(entry.metrics)) {
    if (expected === null) continue;
    const value = printed[name];
    const rounded = Number(value.toFixed(entry.decimals));
    // 1e-9 absorbs the binary representation of decimal numbers, not a real difference.
    if (Math.abs(rounded - expected) > entry.tolerance + 1e-9) {
      problems.push(
        `${entry.id} ${name}: printed ${value.toFixed(entry.decimals)}, expected ${expected.toFixed(entry.decimals)}${entry.tolerance > 0 ? ` ± ${entry.tolerance}` : ''}`,
      );
    }
  }
  return problems;
}

/**
 * The Markdown table of the printed numbers (each entry's decimals), rows in the order they first appear in
 * the file; `printed` has the metrics of every entry that has a command.
 */
export function renderTable(table: RegressionTable, printed: ReadonlyMap<string, Readonly<Record<string, number | null>>>): string {
  const lines = [
    `| ${table.rowHeader} | ${table.columns.join(' | ')} |`,
    `|${' --- |'.repeat(table.columns.length + 1)}`.replace(/ --- /g, '---'),
  ];
  const rows = tableRows(table.entries);
  // The first number of each column of each measured row: what a derived (mean) row averages.
  const firstNumbers = new Map<string, number[]>(table.columns.map((column) => [column, []]));
  const rendered = rows.map((row) => {
    const cells = new Map<string, string>();
    if (row.entries.some((entry) => entry.derive !== null)) return { row, cells };
    for (const entry of row.entries) {
      const values = entry.command === null ? {} : printed.get(entry.id);
      if (values === undefined) throw new Error(`renderTable: no run of ${entry.id}`);
      for (const [column, template] of Object.entries(entry.cells)) {
        let first = true;
        cells.set(
          column,
          template.replace(PLACEHOLDER, (_, name: string) => {
            const value = entry.metrics[name] === null ? null : (values[name] ?? null);
            if (first && value !== null) firstNumbers.get(column)!.push(value);
            first = false;
            return value === null ? '–' : value.toFixed(entry.decimals);
          }),
        );
      }
    }
    return { row, cells };
  });
  for (const { row, cells } of rendered) {
    for (const entry of row.entries.filter((e) => e.derive !== null)) {
      for (const [column, template] of Object.entries(entry.cells)) {
        const numbers = firstNumbers.get(column)!;
        const mean = numbers.length === 0 ? '–' : (numbers.reduce((a, b) => a + b, 0) / numbers.length).toFixed(4);
        cells.set(column, template.replace(PLACEHOLDER, mean));
      }
    }
    // An empty cell is one space between its bars, as a Markdown table is usually written.
    lines.push(
      `|${[row.entries[0].label, ...table.columns.map((column) => cells.get(column)!)].map((cell) => (cell === '' ? ' ' : ` ${cell} `)).join('|')}|`,
    );
  }
  return lines.join('\n');
}

/** The values each run of the table is expected to print: rendering them gives the documented table. */
export function expectedValues(table: RegressionTable): Map<string, Record<string, number | null>> {
  return new Map(table.entries.filter((e) => e.command !== null).map((e) => [e.id, e.metrics]));
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
