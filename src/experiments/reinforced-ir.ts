/**
 * `genir experiment reinforced-ir`: the self-boosting loop with every stage scored on the
 * target's test queries, as a table of nDCG@10 and R@100 with paired t-tests against the
 * previous row and against the source-only dense retriever, beside BM25.
 */
import { formatTable, formatValue } from '../eval/report.js';
import { pairedTTest } from '../eval/significance.js';
import { peakRssMb } from '../train/methods/sft/report.js';
import {
  REINFORCED_IR_METRICS,
  runReinforcedIr,
  type ReinforcedIrOptions,
  type ReinforcedIrResult,
  type RoundReport,
  type StageMetrics,
  type SyntheticSource,
} from '../train/methods/reinforced-ir/loop.js';

export interface ReinforcedIrRow {
  system: string;
  'nDCG@10': number;
  'R@100': number;
  /** Paired t-test on nDCG@10 against the row before (null for the first row). */
  p_vs_previous: number | null;
  /** Paired t-test on nDCG@10 against dense-source (null for dense-source itself). */
  p_vs_dense_source: number | null;
  /** Rows with augmentation: mean share of the plain query's top 10 the augmented query keeps (null without augmentation). */
  aug_top10_overlap: number | null;
}

export interface ReinforcedIrExperiment {
  target: string;
  source: string;
  /** Where the synthetic target queries came from, and D₀'s MRR of their source documents. */
  synthetic: SyntheticSource;
  synthetic_source_mrr: number;
  /** Source-document MRR of the synthetic queries no round trains on, under D₀/G₀ (each round's is in `rounds`); null for doc2query. */
  held_out_before: ReinforcedIrResult['heldOutBefore'];
  held_out_queries: number;
  /** The RLGF settings and the query vector of the round rows: what an ablation changed. */
  rlgf: { order: string; negatives: string; contrastive: number; list_depth: number; lr: number; epochs: number };
  search_query: string;
  rows: ReinforcedIrRow[];
  bm25: { 'nDCG@10': number; 'R@100': number };
  /** D₀: trained here (its updates) or read from a dense model directory (which one, by its weights' sha256). */
  dense_source: ReinforcedIrResult['denseSource'];
  rounds: RoundReport[];
  test_queries: number;
  target_documents: number;
  seconds: number;
  peak_rss_mb: number;
}

/** p of the paired t-test on nDCG@10 between two stages over the same queries (1 when they never differ). */
export function pairedP(a: StageMetrics, b: StageMetrics): number {
  const ids = [...a.perQuery.keys()];
  const p = pairedTTest(
    ids.map((id) => a.perQuery.get(id)!['nDCG@10']),
    ids.map((id) => b.perQuery.get(id)!['nDCG@10']),
  ).p;
  return Number.isFinite(p) ? p : 1;
}

export async function runReinforcedIrExperiment(
  options: Omit<ReinforcedIrOptions, 'evaluate'>,
): Promise<{ result: ReinforcedIrExperiment; table: string }> {
  const run = await runReinforcedIr({ ...options, evaluate: true });
  await run.dense.release();
  await run.generator.release();
  const first = run.stages[0];
  const rows: ReinforcedIrRow[] = run.stages.map((stage, i) => ({
    system: stage.system,
    'nDCG@10': stage.metrics['nDCG@10'],
    'R@100': stage.metrics['R@100'],
    p_vs_previous: i === 0 ? null : pairedP(stage, run.stages[i - 1]),
    p_vs_dense_source: i === 0 ? null : pairedP(stage, first),
    aug_top10_overlap: stage.augmentation?.top10Overlap ?? null,
  }));
  const bm25 = run.bm25!;
  const table = formatTable([
    ['system', ...REINFORCED_IR_METRICS, 'p vs previous', 'p vs dense-source'],
    ['bm25', ...REINFORCED_IR_METRICS.map((m) => formatValue(bm25.metrics[m])), '', ''],
    ...rows.map((r) => [
      r.system,
      formatValue(r['nDCG@10']),
      formatValue(r['R@100']),
      r.p_vs_previous === null ? '' : r.p_vs_previous.toPrecision(3),
      r.p_vs_dense_source === null ? '' : r.p_vs_dense_source.toPrecision(3),
    ]),
  ]);
  return {
    table,
    result: {
      target: run.target,
      source: run.source,
      synthetic: run.synthetic,
      synthetic_source_mrr: run.syntheticSourceMrr,
      held_out_before: run.heldOutBefore,
      held_out_queries: run.heldOutQueries,
      rlgf: {
        order: options.settings.rlgfOrder,
        negatives: options.settings.rlgfNegatives,
        contrastive: options.settings.rlgfContrastive,
        list_depth: options.settings.rlgfListDepth ?? options.settings.negatives + 1,
        lr: options.settings.lr.rlgf,
        epochs: options.settings.rlgfEpochs,
      },
      search_query: options.settings.searchQuery,
      rows,
      bm25: { 'nDCG@10': bm25.metrics['nDCG@10'], 'R@100': bm25.metrics['R@100'] },
      dense_source: run.denseSource,
      rounds: run.rounds,
      test_queries: run.testQueries,
      target_documents: run.targetDocuments,
      seconds: Math.round(run.seconds * 10) / 10,
      peak_rss_mb: Math.round(peakRssMb()),
    },
  };
}
