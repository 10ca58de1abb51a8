/**
 * A T5 model trained on a preference objective: the trainer's `TrainableModel` over
 * preference batches (the parameters are the T5Model's own arrays, updated in place). The
 * scorer of grouped rows it shares with negative mining is src/model/grouped.ts.
 */
import { Session, exportModel, type HostTensor } from '../../../engine/index.js';
import type { Gradients, Parameter } from '../../../engine/optim/types.js';
import type { T5Model } from '../../../model/t5.js';
import type { LossAndGradients, TrainableModel } from '../../../engine/optim/trainable.js';
import type { PreferenceBatch } from '../../../model/grouped-batch.js';
import { groupedFeeds } from '../../../model/grouped.js';
import { PositionInputs } from '../../../model/t5.js';
import { buildPreferenceTrainingGraph, hasPrefixes, type PreferenceObjective } from './graph.js';

/**
 * The prefix masks of RIPOR's prefix-oriented loss for targets of `targetLength` positions:
 * one row per prefix length (the first p positions), then the whole docid; each prefix's
 * margin is the full margin scaled by p / targetLength (the whole docid gets the full margin).
 * For MarginMSE (`margin` undefined) the feed is that share itself, `prefix_scale`, which
 * scales each pair's teacher margin in the graph.
 */
export function prefixFeeds(
  prefixLengths: readonly number[],
  margin: number | undefined,
  targetLength: number,
): Record<string, HostTensor> {
  const lengths = [...prefixLengths.filter((p) => p < targetLength), targetLength];
  const mask = new Float32Array(lengths.length * targetLength);
  lengths.forEach((p, i) => mask.fill(1, i * targetLength, i * targetLength + p));
  const share = Float32Array.from(lengths, (p) => ((margin ?? 1) * p) / targetLength);
  return {
    prefix_mask: { data: mask, dims: [lengths.length, targetLength] },
    [margin === undefined ? 'prefix_scale' : 'prefix_margin']: { data: share, dims: [lengths.length] },
  };
}

export interface PreferenceStepResult extends LossAndGradients {
  rankLoss: number;
  generationLoss?: number;
  /** Mean of log π(d|q) − log πref(d|q) over the positives and over the negatives (TRL's chosen / rejected rewards ÷ β). */
  positiveShift: number;
  negativeShift: number;
}

/** Mean policy − reference log-probability over the positive rows and over the real negative rows. */
function shifts(batch: PreferenceBatch, scores: Float32Array): { positiveShift: number; negativeShift: number } {
  let positive = 0;
  let negative = 0;
  let negatives = 0;
  for (let row = 0; row < batch.rows; row++) {
    const shift = scores[row] - batch.reference[row];
    if (row % batch.groupSize === 0) positive += shift;
    else if (batch.groupBias[row] === 0) {
      negative += shift;
      negatives++;
    }
  }
  return { positiveShift: positive / batch.groups, negativeShift: negatives === 0 ? 0 : negative / negatives };
}

export interface PreferenceModelOptions {
  threads?: number;
}

/**
 * The trainer's view of a T5 model under a preference objective. Each call runs one graph:
 * forward over the batch's grouped rows, the loss, and the gradient of every parameter.
 */
export class PreferenceModel implements TrainableModel<PreferenceBatch> {
  readonly parameters: readonly Parameter[];
  private session: Promise<Session> | undefined;
  private readonly positions: PositionInputs;
  private readonly paramFeeds: Record<string, HostTensor>;
  /** Loss parts of the last step, for logging. */
  last: PreferenceStepResult | undefined;

  constructor(
    readonly model: T5Model,
    readonly objective: PreferenceObjective,
    readonly options: PreferenceModelOptions = {},
  ) {
    this.parameters = model.parameters;
    this.positions = new PositionInputs(model.config);
    this.paramFeeds = Object.fromEntries(model.parameters.map((p) => [p.name, { data: p.data, dims: p.shape }]));
  }

  private getSession(): Promise<Session> {
    this.session ??= Session.create(exportModel(buildPreferenceTrainingGraph(this.model.config, this.objective)), {
      threads: this.options.threads,
    });
    return this.session;
  }

  /** Dropout is off in preference training, so the seed is unused. */
  async lossAndGradients(batch: PreferenceBatch, _dropoutSeed: number): Promise<PreferenceStepResult> {
    const session = await this.getSession();
    const feeds: Record<string, HostTensor> = { ...this.paramFeeds, ...groupedFeeds(batch, this.positions) };
    const rank = this.objective.rank;
    if (rank.kind === 'dpo' || rank.kind === 'margin' || rank.kind === 'margin-mse') {
      const pairs = batch.pairPositive.length;
      feeds.pair_positive = { data: batch.pairPositive, dims: [pairs] };
      feeds.pair_negative = { data: batch.pairNegative, dims: [pairs] };
      feeds.pair_weight = { data: batch.pairWeight, dims: [pairs] };
      if (rank.kind === 'margin-mse') feeds.pair_target = { data: batch.pairTarget, dims: [pairs] };
    }
    if (hasPrefixes(rank))
      Object.assign(feeds, prefixFeeds(rank.prefixLengths, rank.kind === 'margin' ? rank.margin : undefined, batch.targetLength));
    if (rank.kind === 'dpo') feeds.reference_log_prob = { data: batch.reference, dims: [batch.rows] };
    if (rank.kind === 'listwise') {
      feeds.group_bias = { data: batch.groupBias, dims: [batch.groups, batch.groupSize] };
      feeds.query_weight = { data: batch.queryWeight, dims: [batch.groups] };
    }
    const generation = this.objective.generationWeight > 0;
    if (generation) {
      feeds.positive_rows = { data: batch.positiveRows, dims: [batch.groups] };
      feeds.generation_tokens = { data: Float32Array.of(batch.generationTokens), dims: [] };
    }
    const result = await session.run(feeds);
    const gradients: Gradients = new Map(this.parameters.map((p) => [p.name, result[`grad.${p.name}`].data as Float32Array]));
    const step: PreferenceStepResult = {
      loss: (result.loss.data as Float32Array)[0],
      gradients,
      rankLoss: (result.rank_loss.data as Float32Array)[0],
      ...shifts(batch, result.sequence_log_prob.data as Float32Array),
      ...(generation ? { generationLoss: (result.generation_loss.data as Float32Array)[0] } : {}),
    };
    this.last = step;
    return step;
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await (await session).release();
  }
}
