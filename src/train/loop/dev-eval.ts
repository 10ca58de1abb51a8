/**
 * Evaluation on held-out queries while a model trains: a seeded sample of a dev split is
 * searched with constrained beam search every N updates, each point goes to a learning
 * curve (`dev.csv`, `dev.svg`: dev metric against updates and training minutes), and the
 * weights of the best point are kept so the pipeline can save them (checkpoint selection)
 * or stop when the metric stops improving (early stopping).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../../data/registry.js';
import { languageViews } from '../../data/training-corpus.js';
import type { Qrels, Query } from '../../data/types.js';
import type { DocidTable } from '../../docids/table.js';
import { evaluateRun } from '../../eval/metrics.js';
import type { T5Model } from '../../model/t5.js';
import { clampBeam, withModelSearcher } from '../../search/searcher.js';
import type { SubwordTokenizer } from '../../text/tokenizer/index.js';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import { linePlotSvg } from './plot.js';

/** Metrics measured at each point; the first one decides the best point. */
export const DEV_CURVE_METRICS = ['RR@10', 'R@1', 'R@10'] as const;

export interface DevPoint {
  update: number;
  epoch: number;
  /** Training seconds before this point (evaluation time excluded). */
  trainingSeconds: number;
  metrics: Record<string, number>;
  /** Seconds the evaluation took. */
  seconds: number;
}

export interface DevQueries {
  queries: Query[];
  qrels: Qrels;
}

/**
 * The judged queries of a dataset's split; for XQuAD with several languages, those of every
 * language, ids prefixed `lang/` (the docid keys are relevance ids, shared by translations).
 */
export async function loadDevQueries(
  datasetId: string,
  languages: readonly string[] | null,
  dataDir: string | undefined,
  split: string,
): Promise<DevQueries> {
  const queries: Query[] = [];
  const qrels: Qrels = new Map();
  const views = languageViews(datasetId, languages);
  const prefix = views.length > 1;
  for (const view of views) {
    const dataset = await openDataset({ id: view.id, dataDir });
    if (!dataset.splits.includes(split))
      throw new UserError(
        `dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')}); choose another --dev-split, or pass --eval-every 0`,
      );
    const [q, r] = await Promise.all([dataset.queries(split), dataset.qrels(split)]);
    const id = (queryId: string) => (prefix ? `${view.lang}/${queryId}` : queryId);
    for (const query of q) queries.push({ ...query, id: id(query.id), ...(view.lang === null ? {} : { lang: view.lang }) });
    for (const [queryId, judged] of r) qrels.set(id(queryId), judged);
  }
  return { queries: queries.filter((q) => qrels.has(q.id)), qrels };
}

/** A seeded sample of `limit` judged queries (all of them when `limit` is 0 or larger than the set). */
export function sampleDevQueries(dev: DevQueries, limit: number, seed: number): DevQueries {
  let queries = dev.queries;
  if (limit > 0 && queries.length > limit) queries = new Rng(seed ^ 0x51ed).shuffle([...queries]).slice(0, limit);
  return { queries, qrels: new Map(queries.map((q) => [q.id, dev.qrels.get(q.id)!])) };
}

export interface DevTrackerOptions {
  model: T5Model;
  tokenizer: SubwordTokenizer;
  docids: DocidTable;
  dev: DevQueries;
  beam: number;
  maxQueryTokens: number;
  threads?: number;
  /** Folder for dev.csv and dev.svg (none written when undefined). */
  outDir?: string;
  log: (line: string) => void;
  label: string;
}

/** Evaluates on dev, records the curve and keeps the best weights. */
export class DevTracker {
  readonly points: DevPoint[] = [];
  private bestIndex = -1;
  private bestWeights: Float32Array[] | null = null;
  /** Evaluations since the best one (for early stopping). */
  sinceBest = 0;

  constructor(private readonly options: DevTrackerOptions) {}

  get devQueryCount(): number {
    return this.options.dev.queries.length;
  }

  get best(): DevPoint | null {
    return this.bestIndex < 0 ? null : this.points[this.bestIndex];
  }

  async evaluate(update: number, epoch: number, trainingSeconds: number): Promise<DevPoint> {
    const { model, tokenizer, docids, dev } = this.options;
    const started = performance.now();
    const { beam, k } = clampBeam(docids.size, this.options.beam);
    const run = await withModelSearcher(model, { tokenizer, docids }, { threads: this.options.threads }, (searcher) =>
      searcher.searchRun(dev.queries, { beam, k, maxQueryTokens: this.options.maxQueryTokens, progress: false }),
    );
    const metrics = evaluateRun(run, dev.qrels, [...DEV_CURVE_METRICS]).mean;
    const point: DevPoint = { update, epoch, trainingSeconds, metrics, seconds: (performance.now() - started) / 1000 };
    this.points.push(point);
    const key = DEV_CURVE_METRICS[0];
    const improved = this.bestIndex < 0 || metrics[key] > this.points[this.bestIndex].metrics[key];
    if (improved) {
      this.bestIndex = this.points.length - 1;
      this.bestWeights = model.parameters.map((p) => Float32Array.from(p.data));
      this.sinceBest = 0;
    } else {
      this.sinceBest += 1;
    }
    this.options.log(
      `${this.options.label}: update ${update} (${(trainingSeconds / 60).toFixed(1)} min): dev ${DEV_CURVE_METRICS.map((m) => `${m} ${metrics[m].toFixed(4)}`).join(', ')}${improved ? ' (best)' : ''} [${dev.queries.length} queries, ${point.seconds.toFixed(1)} s]`,
    );
    this.writeCurve();
    return point;
  }

  /** Puts the best point's weights back into the model; returns that point. */
  restoreBest(): DevPoint | null {
    if (this.bestWeights === null) return null;
    const weights = this.bestWeights;
    this.options.model.parameters.forEach((p, i) => p.data.set(weights[i]));
    return this.best;
  }

  private writeCurve(): void {
    if (this.options.outDir === undefined) return;
    writeFileAtomicSync(join(this.options.outDir, 'dev.csv'), devCurveCsv(this.points));
    writeFileSync(join(this.options.outDir, 'dev.svg'), devCurveSvg([{ name: this.options.label, points: this.points }]));
  }
}

export function devCurveCsv(points: readonly DevPoint[]): string {
  const header = ['update', 'epoch', 'training_minutes', ...DEV_CURVE_METRICS, 'eval_seconds'].join(',');
  const rows = points.map((p) =>
    [
      p.update,
      p.epoch,
      (p.trainingSeconds / 60).toFixed(3),
      ...DEV_CURVE_METRICS.map((m) => p.metrics[m].toFixed(4)),
      p.seconds.toFixed(1),
    ].join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/** Dev RR@10 against training minutes, one line per run (learning curves side by side). */
export function devCurveSvg(runs: readonly { name: string; points: readonly DevPoint[] }[], title = 'dev RR@10 during training'): string {
  return linePlotSvg(
    runs.map((run) => ({
      name: run.name,
      points: run.points.map((p) => [p.trainingSeconds / 60, p.metrics[DEV_CURVE_METRICS[0]]] as const),
    })),
    { title, xLabel: 'training minutes', yLabel: DEV_CURVE_METRICS[0] },
  );
}
