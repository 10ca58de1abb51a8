/**
 * RLGF: the retriever learns from the generator. One training step encodes a batch of
 * synthetic queries, their (greedy) augmentations and, per query, a list of passages in the
 * order the generator ranked them; the loss is ListMLE over the mixed query's scores of that
 * list plus an in-batch contrastive loss between each query and its own augmentation.
 *
 * The reference code also keeps the augmentation embedding's norm at 1; genir's encoder ends
 * in an L2 normalisation, so that term is identically 0 here and is left out.
 */
import {
  Graph,
  Session,
  exportModel,
  gradients,
  add,
  mul,
  reduceSum,
  reshape,
  unsqueeze,
  type HostTensor,
  type Tensor,
} from '../../../engine/index.js';
import type { Gradients, Parameter } from '../../../engine/optim/types.js';
import type { T5Config } from '../../../model/config.js';
import { DenseBuilder, encoderParameterSpecs } from '../../../model/dense-graph.js';
import { padSequences, type DenseModel } from '../../../model/dense.js';
import { relativePositionBuckets } from '../../../model/t5.js';
import { infoNceLoss } from '../../../model/dense-loss.js';
import type { LossAndGradients, TrainableModel } from '../../../engine/optim/trainable.js';
import { listMleLoss } from './listmle.js';
import { QUERY_SHARE } from './mixing.js';

export interface RlgfObjective {
  /** Passages per query, in the generator's order (16: the positive and 15 mined). */
  listSize: number;
  /** Softmax temperature of both terms (0.05). */
  temperature: number;
  /** Weight of the query ↔ augmentation contrastive term (1; 0 leaves the term out of the gradient). */
  contrastiveWeight: number;
  /** Positions of each list whose Plackett–Luce terms count (listSize: full ListMLE; 1: the first against the rest). */
  listDepth: number;
}

/**
 * The RLGF objective on encoded vectors: `queries` and `augmentations` [queries, d], `passages`
 * [queries·listSize, d] with each query's list in the generator's order. ListMLE over
 * ⟨share·q + (1 − share)·a, p⟩ / temperature, plus the weighted in-batch InfoNCE of each query
 * against the batch's augmentations (its own is the positive).
 */
export function rlgfLoss(
  queries: Tensor,
  augmentations: Tensor,
  passages: Tensor,
  selfTargets: Tensor,
  selfBias: Tensor,
  objective: RlgfObjective,
): { loss: Tensor; listLoss: Tensor; contrastive: Tensor } {
  const dim = queries.shape[1];
  const mixed = add(mul(queries, QUERY_SHARE), mul(augmentations, 1 - QUERY_SHARE));
  const lists = reshape(passages, [-1, objective.listSize, dim]);
  const scores = mul(reduceSum(mul(lists, unsqueeze(mixed, [1])), [2]), 1 / objective.temperature);
  const listLoss = listMleLoss(scores, objective.listSize, objective.listDepth);
  const contrastive = infoNceLoss(queries, augmentations, selfTargets, selfBias, { scale: 1 / objective.temperature }).loss;
  return { loss: add(listLoss, mul(contrastive, objective.contrastiveWeight)), listLoss, contrastive };
}

/**
 * Inputs `query_*` [queries, qlen], `aug_*` [queries, alen], `doc_*` [queries·listSize, dlen]
 * (ids, mask, position buckets each), `self_targets` int64 [queries] (0…queries−1) and
 * `self_bias` [queries, queries] (zeros); `dropout_seed` with dropout. Outputs `loss`,
 * `list_loss`, `contrastive_loss` and `grad.<name>` for every encoder parameter.
 */
export function buildRlgfTrainingGraph(config: T5Config, objective: RlgfObjective): Graph {
  const g = new Graph('reinforced-ir-rlgf');
  const pass = (prefix: string, rows: string, length: string) => ({
    ids: g.input(`${prefix}_ids`, 'int64', [rows, length]),
    mask: g.input(`${prefix}_mask`, 'float32', [rows, length]),
    buckets: g.input(`${prefix}_position_buckets`, 'int64', [length, length]),
  });
  const queryIn = pass('query', 'queries', 'qlen');
  const augIn = pass('aug', 'queries', 'alen');
  const docIn = pass('doc', 'docs', 'dlen');
  const selfTargets = g.input('self_targets', 'int64', ['queries']);
  const selfBias = g.input('self_bias', 'float32', ['queries', 'queries']);
  const seed = config.dropoutRate > 0 ? g.input('dropout_seed', 'uint32', []) : undefined;
  const b = new DenseBuilder(g, config, seed);
  const queries = b.encode(queryIn.ids, queryIn.mask, queryIn.buckets, 'queries', 'qlen');
  const augmentations = b.encode(augIn.ids, augIn.mask, augIn.buckets, 'queries', 'alen');
  const passages = b.encode(docIn.ids, docIn.mask, docIn.buckets, 'docs', 'dlen');
  const { loss, listLoss, contrastive } = rlgfLoss(queries, augmentations, passages, selfTargets, selfBias, objective);
  g.output('loss', loss);
  g.output('list_loss', listLoss);
  g.output('contrastive_loss', contrastive);
  const params = encoderParameterSpecs(config).map((spec) => b.param(spec.name));
  gradients(loss, params).forEach((grad, i) => g.output(`grad.${params[i].name}`, grad));
  return g;
}

/** One RLGF example: token ids of the query, its augmentation, and its passages in the generator's order. */
export interface RlgfExample {
  query: Int32Array;
  augmentation: Int32Array;
  passages: readonly Int32Array[];
}

export interface RlgfBatch {
  examples: readonly RlgfExample[];
}

/**
 * The trainer's view of a dense model under the RLGF objective. It trains the dense model's
 * own parameter arrays in place, so the DenseModel encodes with the new weights afterwards.
 */
export class RlgfModel implements TrainableModel<RlgfBatch> {
  readonly parameters: readonly Parameter[];
  private session: Promise<Session> | undefined;
  private readonly paramFeeds: Record<string, HostTensor>;
  last: { listLoss: number; contrastiveLoss: number } | undefined;

  constructor(
    readonly dense: DenseModel,
    readonly objective: RlgfObjective,
    private readonly threads?: number,
  ) {
    const names = new Set(encoderParameterSpecs(dense.config).map((s) => s.name));
    // A learned temperature is not part of this objective; only the encoder is trained.
    this.parameters = dense.parameters.filter((p) => names.has(p.name));
    this.paramFeeds = Object.fromEntries(this.parameters.map((p) => [p.name, { data: p.data, dims: p.shape }]));
  }

  private buckets(length: number): HostTensor {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.dense.config;
    return { data: relativePositionBuckets(length, length, true, n, d), dims: [length, length] };
  }

  private feedsOf(prefix: string, sequences: readonly Int32Array[]): Record<string, HostTensor> {
    const { ids, mask, length } = padSequences(sequences, this.dense.config.padTokenId);
    return {
      [`${prefix}_ids`]: { data: ids, dims: [sequences.length, length] },
      [`${prefix}_mask`]: { data: mask, dims: [sequences.length, length] },
      [`${prefix}_position_buckets`]: this.buckets(length),
    };
  }

  async lossAndGradients(batch: RlgfBatch, dropoutSeed: number): Promise<LossAndGradients> {
    this.session ??= Session.create(exportModel(buildRlgfTrainingGraph(this.dense.config, this.objective)), { threads: this.threads });
    const session = await this.session;
    const n = batch.examples.length;
    for (const example of batch.examples) {
      if (example.passages.length !== this.objective.listSize)
        throw new RangeError(`RlgfModel: a list of ${example.passages.length} passages, expected ${this.objective.listSize}`);
    }
    const feeds: Record<string, HostTensor> = {
      ...this.paramFeeds,
      ...this.feedsOf(
        'query',
        batch.examples.map((e) => e.query),
      ),
      ...this.feedsOf(
        'aug',
        batch.examples.map((e) => e.augmentation),
      ),
      ...this.feedsOf(
        'doc',
        batch.examples.flatMap((e) => e.passages),
      ),
      self_targets: { data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), dims: [n] },
      self_bias: { data: new Float32Array(n * n), dims: [n, n] },
    };
    if (this.dense.config.dropoutRate > 0) feeds.dropout_seed = { data: Uint32Array.of(dropoutSeed >>> 0), dims: [] };
    const result = await session.run(feeds);
    const grads: Gradients = new Map(this.parameters.map((p) => [p.name, result[`grad.${p.name}`].data as Float32Array]));
    this.last = {
      listLoss: (result.list_loss.data as Float32Array)[0],
      contrastiveLoss: (result.contrastive_loss.data as Float32Array)[0],
    };
    return { loss: (result.loss.data as Float32Array)[0], gradients: grads };
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await (await session).release();
  }
}
