/**
 * `genir eval --model <dir> --dataset <id>`: search a split's queries with a trained generative
 * retriever and evaluate the run, reporting in the shape of `genir bm25 --json`.
 */
import { checkDevice, parseDevice } from '../../engine/device.js';
import { collapseRun, openDataset } from '../../data/registry.js';
import { writeRun } from '../../data/trec.js';
import { evaluateRun, parseMetrics, splitMetricList } from '../../eval/metrics.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { compareCorpus, corpusMismatch } from '../../search/corpus-match.js';
import { GenerativeSearcher } from '../../search/searcher.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError, warn } from '../../util/errors.js';
import { beamAndK, parseCount } from './search.js';

/** The metrics the results tables use, in this order. */
export const GENIR_METRICS = ['R@1', 'R@5', 'R@10', 'RR@10', 'nDCG@10'] as const;

export interface ModelEvalOptions {
  model: string;
  dataset?: string;
  qrels?: string;
  split?: string;
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  /** Comma-separated metric names; undefined: GENIR_METRICS. */
  metrics?: string;
  beam?: string;
  k?: string;
  batch?: string;
  threads?: string;
  device?: string;
  runOut?: string;
  /** Drop retrieved documents without a judgment before scoring (trec_eval -J). */
  judgedOnly?: boolean;
  json?: boolean;
}

/** What `genir eval --model … --json` prints as its last line (`genir bm25 --json`'s shape). */
export interface ModelEvalReport {
  dataset: string;
  split: string;
  docs: number;
  queries: number;
  metrics: Record<string, number>;
  model: string;
  beam: number;
  k: number;
  load_ms: number;
  search_qps: number;
  ms_per_query: number;
}

export async function runModelEval(options: ModelEvalOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<ModelEvalReport> {
  if (options.dataset === undefined) {
    throw new UserError(options.qrels !== undefined ? '--model needs --dataset <id> (the queries come from the dataset, not from a qrels file)' : '--model needs --dataset <id>');
  }
  const { beam, k } = beamAndK(options);
  const batch = options.batch === undefined ? 16 : parseCount(options.batch, '--batch');
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const device = parseDevice(options.device ?? 'cpu');
  checkDevice(device);
  const metrics = options.metrics === undefined ? [...GENIR_METRICS] : splitMetricList(options.metrics);
  parseMetrics(metrics);
  if (options.runOut !== undefined) checkWritableFile(options.runOut, '--run-out');

  const dataset = await openDataset({ id: options.dataset, dataDir: options.dataDir, lang: options.lang, corpusLang: options.corpusLang });
  const split = options.split ?? dataset.defaultSplit;
  if (!dataset.splits.includes(split)) throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  if (queries.length === 0) throw new UserError(`dataset ${dataset.id} has no queries in split '${split}'`);

  const loadStart = performance.now();
  const searcher = await GenerativeSearcher.open(options.model, { threads, spinning: false, device });
  const loadMs = performance.now() - loadStart;
  let run;
  let searchStart: number;
  try {
    if (searcher.manifest !== undefined) {
      const comparison = await compareCorpus(searcher.docids.keys, searcher.manifest.corpus, dataset, qrels);
      const mismatch = corpusMismatch(comparison, searcher.manifest, options.model, dataset.id);
      if (mismatch !== undefined) warn(mismatch);
    }
    searchStart = performance.now();
    run = await searcher.searchRun(queries, { beam, k, batchQueries: batch });
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  if (options.runOut !== undefined) await writeRun(options.runOut, run, 'genir');
  // Docid keys are document ids, or relevance ids when translations share a docid; either maps right.
  if (dataset.relevanceIds !== undefined) run = collapseRun(run, await dataset.relevanceIds());
  const evaluation = evaluateRun(run, qrels, metrics, { judgedOnly: options.judgedOnly });

  const report: ModelEvalReport = {
    dataset: dataset.id,
    split,
    docs: searcher.docids.size,
    queries: queries.length,
    metrics: evaluation.mean,
    model: options.model,
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_qps: Math.round((queries.length / searchMs) * 1000 * 10) / 10,
    ms_per_query: Math.round((searchMs / queries.length) * 100) / 100,
  };
  const languages = dataset.lang === undefined ? '' : ` (queries ${dataset.lang}, corpus ${dataset.corpusLang ?? dataset.lang})`;
  const lines = [
    `dataset ${dataset.id}${languages}, split ${split}: ${queries.length} queries; model ${options.model}: ${report.docs} docids (${searcher.docids.scheme})`,
    `beam ${beam}, top ${k}, ${batch} queries per batch: ${report.ms_per_query} ms per query (${report.search_qps} queries/s); model loaded in ${report.load_ms} ms`,
  ];
  if (options.runOut !== undefined) lines.push(`run written to ${options.runOut}`);
  lines.push('', formatTable([['metric', 'value'], ...metrics.map((name) => [name, formatValue(evaluation.mean[name])])]));
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
