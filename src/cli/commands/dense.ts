/**
 * The dense retriever in `genir search` and `genir eval`: exact top-k over the model's
 * document vectors. A dense model is named with `--dense <dir>`, or with `--model <dir>`
 * when that directory holds one (its manifest says which kind of model it is).
 */
import type { Command } from 'commander';
import { writeRun } from '../../data/trec.js';
import type { Document } from '../../data/types.js';
import { formatTable } from '../../eval/report.js';
import { corpusFingerprint } from '../../retriever/directory.js';
import { DenseSearcher, type DenseHit } from '../../search/dense.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { parseCount, type Write } from '../options.js';
import { languagesNote, openEvalSplit, scoreRun, searchTiming, timedSearch, writeEvalReport } from './eval-split.js';
import { checkQueryLength, readQueryFile } from '../queries.js';

export interface DenseSearchCommandOptions {
  dense: string;
  k?: string;
  threads?: string;
  json?: boolean;
}

/** What `genir search --dense … --json` prints as its last line. */
export interface DenseSearchReport {
  model: string;
  kind: 'dense';
  query: string;
  k: number;
  load_ms: number;
  search_ms: number;
  results: { rank: number; docId: string; title: string | null; score: number }[];
}

/** Options of generative search that mean nothing for a dense retriever: refused when given on the command line. */
const GENERATIVE_ONLY = ['beam', 'renormalize', 'quantize'] as const;

/** A UserError when the command line sets an option that only generative models take. */
export function refuseGenerativeOptions(command: Command): void {
  for (const name of GENERATIVE_ONLY) {
    if (command.getOptionValueSource(name) === 'cli')
      throw new UserError(`--${name} applies to generative models (beam search); a dense retriever ranks every document exactly`);
  }
}

function resultsOf(hits: readonly DenseHit[]): DenseSearchReport['results'] {
  return hits.map((hit) => ({ rank: hit.rank, docId: hit.docId, title: hit.title ?? null, score: hit.score }));
}

function resultsTable(hits: readonly DenseHit[]): string {
  if (hits.length === 0) return '(no documents)';
  return formatTable([['rank', 'cosine', 'document'], ...hits.map((hit) => [String(hit.rank), hit.score.toFixed(4), hit.docId])])
    .split('\n')
    .map((line, i) => `${line}  ${i === 0 ? 'title' : (hits[i - 1].title ?? '')}`.trimEnd())
    .join('\n');
}

function options(o: { k?: string; threads?: string }): { k: number; threads?: number } {
  return {
    k: o.k === undefined ? 10 : parseCount(o.k, '--k'),
    threads: o.threads === undefined ? undefined : parseCount(o.threads, '--threads'),
  };
}

/** `genir search --dense <dir> "query"`. */
export async function runDenseSearch(query: string, o: DenseSearchCommandOptions, write: Write): Promise<DenseSearchReport> {
  const { k, threads } = options(o);
  if (query.trim() === '') throw new UserError('the query is empty');
  checkQueryLength(query, '');
  const loadStart = performance.now();
  const searcher = await DenseSearcher.open(o.dense, { threads, spinning: false });
  const loadMs = performance.now() - loadStart;
  const searchStart = performance.now();
  let hits: DenseHit[];
  try {
    [hits] = await searcher.search([query], { k });
  } finally {
    await searcher.release();
  }
  const report: DenseSearchReport = {
    model: o.dense,
    kind: 'dense',
    query,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round((performance.now() - searchStart) * 10) / 10,
    results: resultsOf(hits),
  };
  const lines = [
    `query: ${query}`,
    `dense model ${o.dense}: ${searcher.size} documents; exact top ${k}; searched in ${report.search_ms} ms (model loaded in ${report.load_ms} ms)`,
    '',
    resultsTable(hits),
  ];
  if (o.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}

/** `genir search --dense <dir> --queries <file>`. */
export async function runDenseSearchMany(
  o: DenseSearchCommandOptions & { queries: string; runOut?: string; batch?: string },
  write: Write,
): Promise<void> {
  const { k, threads } = options(o);
  const batch = o.batch === undefined ? 256 : parseCount(o.batch, '--batch');
  if (o.runOut !== undefined) checkWritableFile(o.runOut, '--run-out');
  const queries = await readQueryFile(o.queries);
  const loadStart = performance.now();
  const searcher = await DenseSearcher.open(o.dense, { threads, spinning: false });
  const loadMs = performance.now() - loadStart;
  const searchStart = performance.now();
  let hits: DenseHit[][];
  try {
    hits = await searcher.search(
      queries.map((q) => q.text),
      { k, batchQueries: batch },
    );
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  if (o.runOut !== undefined)
    await writeRun(
      o.runOut,
      new Map(queries.map((q, i) => [q.id, hits[i].map((h) => ({ docId: h.docId, score: h.score }))])),
      'genir-dense',
    );
  const source = o.queries === '-' ? 'stdin' : o.queries;
  const lines = [
    `dense model ${o.dense}: ${searcher.size} documents; exact top ${k}; ${queries.length} queries from ${source} searched in ${searchMs.toFixed(1)} ms (${(searchMs / queries.length).toFixed(2)} ms per query; model loaded in ${Math.round(loadMs)} ms)`,
  ];
  if (o.runOut !== undefined) lines.push(`run written to ${o.runOut}`);
  else queries.forEach((q, i) => lines.push('', `query ${q.id}: ${q.text}`, resultsTable(hits[i])));
  if (o.json) {
    lines.push(
      JSON.stringify({
        model: o.dense,
        kind: 'dense',
        queries: queries.length,
        k,
        load_ms: Math.round(loadMs),
        search_ms: Math.round(searchMs * 10) / 10,
        run_out: o.runOut ?? null,
        results: queries.map((q, i) => ({ id: q.id, query: q.text, results: resultsOf(hits[i]) })),
      }),
    );
  }
  write(`${lines.join('\n')}\n`);
}

export interface DenseEvalOptions {
  dense: string;
  dataset?: string;
  qrels?: string;
  split?: string;
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  metrics?: string;
  k?: string;
  batch?: string;
  threads?: string;
  runOut?: string;
  judgedOnly?: boolean;
  json?: boolean;
}

/** What `genir eval --dense … --json` prints as its last line. */
export interface DenseEvalReport {
  dataset: string;
  split: string;
  docs: number;
  queries: number;
  metrics: Record<string, number>;
  model: string;
  kind: 'dense';
  k: number;
  /** True when the dataset's documents differ from the model's and were encoded for this evaluation. */
  reindexed: boolean;
  load_ms: number;
  search_qps: number;
  ms_per_query: number;
}

/**
 * `genir eval --dense <dir> --dataset <id>`: search the split's queries over the dataset's
 * documents and evaluate. The model's stored vectors are used when the dataset has exactly
 * the model's documents; otherwise (another corpus, or one language of XQuAD) the dataset's
 * documents are encoded first: a dense model can search any corpus.
 */
export async function runDenseEval(o: DenseEvalOptions, write: Write): Promise<DenseEvalReport> {
  if (o.dataset === undefined) throw new UserError('--dense needs --dataset <id> (the queries and documents come from the dataset)');
  const { k, threads } = options(o);
  const batch = o.batch === undefined ? 256 : parseCount(o.batch, '--batch');
  const { metrics, test } = await openEvalSplit({ ...o, dataset: o.dataset });
  const { dataset, split, queries } = test;
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);

  const loadStart = performance.now();
  let searcher = await DenseSearcher.open(o.dense, { threads, spinning: false });
  const reindexed = searcher.manifest?.corpus.sha256 !== corpusFingerprint(docs.map((d) => d.id));
  if (reindexed) {
    process.stderr.write(
      `dense: ${dataset.id} is not the corpus the model encoded (${searcher.size} documents); encoding its ${docs.length} documents\n`,
    );
    const own = searcher;
    try {
      searcher = await own.reindex(docs, { threads, spinning: false });
    } finally {
      await own.index.release();
    }
  }
  const loadMs = performance.now() - loadStart;
  const { run, searchMs } = await timedSearch(searcher, (s) => s.searchRun(queries, { k, batchQueries: batch }));
  const evaluation = await scoreRun(run, test, { metrics, runOut: o.runOut, tag: 'genir-dense', judgedOnly: o.judgedOnly });
  const report: DenseEvalReport = {
    dataset: dataset.id,
    split,
    docs: searcher.size,
    queries: queries.length,
    metrics: evaluation.mean,
    model: o.dense,
    kind: 'dense',
    k,
    reindexed,
    ...searchTiming(queries.length, loadMs, searchMs),
  };
  const head = [
    `dataset ${dataset.id}${languagesNote(dataset)}, split ${split}: ${queries.length} queries; dense model ${o.dense}: ${report.docs} documents${reindexed ? ' (encoded for this evaluation)' : ''}`,
    `exact top ${k}: ${report.ms_per_query} ms per query (${report.search_qps} queries/s, query encoding included); loaded in ${report.load_ms} ms`,
  ];
  writeEvalReport(write, head, o, metrics, report);
  return report;
}
