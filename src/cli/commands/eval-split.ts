/**
 * What `genir eval --model` and `genir eval --dense` share: the metrics and the split's queries and
 * judgments, the timed search, the scoring of the searched run (written to --run-out, translations
 * mapped to the ids the judgments use), the timing fields of their reports and the printed report.
 */
import { collapseRun, openDataset } from '../../data/registry.js';
import { writeRun } from '../../data/trec.js';
import type { Dataset, Qrels, Query, Run } from '../../data/types.js';
import { evaluateRun, GENIR_METRICS, parseMetrics, splitMetricList, type EvalResult } from '../../eval/metrics.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import type { Write } from '../options.js';

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

/** What an evaluation over a dataset's split reads from the command line. */
export interface EvalSplitOptions {
  dataset: string;
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  split?: string;
  /** Comma-separated metric names; undefined: GENIR_METRICS. */
  metrics?: string;
  runOut?: string;
}

/**
 * The metrics (checked), --run-out (checked writable before any work) and the split's queries and
 * judgments (the dataset's evaluation split unless --split).
 */
export async function openEvalSplit(o: EvalSplitOptions): Promise<{ metrics: string[]; test: EvalSplit }> {
  const metrics = o.metrics === undefined ? [...GENIR_METRICS] : splitMetricList(o.metrics);
  parseMetrics(metrics);
  if (o.runOut !== undefined) checkWritableFile(o.runOut, '--run-out');
  const dataset = await openDataset({ id: o.dataset, dataDir: o.dataDir, lang: o.lang, corpusLang: o.corpusLang });
  return { metrics, test: await openSplit(dataset, o.split ?? dataset.defaultSplit) };
}

/**
 * Searches with an opened searcher, timed, and releases it whatever happens; `before` (e.g. a
 * check of the corpus) runs first and is not timed.
 */
export async function timedSearch<S extends { release(): Promise<void> }>(
  searcher: S,
  search: (searcher: S) => Promise<Run>,
  before?: (searcher: S) => Promise<void>,
): Promise<{ run: Run; searchMs: number }> {
  try {
    await before?.(searcher);
    const start = performance.now();
    const run = await search(searcher);
    return { run, searchMs: performance.now() - start };
  } finally {
    await searcher.release();
  }
}

/**
 * Prints an evaluation: the `head` lines, where the run was written, the table (by default each
 * metric and its value) and, with --json, the report as the last line.
 */
export function writeEvalReport(
  write: Write,
  head: readonly string[],
  o: { runOut?: string; json?: boolean },
  metrics: readonly string[],
  report: { metrics: Record<string, number> },
  table: string[][] = [['metric', 'value'], ...metrics.map((name) => [name, formatValue(report.metrics[name])])],
): void {
  const lines = [...head];
  if (o.runOut !== undefined) lines.push(`run written to ${o.runOut}`);
  lines.push('', formatTable(table));
  if (o.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
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
