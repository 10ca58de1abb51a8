import { text as readStream } from 'node:stream/consumers';
import type { Command } from 'commander';
import { isDenseModelDirectory } from '../../model/dense-directory.js';
import { QueryIdTracker } from '../../data/corpus.js';
import { readTextFile } from '../../data/lines.js';
import { writeRun } from '../../data/trec.js';
import type { Query } from '../../data/types.js';
import { formatTable } from '../../eval/report.js';
import { DEFAULT_BEAM } from '../../search/beam.js';
import { DEFAULT_MAX_QUERY_TOKENS, GenerativeSearcher, type SearchHit } from '../../search/searcher.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError, where } from '../../util/errors.js';
import { UsageError } from '../program.js';
import { refuseGenerativeOptions, runDenseSearch, runDenseSearchMany } from './dense.js';

export interface SearchCommandOptions {
  model: string;
  k?: string;
  beam?: string;
  renormalize?: boolean;
  threads?: string;
  json?: boolean;
}

export interface SearchManyCommandOptions extends SearchCommandOptions {
  /** A query file, or `-` for stdin. */
  queries: string;
  batch?: string;
  runOut?: string;
}

/**
 * The longest query accepted, in characters. The model reads only the first 128 tokens of a
 * query (a few hundred characters), so nothing longer can change the ranking; a limit also
 * keeps absurd command lines out (onnxruntime's telemetry crashed on ~29 KB ones).
 */
export const MAX_QUERY_CHARS = 4096;

/** What `genir search --json` prints as its last line. */
export interface SearchReport {
  model: string;
  query: string;
  beam: number;
  k: number;
  load_ms: number;
  search_ms: number;
  results: { rank: number; docId: string; title: string | null; score: number }[];
}

/** Parses a positive integer option; a bad value is a user error naming the option. */
export function parseCount(value: string, option: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`${option} ${value}: expected a positive integer`);
  return n;
}

/** Beam and k from the options: beam defaults to 10, k to min(10, beam); k may not exceed beam. */
export function beamAndK(options: { beam?: string; k?: string }): { beam: number; k: number } {
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? Math.min(10, beam) : parseCount(options.k, '--k');
  if (k > beam) throw new UserError(`--k ${k} is larger than --beam ${beam}: beam search keeps only beam hypotheses, so k must be ≤ beam`);
  return { beam, k };
}

export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('rank documents for a query, or for every query of a file, with a trained generative retriever (trie-constrained beam search over docids)')
    .option('--model <dir>', 'model directory written by genir train sft (or by genir train dense)')
    .option('--dense <dir>', 'dense model directory written by genir train dense: exact inner-product top-k over its document vectors')
    .argument('[query...]', `query text (several words are joined with spaces; at most ${MAX_QUERY_CHARS} characters)`)
    .option('--queries <file>', "search every query of a file instead: one per line, or 'qid<TAB>text' per line; - reads stdin")
    .option('--run-out <file>', 'with --queries: write the ranking as a TREC run file')
    .option('--batch <n>', 'with --queries: queries per beam-search batch (default 16)')
    .option('--k <n>', 'documents to return (default: 10, at most --beam)')
    .option('--beam <n>', 'beam width', String(DEFAULT_BEAM))
    .option('--renormalize', 'score docids under the distribution renormalised over the tokens the trie allows')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (words: string[], options: Partial<SearchCommandOptions> & { dense?: string; queries?: string; runOut?: string; batch?: string }, command: Command) => {
      const dense = denseModelOf(options);
      if (dense !== undefined) {
        refuseGenerativeOptions(command);
        if (options.queries !== undefined) {
          if (words.length > 0) throw new UserError('give either a query or --queries <file>, not both');
          await runDenseSearchMany({ ...options, dense, queries: options.queries });
          return;
        }
        if (options.runOut !== undefined) throw new UserError('--run-out applies to --queries <file>; give the queries in a file to write a run');
        if (options.batch !== undefined) throw new UserError('--batch applies to --queries <file>');
        if (words.length === 0) throw new UserError("no query: give the query text, or --queries <file> ('-' for stdin)");
        await runDenseSearch(words.join(' '), { ...options, dense });
        return;
      }
      if (options.model === undefined) throw new UsageError("required option '--model <dir>' (or '--dense <dir>') not specified", 'genir search');
      const generative = { ...options, model: options.model };
      if (options.queries !== undefined) {
        if (words.length > 0) throw new UserError('give either a query or --queries <file>, not both');
        await runSearchMany({ ...generative, queries: options.queries });
        return;
      }
      if (options.runOut !== undefined) throw new UserError('--run-out applies to --queries <file>; give the queries in a file to write a run');
      if (options.batch !== undefined) throw new UserError('--batch applies to --queries <file>');
      if (words.length === 0) throw new UserError("no query: give the query text, or --queries <file> ('-' for stdin)");
      await runSearch(words.join(' '), generative);
    });
}

/**
 * The dense model a command names: `--dense <dir>`, or `--model <dir>` when that directory
 * holds a dense retriever; undefined for a generative model. Both options at once is an error.
 */
export function denseModelOf(options: { model?: string; dense?: string }): string | undefined {
  if (options.dense !== undefined && options.model !== undefined) throw new UserError('give either --model or --dense, not both');
  if (options.dense !== undefined) return options.dense;
  return options.model !== undefined && isDenseModelDirectory(options.model) ? options.model : undefined;
}

/** A query longer than MAX_QUERY_CHARS is a user error; `place` says where it came from. */
export function checkQueryLength(text: string, place: string): void {
  if (text.length > MAX_QUERY_CHARS) {
    throw new UserError(`${place}the query is ${text.length} characters; at most ${MAX_QUERY_CHARS} are accepted (the model reads its first ${DEFAULT_MAX_QUERY_TOKENS} tokens)`);
  }
}

/**
 * Parses a query file: one query per line (its id is the line number), or `qid<TAB>text` on
 * every line; the first non-empty line decides which. Blank lines are skipped. Ids must be
 * unique and free of spaces (they become TREC run ids).
 */
export function parseQueryFile(content: string, path: string): Query[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.findIndex((line) => line.trim() !== '');
  if (firstLine < 0) throw new UserError(`${path}: no queries (the file is empty)`);
  const tabSeparated = lines[firstLine].includes('\t');
  const ids = new QueryIdTracker(path);
  const queries: Query[] = [];
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    let id: string;
    let text: string;
    if (tabSeparated) {
      const tab = line.indexOf('\t');
      if (tab < 0) throw new UserError(`${where(path, lineNo)}expected 'qid<TAB>text' as on line ${firstLine + 1}, found no tab`);
      id = line.slice(0, tab).trim();
      text = line.slice(tab + 1).trim();
      if (id === '' || /\s/.test(id)) throw new UserError(`${where(path, lineNo)}query id '${id}' is empty or contains spaces`);
      if (text === '') throw new UserError(`${where(path, lineNo)}query '${id}' has no text`);
    } else {
      if (line.includes('\t')) {
        throw new UserError(`${where(path, lineNo)}has a tab, but line ${firstLine + 1} has none: use 'qid<TAB>text' on every line, or one query per line`);
      }
      id = String(lineNo);
      text = line.trim();
    }
    checkQueryLength(text, where(path, lineNo));
    ids.add(id, lineNo);
    queries.push({ id, text });
  });
  return queries;
}

/** Reads the queries of `--queries`: a file, or stdin for `-`. */
export async function readQueryFile(path: string): Promise<Query[]> {
  if (path === '-') return parseQueryFile(await readStream(process.stdin), '<stdin>');
  return parseQueryFile(await readTextFile(path, 'queries file'), path);
}

function resultsOf(hits: readonly SearchHit[]): SearchReport['results'] {
  return hits.map((hit) => ({ rank: hit.rank, docId: hit.docId, title: hit.title ?? null, score: hit.score }));
}

/** Rank, log-probability, document and title; the title goes last, unaligned (formatTable right-aligns every column after the first). */
function resultsTable(hits: readonly SearchHit[]): string {
  if (hits.length === 0) return '(no documents)';
  return formatTable([['rank', 'log p', 'document'], ...hits.map((hit) => [String(hit.rank), hit.score.toFixed(4), hit.docId])])
    .split('\n')
    .map((line, i) => `${line}  ${i === 0 ? 'title' : (hits[i - 1].title ?? '')}`.trimEnd())
    .join('\n');
}

/** Runs `genir search` for one query; the report goes to `write` (stdout by default). */
export async function runSearch(query: string, options: SearchCommandOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<SearchReport> {
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  if (query.trim() === '') throw new UserError('the query is empty');
  // Before any ONNX session exists: a query this long is a mistake, not a search.
  checkQueryLength(query, '');
  const loadStart = performance.now();
  const searcher = await GenerativeSearcher.open(options.model, { threads, spinning: false });
  const loadMs = performance.now() - loadStart;
  let hits: SearchHit[];
  const searchStart = performance.now();
  try {
    [hits] = await searcher.search([query], { beam, k, renormalize: options.renormalize });
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  const report: SearchReport = {
    model: options.model,
    query,
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: resultsOf(hits),
  };
  const lines = [
    `query: ${query}`,
    `model ${options.model}: ${searcher.docids.size} documents (${searcher.docids.scheme} docids); beam ${beam}, top ${k}; searched in ${report.search_ms} ms (model loaded in ${report.load_ms} ms)`,
    '',
    resultsTable(hits),
  ];
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}

/** What `genir search --queries … --json` prints as its last line. */
export interface SearchManyReport {
  model: string;
  queries: number;
  beam: number;
  k: number;
  load_ms: number;
  search_ms: number;
  ms_per_query: number;
  run_out: string | null;
  results: { id: string; query: string; results: SearchReport['results'] }[];
}

/**
 * Runs `genir search --queries <file>`: every query in batches with one model load; a
 * ranking per query on stdout, or with --run-out a TREC run file and a summary.
 */
export async function runSearchMany(options: SearchManyCommandOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<SearchManyReport> {
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const batch = options.batch === undefined ? 16 : parseCount(options.batch, '--batch');
  if (options.runOut !== undefined) checkWritableFile(options.runOut, '--run-out');
  const queries = await readQueryFile(options.queries);
  const loadStart = performance.now();
  const searcher = await GenerativeSearcher.open(options.model, { threads, spinning: false });
  const loadMs = performance.now() - loadStart;
  let hits: SearchHit[][];
  const searchStart = performance.now();
  try {
    hits = await searcher.search(queries.map((query) => query.text), { beam, k, renormalize: options.renormalize, batchQueries: batch });
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  if (options.runOut !== undefined) {
    await writeRun(options.runOut, new Map(queries.map((query, i) => [query.id, hits[i].map((hit) => ({ docId: hit.docId, score: hit.score }))])), 'genir');
  }
  const report: SearchManyReport = {
    model: options.model,
    queries: queries.length,
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    ms_per_query: Math.round((searchMs / queries.length) * 100) / 100,
    run_out: options.runOut ?? null,
    results: queries.map((query, i) => ({ id: query.id, query: query.text, results: resultsOf(hits[i]) })),
  };
  const source = options.queries === '-' ? 'stdin' : options.queries;
  const lines = [
    `model ${options.model}: ${searcher.docids.size} documents (${searcher.docids.scheme} docids); beam ${beam}, top ${k}; ` +
      `${queries.length} queries from ${source} searched in ${report.search_ms} ms (${report.ms_per_query} ms per query; model loaded in ${report.load_ms} ms)`,
  ];
  if (options.runOut !== undefined) lines.push(`run written to ${options.runOut}`);
  else queries.forEach((query, i) => lines.push('', `query ${query.id}: ${query.text}`, resultsTable(hits[i])));
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
