/**
 * `genir experiment budgeted-sft`: a generative retriever trained within a fixed training-time
 * budget (the learning rate decays to zero when the budget runs out; dev RR@10 picks the saved
 * weights), then evaluated on the test split beside BM25 over the same corpus and the hybrid of
 * the two (RRF or interpolation with α tuned on dev, whichever is better on dev), with paired
 * tests of hybrid against BM25. The recipe is data (recipes/budgeted-sft.json by default).
 */
import { join } from 'node:path';
import { openDataset } from '../data/registry.js';
import type { Qrels, Query, Run } from '../data/types.js';
import { evaluateRun } from '../eval/metrics.js';
import { pairedTTest, randomizationTest } from '../eval/significance.js';
import { HybridSearcher, fuseRuns, interpolation, tuneAlpha, type FusionSpec } from '../search/hybrid.js';
import { runSft, type SftOptions } from '../train/methods/sft/pipeline.js';

/** Metrics of the result line, in this order. */
export const BUDGETED_METRICS = ['RR@10', 'R@1', 'R@10'] as const;
type Metrics = Record<(typeof BUDGETED_METRICS)[number], number>;

export interface BudgetedSftOptions {
  /** The recipe's SFT settings (dataset and budget are set from the options below). */
  recipe: Omit<SftOptions, 'out'>;
  dataset: string;
  minutes: number;
  work: string;
  dataDir?: string;
  threads?: number;
  /** Beam width of the test and dev searches (default 20). */
  beam?: number;
  log?: (line: string) => void;
}

export interface BudgetedSftResult {
  dataset: string;
  minutes: number;
  genir: Metrics;
  bm25: Metrics;
  hybrid: Metrics;
  p_hybrid_vs_bm25: number;
  p_hybrid_vs_bm25_randomization: number;
  fusion: FusionSpec;
  /** Training minutes actually spent, updates done and the update whose weights were kept. */
  trained: { minutes: number; updates: number; chosen_update: number | null; dev_rr10: number | null };
  queries: number;
}

function pick(metrics: Record<string, number>): Metrics {
  return Object.fromEntries(BUDGETED_METRICS.map((m) => [m, metrics[m]])) as Metrics;
}

async function judged(datasetId: string, dataDir: string | undefined, split: string): Promise<{ queries: Query[]; qrels: Qrels }> {
  const dataset = await openDataset({ id: datasetId, dataDir });
  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  return { queries: queries.filter((q) => qrels.has(q.id)), qrels };
}

/** Per-query values of one metric, in `queries` order (0 where a query has no ranking). */
function perQuery(run: Run, qrels: Qrels, queries: readonly Query[], metric: string): number[] {
  const byQuery = evaluateRun(run, qrels, [metric]).perQuery;
  return queries.map((q) => byQuery.get(q.id)?.[metric] ?? 0);
}

export async function runBudgetedSft(options: BudgetedSftOptions): Promise<BudgetedSftResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const beam = options.beam ?? 20;
  const out = join(options.work, 'model');
  log(`budgeted-sft: training on ${options.dataset} for at most ${options.minutes} minutes`);
  const sft = await runSft({
    ...options.recipe,
    dataset: options.dataset,
    dataDir: options.dataDir,
    budgetMinutes: options.minutes,
    threads: options.threads,
    out,
    overwrite: true,
    log,
  });
  const stage = sft.report.stages.at(-1);
  const chosen = sft.report.dev?.chosenUpdate ?? null;
  const chosenPoint = sft.report.dev?.points.find((p) => p.update === chosen);

  const searcher = await HybridSearcher.open(out, { threads: options.threads, dataDir: options.dataDir });
  try {
    const dev = await judged(options.dataset, options.dataDir, 'dev');
    const test = await judged(options.dataset, options.dataDir, 'test');
    log(`budgeted-sft: choosing the fusion on ${dev.queries.length} dev queries`);
    const devRuns = await searcher.searchRuns(dev.queries, { beam, k: 100, progress: false });
    const tuned = tuneAlpha(devRuns.genir, devRuns.bm25, dev.qrels);
    const rrf: FusionSpec = { method: 'rrf' };
    const rrfDev = evaluateRun(fuseRuns([devRuns.genir, devRuns.bm25], rrf, 100), dev.qrels, ['RR@10']).mean['RR@10'];
    const fusion = tuned.value > rrfDev ? interpolation(tuned.alpha, tuned.normalization) : rrf;
    log(
      `budgeted-sft: dev RR@10 interpolation ${tuned.value.toFixed(4)} (alpha ${tuned.alpha}), RRF ${rrfDev.toFixed(4)}: using ${fusion.method}`,
    );
    const runs = await searcher.searchRuns(test.queries, { beam, k: 100, fusion, progress: false });
    const metrics = [...BUDGETED_METRICS];
    const genir = evaluateRun(runs.genir, test.qrels, metrics).mean;
    const bm25 = evaluateRun(runs.bm25, test.qrels, metrics).mean;
    const hybrid = evaluateRun(runs.hybrid, test.qrels, metrics).mean;
    const hybridRr = perQuery(runs.hybrid, test.qrels, test.queries, 'RR@10');
    const bm25Rr = perQuery(runs.bm25, test.qrels, test.queries, 'RR@10');
    return {
      dataset: options.dataset,
      minutes: options.minutes,
      genir: pick(genir),
      bm25: pick(bm25),
      hybrid: pick(hybrid),
      p_hybrid_vs_bm25: pairedTTest(hybridRr, bm25Rr).p,
      p_hybrid_vs_bm25_randomization: randomizationTest(hybridRr, bm25Rr, { seed: 0 }).p,
      fusion,
      trained: {
        minutes: (stage?.trainingSeconds ?? 0) / 60,
        updates: sft.report.stages.reduce((n, s) => n + s.updates, 0),
        chosen_update: chosen,
        dev_rr10: chosenPoint?.metrics['RR@10'] ?? null,
      },
      queries: test.queries.length,
    };
  } finally {
    await searcher.release();
  }
}
