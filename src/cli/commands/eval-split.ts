/**
 * What `genir eval --model` and `genir eval --dense` share: the split's queries and judgments,
 * the scoring of the searched run (written to --run-out, translations mapped to the ids the
 * judgments use) and the timing fields of their reports.
 */
import { collapseRun } from '../../data/registry.js';
import { writeRun } from '../../data/trec.js';
import type { Dataset, Qrels, Query, Run } from '../../data/types.js';
import { evaluateRun, type EvalResult } from '../../eval/metrics.js';
import { UserError } from '../../util/errors.js';

export interface EvalSplit {
  dataset: Dataset;
  split: string;
  queries: Query[];
  qrels: Qrels;
}

/** The queries and judgments of one split; a missing split or an empty one is one line naming the dataset. */
export async function openSplit(dataset: Dataset, split: string): Promise<EvalSplit> {
  if (!dataset.splits.includes(split))
    throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
  const [queries, qrels] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
  if (queries.length === 0) throw new UserError(`dataset ${dataset.id} has no queries in split '${split}'`);
  return { dataset, split, queries, qrels };
}

/**
 * Writes the run to `runOut` (as searched, tagged `tag`), then scores it; documents of a pooled
 * multilingual dataset count as the paragraph they translate, as its judgments do.
 */
export async function scoreRun(
  run: Run,
  test: EvalSplit,
  options: { metrics: readonly string[]; runOut?: string; tag: string; judgedOnly?: boolean },
): Promise<EvalResult> {
  if (options.runOut !== undefined) await writeRun(options.runOut, run, options.tag);
  const judged = test.dataset.relevanceIds === undefined ? run : collapseRun(run, await test.dataset.relevanceIds());
  return evaluateRun(judged, test.qrels, [...options.metrics], { judgedOnly: options.judgedOnly });
}

/** The report fields of a search's cost: load time, queries per second (1 decimal) and ms per query (2 decimals). */
export function searchTiming(
  queries: number,
  loadMs: number,
  searchMs: number,
): { load_ms: number; search_qps: number; ms_per_query: number } {
  return {
    load_ms: Math.round(loadMs),
    search_qps: Math.round((queries / searchMs) * 1000 * 10) / 10,
    ms_per_query: Math.round((searchMs / queries) * 100) / 100,
  };
}

/** `(queries de, corpus en)` after a dataset id when languages were chosen; empty otherwise. */
export function languagesNote(dataset: Dataset, corpusLang = dataset.corpusLang ?? dataset.lang): string {
  return dataset.lang === undefined ? '' : ` (queries ${dataset.lang}, corpus ${corpusLang})`;
}
