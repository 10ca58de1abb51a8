/**
 * `genir eval --model <dir> --dataset <id>`: search a split's queries with a trained generative
 * retriever and evaluate the run, reporting in the shape of `genir bm25 --json`.
 */
import { Bm25Index } from '../../bm25/bm25-index.js';
import { checkDevice, parseDevice } from '../../engine/device.js';
import { collapseRun } from '../../data/registry.js';
import { writeRun } from '../../data/trec.js';
import type { Run } from '../../data/types.js';
import { evaluateRun, type EvalResult } from '../../eval/metrics.js';
import { formatValue } from '../../eval/report.js';
import { pairedTTest, randomizationTest } from '../../eval/significance.js';
import { DEFAULT_BEAM } from '../../search/beam.js';
import { compareCorpus, corpusMismatch } from '../../search/corpus-match.js';
import { checkCoverage, HybridSearcher, tuneAlpha, type AlphaTuning, type FusionSpec } from '../../search/hybrid.js';
import { GenerativeSearcher } from '../../search/searcher.js';
import { getAnalyzer } from '../../text/analyzers/index.js';
import { UserError, warn } from '../../util/errors.js';
import { defaultAnalyzerFor } from './bm25.js';
import { parseHybridOptions, type HybridCommandOptions, type HybridSettings, type RetrievalMode } from './hybrid-options.js';
import { beamAndK, fusionSpec } from './search.js';
import { parseCount, parseQuantize, type Write } from '../options.js';
import {
  languagesNote,
  openEvalSplit,
  openSplit,
  scoreRun,
  searchTiming,
  timedSearch,
  writeEvalReport,
  type EvalSplit,
} from './eval-split.js';

export interface ModelEvalOptions extends HybridCommandOptions {
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
  /** `--quantize int8`: search with int8 weights. */
  quantize?: string;
  runOut?: string;
  /** Drop retrieved documents without a judgment before scoring (trec_eval -J). */
  judgedOnly?: boolean;
  /** Hybrid interpolation without --alpha: the split α is tuned on (default dev). */
  tuneSplit?: string;
  json?: boolean;
}

/** A paired comparison of the evaluated run with another system, per metric. */
export interface PairedComparison {
  delta: number;
  t: number;
  p_t: number;
  p_rand: number;
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
  /** genir unless --mode says otherwise. */
  mode?: RetrievalMode;
  /** hybrid: BM25 documents fused per query and the fusion (α tuned or given). */
  bm25_depth?: number;
  fusion?: FusionSpec;
  /** hybrid interpolation without --alpha: the grid search on the tuning split. */
  tuning?: AlphaTuning & { split: string; queries: number };
  /** hybrid: each system alone on the same queries (GenIR: its beam; BM25: its top bm25_depth). */
  components?: { genir: Record<string, number>; bm25: Record<string, number> };
  /** hybrid: paired t-test and randomization test (10,000 trials, seed 0) against each system, per metric. */
  significance?: { bm25: Record<string, PairedComparison>; genir: Record<string, PairedComparison> };
}

export async function runModelEval(options: ModelEvalOptions, write: Write): Promise<ModelEvalReport> {
  if (options.dataset === undefined) {
    throw new UserError(
      options.qrels !== undefined
        ? '--model needs --dataset <id> (the queries come from the dataset, not from a qrels file)'
        : '--model needs --dataset <id>',
    );
  }
  const settings = parseHybridOptions(options);
  if (options.tuneSplit !== undefined && !(settings.mode === 'hybrid' && settings.fusion === 'interp' && settings.alpha === undefined)) {
    throw new UserError('--tune-split applies to --mode hybrid --fusion interp without --alpha');
  }
  if (settings.mode !== 'genir') return runCorpusEval(options, settings, write);
  const { beam, k } = beamAndK(options);
  const batch = options.batch === undefined ? 16 : parseCount(options.batch, '--batch');
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  const device = parseDevice(options.device ?? 'cpu');
  checkDevice(device);
  const quantize = parseQuantize(options.quantize);
  const { metrics, test } = await openEvalSplit({ ...options, dataset: options.dataset });
  const { dataset, split, queries, qrels } = test;

  const loadStart = performance.now();
  const searcher = await GenerativeSearcher.open(options.model, { threads, device, quantize });
  const loadMs = performance.now() - loadStart;
  const { run, searchMs } = await timedSearch(
    searcher,
    (s) => s.searchRun(queries, { beam, k, batchQueries: batch }),
    async (s) => {
      if (s.manifest === undefined) return;
      const comparison = await compareCorpus(s.docids.keys, s.manifest.corpus, dataset, qrels);
      const mismatch = corpusMismatch(comparison, s.manifest, options.model, dataset.id);
      if (mismatch !== undefined) warn(mismatch);
    },
  );
  // Docid keys are document ids, or relevance ids when translations share a docid; either maps right.
  const evaluation = await scoreRun(run, test, { metrics, runOut: options.runOut, tag: 'genir', judgedOnly: options.judgedOnly });

  const report: ModelEvalReport = {
    dataset: dataset.id,
    split,
    docs: searcher.docids.size,
    queries: queries.length,
    metrics: evaluation.mean,
    model: options.model,
    beam,
    k,
    mode: 'genir',
    ...searchTiming(queries.length, loadMs, searchMs),
  };
  const head = [
    `dataset ${dataset.id}${languagesNote(dataset)}, split ${split}: ${queries.length} queries; model ${options.model}: ${report.docs} docids (${searcher.docids.scheme})`,
    `beam ${beam}, top ${k}, ${batch} queries per batch: ${report.ms_per_query} ms per query (${report.search_qps} queries/s); model loaded in ${report.load_ms} ms`,
  ];
  writeEvalReport(write, head, options, metrics, report);
  return report;
}

/** A query without its own language is in the dataset's query language (the BM25 analyzer needs it). */
function withQueryLanguage(split: EvalSplit): EvalSplit {
  return { ...split, queries: split.queries.map((q) => ({ ...q, lang: q.lang ?? split.dataset.lang })) };
}

/** Paired tests of `run` against `other` on every judged query, per metric. */
function compare(run: EvalResult, other: EvalResult, metrics: readonly string[]): Record<string, PairedComparison> {
  const ids = [...run.perQuery.keys()];
  const out: Record<string, PairedComparison> = {};
  for (const name of metrics) {
    const a = ids.map((id) => run.perQuery.get(id)![name]);
    const b = ids.map((id) => other.perQuery.get(id)?.[name] ?? 0);
    const tTest = pairedTTest(a, b);
    out[name] = {
      delta: run.mean[name] - other.mean[name],
      t: tTest.t,
      p_t: tTest.p,
      p_rand: randomizationTest(a, b, { trials: 10_000, seed: 0 }).p,
    };
  }
  return out;
}

/**
 * `genir eval --model … --mode bm25|hybrid`: BM25 over the dataset's corpus (the analyzer
 * `genir bm25` picks), alone or fused with the model's beam; hybrid reports each system alone
 * and paired significance tests beside the fused run.
 */
async function runCorpusEval(options: ModelEvalOptions, settings: HybridSettings, write: (text: string) => void): Promise<ModelEvalReport> {
  if (options.dataset === undefined) throw new UserError('--model needs --dataset <id>');
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? 100 : parseCount(options.k, '--k');
  const batch = options.batch === undefined ? 16 : parseCount(options.batch, '--batch');
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  if (settings.mode === 'bm25' && options.quantize !== undefined)
    throw new UserError('--quantize applies to --mode genir or hybrid, not --mode bm25');
  const quantize = parseQuantize(options.quantize);
  let fusion = settings.mode === 'hybrid' && (settings.fusion === 'rrf' || settings.alpha !== undefined) ? fusionSpec(settings) : undefined;
  const tuneSplitName = options.tuneSplit ?? 'dev';

  const opened = await openEvalSplit({ ...options, dataset: options.dataset });
  const { metrics } = opened;
  const dataset = opened.test.dataset;
  const test = withQueryLanguage(opened.test);
  const tuning = settings.mode === 'hybrid' && fusion === undefined;
  if (tuning && tuneSplitName === test.split)
    throw new UserError(`--split ${test.split} is the split alpha would be tuned on; give --alpha <a> or --tune-split <another split>`);
  if (tuning && !dataset.splits.includes(tuneSplitName)) {
    throw new UserError(
      `dataset ${dataset.id} has no split '${tuneSplitName}' to tune alpha on (splits: ${dataset.splits.join(', ')}); give --alpha <a> or --tune-split <split>`,
    );
  }
  const tuneSet = tuning ? withQueryLanguage(await openSplit(dataset, tuneSplitName)) : undefined;

  const loadStart = performance.now();
  const corpusLang = dataset.corpusLang ?? dataset.lang ?? 'en';
  const analyzer = getAnalyzer(defaultAnalyzerFor(dataset), corpusLang === 'all' ? (dataset.lang ?? 'en') : corpusLang);
  const index = await Bm25Index.build(dataset.docs(), { analyzer });
  const relevanceIds = dataset.relevanceIds === undefined ? undefined : await dataset.relevanceIds();
  const generative = settings.mode === 'hybrid' ? await GenerativeSearcher.open(options.model, { threads, quantize }) : undefined;
  if (generative !== undefined) {
    try {
      checkCoverage(index, relevanceIds, generative, `dataset ${dataset.id} (corpus ${corpusLang}) against the docids of ${options.model}`);
    } catch (err) {
      await generative.release();
      throw err;
    }
  }
  const loadMs = performance.now() - loadStart;
  const toJudged = (run: Run) => (relevanceIds === undefined ? run : collapseRun(run, relevanceIds));

  let run: Run;
  let genirRun: Run | undefined;
  let bm25Run: Run | undefined;
  let tuned: ModelEvalReport['tuning'];
  const searchStart = performance.now();
  try {
    if (generative === undefined) {
      const hits = await index.searchBatch(
        test.queries.map((q) => ({ text: q.text, lang: q.lang })),
        k,
        { threads },
      );
      run = index.toRun(test.queries, hits);
    } else {
      const searcher = new HybridSearcher({ generative, bm25: index, keyOf: relevanceIds });
      const common = { beam, k, bm25Depth: settings.bm25Depth, batchQueries: batch, bm25Threads: threads };
      if (tuneSet !== undefined) {
        const dev = await searcher.searchRuns(tuneSet.queries, common);
        const result = tuneAlpha(toJudged(dev.genir), toJudged(dev.bm25), tuneSet.qrels, {
          normalization: settings.normalization,
          depth: k,
          judgedOnly: options.judgedOnly,
        });
        tuned = { ...result, split: tuneSet.split, queries: tuneSet.queries.length };
        fusion = fusionSpec(settings, result.alpha);
      }
      const runs = await searcher.searchRuns(test.queries, { ...common, fusion });
      [run, genirRun, bm25Run] = [runs.hybrid, runs.genir, runs.bm25];
    }
  } finally {
    await generative?.release();
  }
  const searchMs = performance.now() - searchStart;
  if (options.runOut !== undefined) await writeRun(options.runOut, run, settings.mode === 'hybrid' ? 'genir-hybrid' : 'genir-bm25');
  const evalOptions = { judgedOnly: options.judgedOnly };
  const evaluation = evaluateRun(toJudged(run), test.qrels, metrics, evalOptions);

  const report: ModelEvalReport = {
    dataset: dataset.id,
    split: test.split,
    docs: generative?.docids.size ?? index.documentCount,
    queries: test.queries.length,
    metrics: evaluation.mean,
    model: options.model,
    beam,
    k,
    mode: settings.mode,
    ...searchTiming(test.queries.length, loadMs, searchMs),
  };
  let comparisons: string[][] | undefined;
  if (genirRun !== undefined && bm25Run !== undefined) {
    const genirEval = evaluateRun(toJudged(genirRun), test.qrels, metrics, evalOptions);
    const bm25Eval = evaluateRun(toJudged(bm25Run), test.qrels, metrics, evalOptions);
    Object.assign(report, {
      bm25_depth: settings.bm25Depth,
      fusion,
      ...(tuned !== undefined ? { tuning: tuned } : {}),
      components: { genir: genirEval.mean, bm25: bm25Eval.mean },
      significance: { bm25: compare(evaluation, bm25Eval, metrics), genir: compare(evaluation, genirEval, metrics) },
    });
    const p = (value: number) => (value < 0.001 ? '<0.001' : value.toFixed(3));
    const signed = (value: number) => `${value >= 0 ? '+' : ''}${formatValue(value)}`;
    comparisons = [
      ['metric', 'hybrid', 'GenIR', 'BM25', 'vs BM25', 'p (t)', 'p (rand)', 'vs GenIR', 'p (t)', 'p (rand)'],
      ...metrics.map((name) => {
        const vsBm25 = report.significance!.bm25[name];
        const vsGenir = report.significance!.genir[name];
        return [
          name,
          formatValue(evaluation.mean[name]),
          formatValue(genirEval.mean[name]),
          formatValue(bm25Eval.mean[name]),
          signed(vsBm25.delta),
          p(vsBm25.p_t),
          p(vsBm25.p_rand),
          signed(vsGenir.delta),
          p(vsGenir.p_t),
          p(vsGenir.p_rand),
        ];
      }),
    ];
  }
  const lines = [
    `dataset ${dataset.id}${languagesNote(dataset, corpusLang)}, split ${test.split}: ${test.queries.length} queries; ${index.documentCount} documents indexed for BM25 (${index.data.analyzer.name} analyzer)`,
  ];
  if (fusion !== undefined) {
    const how =
      fusion.method === 'rrf'
        ? `reciprocal-rank fusion, k ${fusion.k ?? 60}`
        : `interpolation, alpha ${fusion.weights[0]} on GenIR, ${fusion.normalization ?? 'minmax'} normalisation`;
    lines.push(
      `hybrid: model ${options.model}, beam ${beam}, fused with BM25's top ${settings.bm25Depth} by ${how}; top ${k}; ${report.ms_per_query} ms per query`,
    );
  } else {
    lines.push(`BM25 top ${k}; ${report.ms_per_query} ms per query`);
  }
  if (tuned !== undefined) {
    lines.push(
      `alpha ${tuned.alpha} tuned on split ${tuned.split} (${tuned.queries} queries): ${tuned.metric} ${formatValue(tuned.value)}; grid ${tuned.grid.map((g) => `${g.alpha}:${formatValue(g.value)}`).join(' ')}`,
    );
  }
  writeEvalReport(write, lines, options, metrics, report, comparisons);
  return report;
}
