import type { Command } from 'commander';
import { isDenseModelDirectory } from '../../retriever/dense-directory.js';
import { writeRun } from '../../data/trec.js';
import { formatTable } from '../../eval/report.js';
import { DEFAULT_BEAM } from '../../search/beam.js';
import { loadModelDocuments, type DocumentStore } from '../../search/documents.js';
import { snippet } from '../../search/snippet.js';
import { HybridSearcher, interpolation, type FusionSpec, type HybridHit } from '../../search/hybrid.js';
import { GenerativeSearcher, MAX_QUERY_CHARS, type SearchHit } from '../../search/searcher.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UsageError, UserError, warn } from '../../util/errors.js';
import { checkDevice, parseDevice } from '../../engine/device.js';
import {
  addHybridOptions,
  parseHybridOptions,
  type HybridCommandOptions,
  type HybridSettings,
  type RetrievalMode,
} from './hybrid-options.js';
import { refuseGenerativeOptions, runDenseSearch, runDenseSearchMany } from './dense.js';
import {
  parseCount,
  parseQuantize,
  quantizeOption,
  refuseOptions,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';
import { checkQueryLength, readQueryFile } from '../queries.js';

export interface SearchCommandOptions extends HybridCommandOptions {
  model: string;
  k?: string;
  beam?: string;
  renormalize?: boolean;
  threads?: string;
  device?: string;
  quantize?: string;
  index?: string;
  dataDir?: string;
  lang?: string;
  json?: boolean;
}

export interface SearchManyCommandOptions extends SearchCommandOptions {
  /** A query file, or `-` for stdin. */
  queries: string;
  batch?: string;
  runOut?: string;
}

/** What `genir search --json` prints as its last line. */
export interface SearchReport {
  model: string;
  query: string;
  mode: RetrievalMode;
  beam: number;
  k: number;
  /** hybrid: BM25 documents fused per query, and the fusion. */
  bm25_depth?: number;
  fusion?: FusionSpec;
  load_ms: number;
  search_ms: number;
  /** score: log p (genir), the BM25 score (bm25) or the fused score (hybrid), which also gives each system's rank. */
  results: {
    rank: number;
    docId: string;
    title: string | null;
    snippet?: string | null;
    score: number;
    genir_rank?: number | null;
    bm25_rank?: number | null;
  }[];
}

/** The fusion the settings name; interpolation needs α (search has no dev split to tune it on). */
export function fusionSpec(settings: HybridSettings, alpha = settings.alpha): FusionSpec {
  if (settings.fusion === 'rrf') return { method: 'rrf', k: settings.rrfK };
  if (alpha === undefined)
    throw new UserError('--fusion interp needs --alpha <a> (genir eval --mode hybrid --fusion interp tunes it on a dev split)');
  return interpolation(alpha, settings.normalization);
}

/** Beam and k from the options: beam defaults to 10, k to min(10, beam); k may not exceed beam. */
export function beamAndK(options: { beam?: string; k?: string }): { beam: number; k: number } {
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? Math.min(10, beam) : parseCount(options.k, '--k');
  if (k > beam) throw new UserError(`--k ${k} is larger than --beam ${beam}: beam search keeps only beam hypotheses, so k must be ≤ beam`);
  return { beam, k };
}

export function registerSearchCommand(program: Command, write: Write): void {
  addHybridOptions(
    program
      .command('search')
      .description(
        'rank documents for a query, or every query of a file, with a trained generative retriever (trie-constrained beam search over docids), BM25 over its corpus, both fused, or a dense retriever',
      )
      .option('--model <dir>', 'model directory written by genir train sft (or by genir train dense)')
      .option('--dense <dir>', 'dense model directory written by genir train dense: exact inner-product top-k over its document vectors')
      .argument('[query...]', `query text (several words are joined with spaces; at most ${MAX_QUERY_CHARS} characters)`)
      .option(
        '--queries <file>',
        "search every query of a file instead: one per line, or 'qid<TAB>text' per line; - reads stdin (--mode genir, or dense)",
      )
      .option('--run-out <file>', 'with --queries: write the ranking as a TREC run file')
      .option('--batch <n>', 'with --queries: queries per beam-search batch (default 16)')
      .option('--k <n>', 'documents to return (default: 10; with --mode genir at most --beam)')
      .option('--beam <n>', 'beam width (with --mode hybrid: the GenIR documents fused)', String(DEFAULT_BEAM))
      .option('--renormalize', 'score docids under the distribution renormalised over the tokens the trie allows'),
  )
    .option(
      '--index <file>',
      "with --mode bm25 or hybrid: a BM25 index of the model's corpus (genir bm25 --index-out) instead of building one from its dataset",
    )
    .addOption(
      dataDirOption("where the model's dataset lives, for snippets and BM25 (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)"),
    )
    .option('--lang <code>', 'with --mode bm25 or hybrid: the query language, for the multilingual analyzer')
    .addOption(threadsOption())
    .option('--device <cpu|cuda>', "where ONNX Runtime runs (cuda needs onnxruntime-node's CUDA binaries)", 'cpu')
    .addOption(quantizeOption())
    .addOption(jsonOption())
    .action(
      async (
        words: string[],
        options: Partial<SearchCommandOptions> & { dense?: string; queries?: string; runOut?: string; batch?: string },
        command: Command,
      ) => {
        const dense = denseModelOf(options);
        if (dense !== undefined) {
          refuseGenerativeOptions(command);
          if (options.queries !== undefined) {
            if (words.length > 0) throw new UserError('give either a query or --queries <file>, not both');
            await runDenseSearchMany({ ...options, dense, queries: options.queries }, write);
            return;
          }
          if (options.runOut !== undefined)
            throw new UserError('--run-out applies to --queries <file>; give the queries in a file to write a run');
          if (options.batch !== undefined) throw new UserError('--batch applies to --queries <file>');
          if (words.length === 0) throw new UserError("no query: give the query text, or --queries <file> ('-' for stdin)");
          await runDenseSearch(words.join(' '), { ...options, dense }, write);
          return;
        }
        if (options.model === undefined)
          throw new UsageError("required option '--model <dir>' (or '--dense <dir>') not specified", 'genir search');
        const generative = { ...options, model: options.model };
        if (options.queries !== undefined) {
          if (words.length > 0) throw new UserError('give either a query or --queries <file>, not both');
          await runSearchMany({ ...generative, queries: options.queries }, write);
          return;
        }
        if (options.runOut !== undefined)
          throw new UserError('--run-out applies to --queries <file>; give the queries in a file to write a run');
        if (options.batch !== undefined) throw new UserError('--batch applies to --queries <file>');
        if (words.length === 0) throw new UserError("no query: give the query text, or --queries <file> ('-' for stdin)");
        await runSearch(words.join(' '), generative, write);
      },
    );
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

/** --index and --lang are for the BM25 side; with --mode genir they would be silently ignored. */
function rejectCorpusOptions(options: SearchCommandOptions): void {
  refuseOptions(
    [
      [options.index, '--index'],
      [options.lang, '--lang'],
    ],
    '--mode bm25 or hybrid, not --mode genir',
  );
}

/**
 * The model's corpus, for snippets: read from the dataset its manifest names. Without it (the
 * dataset is not in the data folder) the results still print, without text, after one warning.
 */
async function documentsFor(options: SearchCommandOptions): Promise<DocumentStore | undefined> {
  try {
    return await loadModelDocuments(options.model, options.dataDir);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    warn(`no document text for snippets (${err.message})`);
    return undefined;
  }
}

/** Each hit's snippet: the passage of its text that best matches the query (null without text). */
function snippetsOf(docIds: readonly string[], query: string, documents: DocumentStore | undefined, lang?: string): (string | null)[] {
  return docIds.map((docId) => {
    const doc = documents?.get(docId, lang);
    return doc === undefined ? null : snippet(doc.text, query);
  });
}

/** A results table with each hit's snippet on an indented line below its row. */
function withSnippets(table: string, snippets: readonly (string | null)[]): string {
  return table
    .split('\n')
    .flatMap((line, i) => (i === 0 || snippets[i - 1] === null ? [line] : [line, `      ${snippets[i - 1]}`]))
    .join('\n');
}

/** Runs `genir search` for one query; the report goes to `write` (stdout by default). */
export async function runSearch(query: string, options: SearchCommandOptions, write: Write): Promise<SearchReport> {
  const settings = parseHybridOptions(options);
  // Before any ONNX session exists: a query this long is a mistake, not a search.
  checkQueryLength(query, '');
  if (settings.mode !== 'genir') return runCorpusSearch(query, options, settings, write);
  rejectCorpusOptions(options);
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  if (query.trim() === '') throw new UserError('the query is empty');
  const loadStart = performance.now();
  const device = parseDevice(options.device ?? 'cpu');
  checkDevice(device);
  const quantize = parseQuantize(options.quantize);
  const searcher = await GenerativeSearcher.open(options.model, { threads, device, quantize });
  const loadMs = performance.now() - loadStart;
  let hits: SearchHit[];
  const searchStart = performance.now();
  try {
    [hits] = await searcher.search([query], { beam, k, renormalize: options.renormalize });
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  const snippets = snippetsOf(
    hits.map((hit) => hit.docId),
    query,
    await documentsFor(options),
  );
  const report: SearchReport = {
    model: options.model,
    query,
    mode: 'genir',
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: resultsOf(hits).map((result, i) => ({ ...result, snippet: snippets[i] })),
  };
  const lines = [
    `query: ${query}`,
    `model ${options.model}: ${searcher.docids.size} documents (${searcher.docids.scheme} docids); beam ${beam}, top ${k}; searched in ${report.search_ms} ms (model loaded in ${report.load_ms} ms)`,
    '',
    withSnippets(resultsTable(hits), snippets),
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
export async function runSearchMany(options: SearchManyCommandOptions, write: Write): Promise<SearchManyReport> {
  const settings = parseHybridOptions(options);
  if (settings.mode !== 'genir')
    throw new UserError(
      `--queries searches with --mode genir; for --mode ${settings.mode} over a dataset's queries use genir eval --model <dir> --dataset <id> --mode ${settings.mode}`,
    );
  rejectCorpusOptions(options);
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const batch = options.batch === undefined ? 16 : parseCount(options.batch, '--batch');
  if (parseHybridOptions(options).mode !== 'genir')
    throw new UserError(
      '--queries searches with --mode genir; for BM25 or hybrid runs over a dataset use genir eval --model <dir> --mode bm25|hybrid --run-out <file>',
    );
  if (options.runOut !== undefined) checkWritableFile(options.runOut, '--run-out');
  const quantize = parseQuantize(options.quantize);
  const queries = await readQueryFile(options.queries);
  const loadStart = performance.now();
  const searcher = await GenerativeSearcher.open(options.model, { threads, quantize });
  const loadMs = performance.now() - loadStart;
  let hits: SearchHit[][];
  const searchStart = performance.now();
  try {
    hits = await searcher.search(
      queries.map((query) => query.text),
      { beam, k, renormalize: options.renormalize, batchQueries: batch },
    );
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  if (options.runOut !== undefined) {
    await writeRun(
      options.runOut,
      new Map(queries.map((query, i) => [query.id, hits[i].map((hit) => ({ docId: hit.docId, score: hit.score }))])),
      'genir',
    );
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

/** `genir search --mode bm25|hybrid`: BM25 over the model's corpus, alone or fused with GenIR. */
async function runCorpusSearch(
  query: string,
  options: SearchCommandOptions,
  settings: HybridSettings,
  write: (text: string) => void,
): Promise<SearchReport> {
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? 10 : parseCount(options.k, '--k');
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const fusion = settings.mode === 'hybrid' ? fusionSpec(settings) : undefined;
  if (settings.mode === 'bm25' && options.renormalize)
    throw new UserError('--renormalize applies to --mode genir or hybrid, not --mode bm25');
  if (settings.mode === 'bm25' && options.quantize !== undefined)
    throw new UserError('--quantize applies to --mode genir or hybrid, not --mode bm25');
  const quantize = parseQuantize(options.quantize);
  if (query.trim() === '') throw new UserError('the query is empty');
  const loadStart = performance.now();
  const searcher = await HybridSearcher.open(options.model, {
    threads,
    quantize,
    dataDir: options.dataDir,
    index: options.index,
  });
  const loadMs = performance.now() - loadStart;
  const searchStart = performance.now();
  let hits: HybridHit[];
  try {
    if (fusion !== undefined) {
      [hits] = await searcher.search([{ text: query, lang: options.lang }], {
        beam,
        k,
        fusion,
        bm25Depth: settings.bm25Depth,
        renormalize: options.renormalize,
        bm25Threads: 1,
        progress: false,
      });
    } else {
      const entries = (await searcher.bm25Run([{ id: 'q', text: query, lang: options.lang }], k, 1)).get('q') ?? [];
      hits = entries.map((entry, i) => ({
        rank: i + 1,
        docId: entry.docId,
        title: searcher.generative.titles?.get(entry.docId),
        score: entry.score,
        genirRank: null,
        bm25Rank: i + 1,
      }));
    }
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  const hybrid = fusion !== undefined;
  const snippets = snippetsOf(
    hits.map((hit) => hit.docId),
    query,
    await documentsFor(options),
    options.lang,
  );
  const report: SearchReport = {
    model: options.model,
    query,
    mode: settings.mode,
    beam,
    k,
    ...(fusion !== undefined ? { bm25_depth: settings.bm25Depth, fusion } : {}),
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: hits.map((hit, i) => ({
      rank: hit.rank,
      docId: hit.docId,
      title: hit.title ?? null,
      snippet: snippets[i],
      score: hit.score,
      ...(hybrid ? { genir_rank: hit.genirRank, bm25_rank: hit.bm25Rank } : {}),
    })),
  };
  const rank = (value: number | null) => (value === null ? '–' : String(value));
  const header = hybrid ? ['rank', 'fused', 'genir', 'bm25', 'document'] : ['rank', 'bm25', 'document'];
  const rows = hits.map((hit) =>
    hybrid
      ? [String(hit.rank), hit.score.toFixed(4), rank(hit.genirRank), rank(hit.bm25Rank), hit.docId]
      : [String(hit.rank), hit.score.toFixed(4), hit.docId],
  );
  const table = formatTable([header, ...rows])
    .split('\n')
    .map((line, i) => `${line}  ${i === 0 ? 'title' : (hits[i - 1].title ?? '')}`.trimEnd())
    .join('\n');
  const how =
    fusion === undefined
      ? `BM25 top ${k}`
      : `${fusion.method === 'rrf' ? `RRF (k ${fusion.k ?? 60})` : `interpolation (alpha ${fusion.weights[0]}, ${fusion.normalization ?? 'minmax'})`} of GenIR's beam ${beam} and BM25's top ${settings.bm25Depth}; top ${k}`;
  const lines = [
    `query: ${query}`,
    `model ${options.model}: ${searcher.generative.docids.size} documents; ${how}; searched in ${report.search_ms} ms (model and index loaded in ${report.load_ms} ms)`,
    '',
    hits.length > 0 ? withSnippets(table, snippets) : '(no documents)',
  ];
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
