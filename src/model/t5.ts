/**
 * genir's T5-style model on ONNX Runtime: parameters as Float32Arrays under HF T5 names,
 * the training step (loss + gradients) for the training loop, teacher-forced scoring, and
 * generation (encoder, cached decoder step, greedy decoding). Graph construction is in
 * t5-graph.ts; this file owns the sessions and the host-side inputs.
 */
import { Session, exportModel, type Device, type Graph, type HostTensor } from '../engine/index.js';
import type { AdamW } from '../engine/optim/adamw.js';
import { adamWFeeds } from '../engine/optim/adamw-graph.js';
import type { Gradients, Parameter } from '../engine/optim/types.js';
import { Rng } from '../util/random.js';
import type { Seq2SeqBatch } from './batch.js';
import type { LossAndGradients, TrainableModel } from '../engine/optim/trainable.js';
import { loadModelCheckpoint, saveModelCheckpoint } from './checkpoint.js';
import { t5ParameterSpecs, totalVocabSize, type T5Config } from './config.js';
import {
  checkSourceGroups,
  decodeRows,
  decoderStepFeeds,
  decoderStepResult,
  emptyDecoderCache,
  encoderInputs,
  runEncoder,
  type DecoderCache,
  type EncoderOutput,
  type StepResult,
} from './generation.js';
import {
  MASKED,
  buildDecoderStepGraph,
  buildEncoderGraph,
  buildFusedAdamWTrainingGraph,
  buildScoringGraph,
  buildTrainingGraph,
} from './t5-graph.js';

/**
 * T5's relative position buckets for queries at positions queryOffset … queryOffset+q-1 and
 * keys at 0 … k-1, as a row-major [q, k] int64 array: exact buckets for small distances,
 * logarithmic ones up to maxDistance; bidirectional (encoder) uses half the buckets per side.
 * The logarithmic bucket is computed in float32, step by step as T5 computes it in PyTorch,
 * so that distances whose bucket lies on a boundary land where a pre-trained model expects.
 */
export function relativePositionBuckets(
  queryLength: number,
  keyLength: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
  queryOffset = 0,
): BigInt64Array {
  const out = new BigInt64Array(queryLength * keyLength);
  const buckets = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
  const maxExact = Math.floor(buckets / 2);
  const logRange = Math.fround(Math.log(maxDistance / maxExact));
  const f = Math.fround;
  for (let q = 0; q < queryLength; q++) {
    for (let k = 0; k < keyLength; k++) {
      let relative = k - (q + queryOffset);
      let bucket = 0;
      if (bidirectional) {
        if (relative > 0) bucket += buckets;
        relative = Math.abs(relative);
      } else {
        relative = -Math.min(relative, 0);
      }
      if (relative < maxExact) bucket += relative;
      else
        bucket += Math.min(maxExact + Math.trunc(f(f(f(Math.log(f(relative / maxExact))) / logRange) * (buckets - maxExact))), buckets - 1);
      out[q * keyLength + k] = BigInt(bucket);
    }
  }
  return out;
}

/** [len, len] additive mask: 0 on and below the diagonal, MASKED above (future positions). */
export function causalBias(length: number): Float32Array {
  const out = new Float32Array(length * length);
  for (let q = 0; q < length; q++) out.fill(MASKED, q * length + q + 1, (q + 1) * length);
  return out;
}

export interface T5RuntimeOptions {
  /** ORT intra-op threads (default: all cores). */
  threads?: number;
  /**
   * Whether idle ORT threads busy-wait between ops (default: ORT's, true). Spinning saves
   * thread wake-ups on an idle machine but steals time from other processes on busy cores.
   */
  spinning?: boolean;
  /**
   * Bake the current weights into the encoder, decoder-step and scoring graphs as
   * initializers, so ORT pre-packs them (faster generation). Those sessions then keep the
   * weights they were created with: call `invalidateInferenceSessions()` after changing the
   * weights. Default false: every graph reads the live parameter arrays.
   */
  bakeInferenceWeights?: boolean;
  /** Where ORT runs the graphs (default cpu). */
  device?: Device;
  /** Label smoothing ε of the training graphs' cross-entropy (default 0; scoring and generation never smooth). */
  labelSmoothing?: number;
  /** ORT's per-node profile of every session this model opens, JSON files with this prefix (benchmarks; see `endProfiling`). */
  profilePrefix?: string;
}

/** Initial parameter values, HF T5's scheme (see ParameterSpec.init), from a seeded RNG. */
export function initialParameters(config: T5Config, seed: number): Parameter[] {
  const rng = new Rng(seed);
  return t5ParameterSpecs(config).map((spec) => {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init.kind === 'ones') data.fill(1);
    else if (spec.init.kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = rng.normal() * spec.init.std;
    return { name: spec.name, shape: spec.shape, data };
  });
}

/** Inputs that depend only on lengths, cached per length (also the grouped graphs', model/grouped.ts). */
export class PositionInputs {
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

  encoder(srcLength: number): HostTensor {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.config;
    return this.cached(`e${srcLength}`, () => ({
      data: relativePositionBuckets(srcLength, srcLength, true, n, d),
      dims: [srcLength, srcLength],
    }));
  }

  decoder(tgtLength: number): HostTensor {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.config;
    return this.cached(`d${tgtLength}`, () => ({
      data: relativePositionBuckets(tgtLength, tgtLength, false, n, d),
      dims: [tgtLength, tgtLength],
    }));
  }

  /** Buckets of the query at `position` against keys 0 … position. */
  decoderStep(position: number): HostTensor {
    const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.config;
    return this.cached(`s${position}`, () => ({
      data: relativePositionBuckets(1, position + 1, false, n, d, position),
      dims: [1, position + 1],
    }));
  }

  causal(tgtLength: number): HostTensor {
    return this.cached(`c${tgtLength}`, () => ({ data: causalBias(tgtLength), dims: [tgtLength, tgtLength] }));
  }
}

export type { DecoderCache, EncoderOutput } from './generation.js';

export class T5Model implements TrainableModel<Seq2SeqBatch> {
  readonly parameters: Parameter[];
  private readonly positions: PositionInputs;
  private readonly sessions = new Map<string, Promise<Session>>();
  private paramFeeds: Record<string, HostTensor> | undefined;
  private adamGraphKey: string | undefined;

  constructor(
    readonly config: T5Config,
    parameters: Parameter[],
    readonly options: T5RuntimeOptions = {},
  ) {
    const specs = t5ParameterSpecs(config);
    if (parameters.length !== specs.length || specs.some((spec, i) => parameters[i].name !== spec.name)) {
      throw new Error('T5Model: parameters must follow t5ParameterSpecs(config) in order');
    }
    this.parameters = parameters;
    this.positions = new PositionInputs(config);
  }

  /** A freshly initialised model. */
  static create(config: T5Config, seed: number, options: T5RuntimeOptions = {}): T5Model {
    return new T5Model(config, initialParameters(config, seed), options);
  }

  /** Loads a checkpoint directory (model.safetensors + config.json), checking every tensor. */
  static load(dir: string, options: T5RuntimeOptions = {}): T5Model {
    const { config, weights } = loadModelCheckpoint(dir);
    const parameters = t5ParameterSpecs(config).map((spec) => ({ name: spec.name, shape: spec.shape, data: weights.get(spec.name)! }));
    return new T5Model(config, parameters, options);
  }

  async save(dir: string): Promise<void> {
    await saveModelCheckpoint(dir, this.config, this.weights());
  }

  weights(): Map<string, Float32Array> {
    return new Map(this.parameters.map((p) => [p.name, p.data]));
  }

  /** Every graph, built and exported with the parameters as inputs (so they always read the current values). */
  private session(
    kind: 'train' | 'train-adamw' | 'score' | 'encoder' | 'decoder' | 'decoder-shared',
    build: () => Graph,
  ): Promise<Session> {
    let session = this.sessions.get(kind);
    if (session === undefined) {
      const bake = this.options.bakeInferenceWeights === true && !kind.startsWith('train');
      session = Session.create(exportModel(build(), bake ? { params: this.weights() } : {}), {
        threads: this.options.threads,
        spinning: this.options.spinning,
        device: this.options.device,
        profilePrefix: this.options.profilePrefix,
      });
      this.sessions.set(kind, session);
    }
    return session;
  }

  /** Ends ORT's profiling in every open session (a model created with `profilePrefix`), which completes the profile files. */
  async endProfiling(): Promise<void> {
    for (const session of this.sessions.values()) (await session).endProfiling();
  }

  /** Drops the inference sessions so the next call bakes the current weights (see bakeInferenceWeights). */
  async invalidateInferenceSessions(): Promise<void> {
    for (const kind of ['score', 'encoder', 'decoder', 'decoder-shared']) {
      const session = this.sessions.get(kind);
      this.sessions.delete(kind);
      if (session) await (await session).release();
    }
  }

  private params(): Record<string, HostTensor> {
    this.paramFeeds ??= Object.fromEntries(this.parameters.map((p) => [p.name, { data: p.data, dims: p.shape }]));
    return this.paramFeeds;
  }

  private teacherForcedFeeds(batch: Seq2SeqBatch): Record<string, HostTensor> {
    const { size, sourceLength: s, targetLength: t } = batch;
    return {
      ...this.params(),
      input_ids: { data: batch.inputIds, dims: [size, s] },
      attention_mask: { data: batch.attentionMask, dims: [size, s] },
      decoder_input_ids: { data: batch.decoderInputIds, dims: [size, t] },
      labels: { data: batch.labels, dims: [size, t] },
      encoder_position_buckets: this.positions.encoder(s),
      decoder_position_buckets: this.positions.decoder(t),
      decoder_causal_bias: this.positions.causal(t),
    };
  }

  /** Mean token cross-entropy of the batch and the gradient of every parameter (training mode, dropout on). */
  async lossAndGradients(batch: Seq2SeqBatch, dropoutSeed: number): Promise<LossAndGradients> {
    const session = await this.session('train', () => buildTrainingGraph(this.config, { labelSmoothing: this.options.labelSmoothing }));
    const feeds = this.teacherForcedFeeds(batch);
    if (this.config.dropoutRate > 0) feeds.dropout_seed = { data: Uint32Array.of(dropoutSeed >>> 0), dims: [] };
    const result = await session.run(feeds);
    const gradients: Gradients = new Map(this.parameters.map((p) => [p.name, result[`grad.${p.name}`].data as Float32Array]));
    return { loss: (result.loss.data as Float32Array)[0], gradients };
  }

  /**
   * One whole training step with global-norm clipping and the AdamW update computed inside
   * the ORT graph, writing the new parameters and moments in place (the alternative to
   * lossAndGradients + AdamW.update; same arithmetic). `optimizer` holds the moments and
   * counts the update; a non-finite gradient norm skips the update.
   */
  async adamWStep(
    batch: Seq2SeqBatch,
    dropoutSeed: number,
    optimizer: AdamW,
    lr: number,
    clipNorm = 1,
  ): Promise<{ loss: number; gradNorm: number }> {
    const update = optimizer.externalUpdate(lr);
    const key = `${optimizer.beta1}/${optimizer.beta2}/${optimizer.eps}/${update.decays.join()}`;
    if (this.adamGraphKey !== undefined && this.adamGraphKey !== key)
      throw new Error('adamWStep: one model trains with one optimizer configuration');
    this.adamGraphKey = key;
    const decays = new Set(this.parameters.filter((_, i) => update.decays[i]).map((p) => p.name));
    const session = await this.session('train-adamw', () =>
      buildFusedAdamWTrainingGraph(
        this.config,
        { beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, decays: (name) => decays.has(name) },
        { labelSmoothing: this.options.labelSmoothing },
      ),
    );
    const feeds = this.teacherForcedFeeds(batch);
    if (this.config.dropoutRate > 0) feeds.dropout_seed = { data: Uint32Array.of(dropoutSeed >>> 0), dims: [] };
    const adam = adamWFeeds(this.parameters, update, clipNorm);
    Object.assign(feeds, adam.feeds);
    const into = adam.into;
    const result = await session.run(feeds, ['loss', 'grad_norm', ...Object.keys(into)], into);
    const gradNorm = (result.grad_norm.data as Float32Array)[0];
    if (Number.isFinite(gradNorm)) optimizer.commitExternalUpdate();
    return { loss: (result.loss.data as Float32Array)[0], gradNorm };
  }

  /** Summed log-probability of each row's labels under teacher forcing (no dropout). */
  async score(batch: Seq2SeqBatch): Promise<Float32Array> {
    const session = await this.session('score', () => buildScoringGraph(this.config));
    const result = await session.run(this.teacherForcedFeeds(batch));
    return result.sequence_log_prob.data as Float32Array;
  }

  /** Runs the encoder over padded ids [batch, srcLength] and a 1/0 mask of the same shape. */
  async encode(inputIds: BigInt64Array, attentionMask: Float32Array, batch: number, srcLength: number): Promise<EncoderOutput> {
    const session = await this.session('encoder', () => buildEncoderGraph(this.config));
    const run = (feeds: Record<string, HostTensor>) => session.run({ ...this.params(), ...feeds });
    return runEncoder(this.config, run, inputIds, attentionMask, batch, srcLength, this.positions.encoder(srcLength));
  }

  /** An empty self-attention cache for `batch` hypotheses. */
  emptyCache(batch: number): DecoderCache {
    return emptyDecoderCache(this.config, batch);
  }

  /**
   * One decoding step: `tokens` (one per hypothesis, row i uses row i of `cache`) →
   * next-token log-probabilities [batch, vocab] and the extended cache. `encoded` has one
   * row per hypothesis, or one row per group of hypotheses that decode the same source (equal
   * consecutive groups; a single row for beam search over one source): nothing is copied per
   * hypothesis. Reorder or expand rows with `expandEncoded` (generation.ts).
   */
  async decoderStep(encoded: EncoderOutput, cache: DecoderCache, tokens: BigInt64Array): Promise<StepResult> {
    checkSourceGroups(encoded.batch, tokens.length);
    const session = await this.session('decoder', () => buildDecoderStepGraph(this.config));
    const feeds = { ...this.params(), ...decoderStepFeeds(this.config, encoded, cache, tokens, this.positions.decoderStep(cache.length)) };
    return decoderStepResult(this.config, await session.run(feeds), cache);
  }

  /**
   * Greedy decoding of a batch of sources (token ids without eos; eos is appended):
   * returns each generated sequence without decoder-start and eos tokens.
   */
  async greedyDecode(sources: readonly ArrayLike<number>[], maxLength: number): Promise<number[][]> {
    const { inputIds, mask, srcLength } = encoderInputs(sources, this.config.padTokenId, this.config.eosTokenId);
    const encoded = await this.encode(inputIds, mask, sources.length, srcLength);
    const vocab = totalVocabSize(this.config);
    return decodeRows(this, encoded, maxLength, (logProbs, offset) => {
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logProbs[offset + v] > logProbs[offset + best]) best = v;
      return best;
    });
  }

  /** Frees the ORT sessions; the model can still be used (sessions are re-created on demand). */
  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}
