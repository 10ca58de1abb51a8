import type { Command } from 'commander';
import { formatTable } from '../../eval/report.js';
import { DEFAULT_BEAM } from '../../search/beam.js';
import { HybridSearcher, interpolation, type FusionSpec, type HybridHit } from '../../search/hybrid.js';
import { GenerativeSearcher, type SearchHit } from '../../search/searcher.js';
import { UserError } from '../../util/errors.js';
import { addHybridOptions, parseHybridOptions, type HybridCommandOptions, type HybridSettings, type RetrievalMode } from './hybrid-options.js';

export interface SearchCommandOptions extends HybridCommandOptions {
  model: string;
  k?: string;
  beam?: string;
  renormalize?: boolean;
  threads?: string;
  index?: string;
  dataDir?: string;
  lang?: string;
  json?: boolean;
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
  results: { rank: number; docId: string; title: string | null; score: number; genir_rank?: number | null; bm25_rank?: number | null }[];
}

/** The fusion the settings name; interpolation needs α (search has no dev split to tune it on). */
export function fusionSpec(settings: HybridSettings, alpha = settings.alpha): FusionSpec {
  if (settings.fusion === 'rrf') return { method: 'rrf', k: settings.rrfK };
  if (alpha === undefined) throw new UserError('--fusion interp needs --alpha <a> (genir eval --mode hybrid --fusion interp tunes it on a dev split)');
  return interpolation(alpha, settings.normalization);
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
  addHybridOptions(
    program
      .command('search')
      .description('rank documents for a query with a trained generative retriever (trie-constrained beam search over docids), BM25 over its corpus, or both fused')
      .requiredOption('--model <dir>', 'model directory written by genir train sft')
      .argument('<query...>', 'query text (several words are joined with spaces)')
      .option('--k <n>', 'documents to return (default: 10; with --mode genir at most --beam)')
      .option('--beam <n>', 'beam width (with --mode hybrid: the GenIR documents fused)', String(DEFAULT_BEAM))
      .option('--renormalize', 'score docids under the distribution renormalised over the tokens the trie allows'),
  )
    .option('--index <file>', "with --mode bm25 or hybrid: a BM25 index of the model's corpus (genir bm25 --index-out) instead of building one from its dataset")
    .option('--data-dir <dir>', "with --mode bm25 or hybrid: where the model's dataset lives (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)")
    .option('--lang <code>', 'with --mode bm25 or hybrid: the query language, for the multilingual analyzer')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (words: string[], options: SearchCommandOptions) => {
      await runSearch(words.join(' '), options);
    });
}

/** Runs `genir search`; the report goes to `write` (stdout by default). */
export async function runSearch(query: string, options: SearchCommandOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<SearchReport> {
  const settings = parseHybridOptions(options);
  if (settings.mode !== 'genir') return runCorpusSearch(query, options, settings, write);
  for (const [value, flag] of [[options.index, '--index'], [options.dataDir, '--data-dir'], [options.lang, '--lang']] as const) {
    if (value !== undefined) throw new UserError(`${flag} applies to --mode bm25 or hybrid, not --mode genir`);
  }
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  if (query.trim() === '') throw new UserError('the query is empty');
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
    mode: 'genir',
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: hits.map((hit) => ({ rank: hit.rank, docId: hit.docId, title: hit.title ?? null, score: hit.score })),
  };
  // The title goes last, unaligned: formatTable right-aligns every column after the first.
  const table = formatTable([['rank', 'log p', 'document'], ...hits.map((hit) => [String(hit.rank), hit.score.toFixed(4), hit.docId])])
    .split('\n')
    .map((line, i) => `${line}  ${i === 0 ? 'title' : (hits[i - 1].title ?? '')}`.trimEnd())
    .join('\n');
  const lines = [
    `query: ${query}`,
    `model ${options.model}: ${searcher.docids.size} documents (${searcher.docids.scheme} docids); beam ${beam}, top ${k}; searched in ${report.search_ms} ms (model loaded in ${report.load_ms} ms)`,
    '',
    hits.length > 0 ? table : '(no documents)',
  ];
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}

/** `genir search --mode bm25|hybrid`: BM25 over the model's corpus, alone or fused with GenIR. */
async function runCorpusSearch(query: string, options: SearchCommandOptions, settings: HybridSettings, write: (text: string) => void): Promise<SearchReport> {
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? 10 : parseCount(options.k, '--k');
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const fusion = settings.mode === 'hybrid' ? fusionSpec(settings) : undefined;
  if (settings.mode === 'bm25' && options.renormalize) throw new UserError('--renormalize applies to --mode genir or hybrid, not --mode bm25');
  if (query.trim() === '') throw new UserError('the query is empty');
  const loadStart = performance.now();
  const searcher = await HybridSearcher.open(options.model, { threads, spinning: false, dataDir: options.dataDir, index: options.index });
  const loadMs = performance.now() - loadStart;
  const searchStart = performance.now();
  let hits: HybridHit[];
  try {
    if (fusion !== undefined) {
      [hits] = await searcher.search([{ text: query, lang: options.lang }], { beam, k, fusion, bm25Depth: settings.bm25Depth, renormalize: options.renormalize, bm25Threads: 1, progress: false });
    } else {
      const entries = (await searcher.bm25Run([{ id: 'q', text: query, lang: options.lang }], k, 1)).get('q') ?? [];
      hits = entries.map((entry, i) => ({ rank: i + 1, docId: entry.docId, title: searcher.generative.titles?.get(entry.docId), score: entry.score, genirRank: null, bm25Rank: i + 1 }));
    }
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  const hybrid = fusion !== undefined;
  const report: SearchReport = {
    model: options.model,
    query,
    mode: settings.mode,
    beam,
    k,
    ...(fusion !== undefined ? { bm25_depth: settings.bm25Depth, fusion } : {}),
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: hits.map((hit) => ({ rank: hit.rank, docId: hit.docId, title: hit.title ?? null, score: hit.score, ...(hybrid ? { genir_rank: hit.genirRank, bm25_rank: hit.bm25Rank } : {}) })),
  };
  const rank = (value: number | null) => (value === null ? '–' : String(value));
  const header = hybrid ? ['rank', 'fused', 'genir', 'bm25', 'document'] : ['rank', 'bm25', 'document'];
  const rows = hits.map((hit) => (hybrid ? [String(hit.rank), hit.score.toFixed(4), rank(hit.genirRank), rank(hit.bm25Rank), hit.docId] : [String(hit.rank), hit.score.toFixed(4), hit.docId]));
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
    hits.length > 0 ? table : '(no documents)',
  ];
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
