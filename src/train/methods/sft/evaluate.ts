/**
 * Retrieval quality of a trained model on a dataset split, for the quickstart and for
 * checks after training: constrained beam search (src/search) over every query of the
 * split, then the metrics. Docid keys are what judgments name (SFT keys pooled
 * translations by their relevance id), so runs need no collapsing.
 */
import type { Dataset, Run } from '../../../data/types.js';
import type { DocidTable } from '../../../docids/table.js';
import { evaluateRun } from '../../../eval/metrics.js';
import type { T5Model } from '../../../model/t5.js';
import { clampBeam, withModelSearcher, type GenerativeSearcher, type SearchOptions } from '../../../search/searcher.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';

export interface GenirEvaluation {
  metrics: Record<string, number>;
  queries: number;
  /** Seconds spent searching (not loading). */
  seconds: number;
  run: Run;
}

/** Searches a split's queries with `searcher` and evaluates the run against the split's judgments. */
export async function evaluateSearcher(
  searcher: GenerativeSearcher,
  dataset: Dataset,
  split: string,
  metrics: string[],
  options: SearchOptions = {},
): Promise<GenirEvaluation> {
  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  const started = performance.now();
  const run = await searcher.searchRun(queries, options);
  const seconds = (performance.now() - started) / 1000;
  return { metrics: evaluateRun(run, qrels, metrics).mean, queries: queries.length, seconds, run };
}

/** The same for a model in memory (e.g. right after training). Beam defaults to 20, k to 10 (each capped by the corpus size). */
export async function evaluateGenir(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  docids: DocidTable,
  dataset: Dataset,
  split: string,
  metrics: string[],
  options: SearchOptions & { threads?: number } = {},
): Promise<GenirEvaluation> {
  const { beam, k } = clampBeam(docids.size, options.beam ?? 20, options.k ?? 10);
  return await withModelSearcher(model, { tokenizer, docids }, { threads: options.threads }, (searcher) =>
    evaluateSearcher(searcher, dataset, split, metrics, { ...options, beam, k }),
  );
}
