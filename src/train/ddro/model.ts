/**
 * A T5 model trained on a preference objective: the trainer's `TrainableModel` over
 * preference batches (the parameters are the T5Model's own arrays, updated in place), and a
 * scorer for grouped rows (reference log-probabilities, model scores of candidates).
 */
import { Session, exportModel, type HostTensor } from '../../engine/index.js';
import type { Gradients, Parameter } from '../../engine/optim/types.js';
import type { T5Config } from '../../model/config.js';
import { causalBias, relativePositionBuckets, type T5Model } from '../../model/t5.js';
import type { LossAndGradients, TrainableModel } from '../trainer.js';
import type { BatchTokens } from '../batching.js';
import { makePreferenceBatch, type PreferenceBatch, type PreferenceGroup } from './batch.js';
import { buildGroupedScoringGraph, buildPreferenceTrainingGraph, type PreferenceObjective } from './graph.js';

/** Position inputs that depend only on lengths, cached per length. */
class LengthInputs {
  private readonly cache = new Map<string, HostTensor>();

  constructor(private readonly config: T5Config) {}

  private cached(key: string, make: () => HostTensor): HostTensor {
    let value = this.cache.get(key);
    if (value === undefined) {
      value = make();
      this.cache.set(key, value);
    }
    return value;
  }

  feeds(sourceLength: number, targetLength: number): Record<string, HostTensor> {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.config;
    return {
      encoder_position_buckets: this.cached(`e${sourceLength}`, () => ({ data: relativePositionBuckets(sourceLength, sourceLength, true, n, d), dims: [sourceLength, sourceLength] })),
      decoder_position_buckets: this.cached(`d${targetLength}`, () => ({ data: relativePositionBuckets(targetLength, targetLength, false, n, d), dims: [targetLength, targetLength] })),
      decoder_causal_bias: this.cached(`c${targetLength}`, () => ({ data: causalBias(targetLength), dims: [targetLength, targetLength] })),
    };
  }
}

function groupedFeeds(batch: PreferenceBatch, lengths: LengthInputs): Record<string, HostTensor> {
  return {
    input_ids: { data: batch.inputIds, dims: [batch.queries, batch.sourceLength] },
    attention_mask: { data: batch.attentionMask, dims: [batch.queries, batch.sourceLength] },
    row_query: { data: batch.rowQuery, dims: [batch.rows] },
    decoder_input_ids: { data: batch.decoderInputIds, dims: [batch.rows, batch.targetLength] },
    labels: { data: batch.labels, dims: [batch.rows, batch.targetLength] },
    ...lengths.feeds(batch.sourceLength, batch.targetLength),
  };
}

/**
 * The prefix masks of RIPOR's prefix-oriented loss for targets of `targetLength` positions:
 * one row per prefix length (the first p positions), then the whole docid; each prefix's
 * margin is the full margin scaled by p / targetLength (the whole docid gets the full margin).
 */
export function prefixFeeds(prefixLengths: readonly number[], margin: number, targetLength: number): Record<string, HostTensor> {
  const lengths = [...prefixLengths.filter((p) => p < targetLength), targetLength];
  const mask = new Float32Array(lengths.length * targetLength);
  lengths.forEach((p, i) => mask.fill(1, i * targetLength, i * targetLength + p));
  return {
    prefix_mask: { data: mask, dims: [lengths.length, targetLength] },
    prefix_margin: { data: Float32Array.from(lengths, (p) => (margin * p) / targetLength), dims: [lengths.length] },
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
  private readonly lengths: LengthInputs;
  private readonly paramFeeds: Record<string, HostTensor>;
  /** Loss parts of the last step, for logging. */
  last: PreferenceStepResult | undefined;

  constructor(
    readonly model: T5Model,
    readonly objective: PreferenceObjective,
    readonly options: PreferenceModelOptions = {},
  ) {
    this.parameters = model.parameters;
    this.lengths = new LengthInputs(model.config);
    this.paramFeeds = Object.fromEntries(model.parameters.map((p) => [p.name, { data: p.data, dims: p.shape }]));
  }

  private getSession(): Promise<Session> {
    this.session ??= Session.create(exportModel(buildPreferenceTrainingGraph(this.model.config, this.objective)), { threads: this.options.threads });
    return this.session;
  }

  /** Dropout is off in preference training, so the seed is unused. */
  async lossAndGradients(batch: PreferenceBatch, _dropoutSeed: number): Promise<PreferenceStepResult> {
    const session = await this.getSession();
    const feeds: Record<string, HostTensor> = { ...this.paramFeeds, ...groupedFeeds(batch, this.lengths) };
    const rank = this.objective.rank;
    if (rank.kind === 'dpo' || rank.kind === 'margin') {
      const pairs = batch.pairPositive.length;
      feeds.pair_positive = { data: batch.pairPositive, dims: [pairs] };
      feeds.pair_negative = { data: batch.pairNegative, dims: [pairs] };
      feeds.pair_weight = { data: batch.pairWeight, dims: [pairs] };
    }
    if (rank.kind === 'margin' && rank.prefixLengths !== undefined && rank.prefixLengths.length > 0) Object.assign(feeds, prefixFeeds(rank.prefixLengths, rank.margin, batch.targetLength));
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

export interface GroupedScorerOptions {
  threads?: number;
  /** Target rows per graph run (default 512); groups are never split across runs. */
  rowsPerRun?: number;
}

/**
 * Teacher-forced log-probabilities of many (query, docid) rows, grouped by query so the
 * encoder runs once per query. The weights are baked into the graph at creation (a frozen
 * model, e.g. the SFT reference).
 */
export class GroupedScorer {
  private readonly lengths: LengthInputs;

  private constructor(
    readonly config: T5Config,
    private readonly session: Session,
    private readonly options: GroupedScorerOptions,
  ) {
    this.lengths = new LengthInputs(config);
  }

  static async create(model: T5Model, options: GroupedScorerOptions = {}): Promise<GroupedScorer> {
    const session = await Session.create(exportModel(buildGroupedScoringGraph(model.config), { params: model.weights() }), { threads: options.threads });
    return new GroupedScorer(model.config, session, options);
  }

  /** Summed log-probability of every target of every group (targets without EOS; EOS is scored too). */
  async score(groups: readonly Pick<PreferenceGroup, 'source' | 'targets'>[], tokens: BatchTokens, onProgress?: (groupsDone: number) => void): Promise<number[][]> {
    const rowsPerRun = this.options.rowsPerRun ?? 512;
    const out: number[][] = [];
    // Groups of similar size run together so little is padded.
    const order = groups.map((_, i) => i).sort((a, b) => groups[a].targets.length - groups[b].targets.length || groups[a].source.length - groups[b].source.length);
    const results = new Array<number[]>(groups.length);
    let start = 0;
    while (start < order.length) {
      let end = start + 1;
      let largest = groups[order[start]].targets.length;
      while (end < order.length) {
        const size = Math.max(largest, groups[order[end]].targets.length);
        if (size * (end - start + 1) > rowsPerRun) break;
        largest = size;
        end++;
      }
      const chunk = order.slice(start, end).map((i) => ({ source: groups[i].source, targets: groups[i].targets, pairs: [] }));
      const batch = makePreferenceBatch(chunk, tokens);
      const result = await this.session.run(groupedFeeds(batch, this.lengths));
      const scores = result.sequence_log_prob.data as Float32Array;
      order.slice(start, end).forEach((groupIndex, q) => {
        results[groupIndex] = Array.from({ length: groups[groupIndex].targets.length }, (_, j) => scores[q * batch.groupSize + j]);
      });
      onProgress?.(end);
      start = end;
    }
    out.push(...results);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
