/**
 * genir's dense dual encoder: one T5 encoder for queries and passages (a marker token first
 * tells them apart), mean pooling, unit-length vectors. This file owns the parameters, the
 * ORT sessions (training step and encoder), tokenisation of queries and passages, and the
 * checkpoint (HF T5EncoderModel names in model.safetensors, config.json with genir's dense
 * fields).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session, exportModel, type HostTensor } from '../engine/index.js';
import type { Gradients, Parameter } from '../engine/optim/types.js';
import type { LossAndGradients, TrainableModel } from '../engine/optim/trainable.js';
import { buildDenseTrainingGraph, type DenseTemperature } from './dense-train-graph.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { CONFIG_FILE, WEIGHTS_FILE } from './checkpoint.js';
import { fromHfConfig, toHfConfig, type T5Config } from './config.js';
import { LOGIT_SCALE_PARAM, buildDenseEncoderGraph, encoderParameterSpecs } from './dense-graph.js';
import { readSafetensors, writeSafetensors, type TensorInput } from './safetensors.js';
import { relativePositionBuckets } from './t5.js';
import { inferenceParams } from './t5-graph.js';

/** Docid-token slots of the tokenizer that the dense model uses as input markers. */
export const QUERY_MARKER_SLOT = 0;
export const PASSAGE_MARKER_SLOT = 1;
/** Added tokens a dense model's tokenizer reserves (the two markers). */
export const DENSE_MARKER_COUNT = 2;

export interface DenseSettings {
  temperature: DenseTemperature;
  /** Tokens kept per query and per passage, marker and EOS included. */
  maxQueryTokens: number;
  maxPassageTokens: number;
}

// 128 passage tokens and (in the pipeline) lr 3e-3: on squad-dev this doubled RR@10 over 192 tokens
// and lr 1e-3 at the same 12-minute budget (docs/results.md), mostly by fitting twice the updates.
export const DEFAULT_DENSE_SETTINGS: DenseSettings = {
  temperature: { kind: 'fixed', value: 0.05 },
  maxQueryTokens: 32,
  maxPassageTokens: 128,
};

/** One training batch: tokenised queries and passages (row-major, padded), targets and masks. */
export interface DenseBatch {
  queries: number;
  queryLength: number;
  queryIds: BigInt64Array;
  queryMask: Float32Array;
  docs: number;
  docLength: number;
  docIds: BigInt64Array;
  docMask: Float32Array;
  /** The positive passage's row, per query. */
  targets: BigInt64Array;
  /** [queries, docs]: 0, or MASKED where a passage is relevant to the query but is not its target. */
  bias: Float32Array;
}

/** Token sequences padded into a [rows, length] id matrix and 1/0 mask. */
export function padSequences(
  sequences: readonly ArrayLike<number>[],
  padId: number,
): { ids: BigInt64Array; mask: Float32Array; length: number } {
  const length = Math.max(1, ...sequences.map((s) => s.length));
  const ids = new BigInt64Array(sequences.length * length).fill(BigInt(padId));
  const mask = new Float32Array(sequences.length * length);
  sequences.forEach((sequence, row) => {
    for (let i = 0; i < sequence.length; i++) ids[row * length + i] = BigInt(sequence[i]);
    mask.fill(1, row * length, row * length + sequence.length);
  });
  return { ids, mask, length };
}

/** Initial values of the encoder's parameters (HF T5's scheme) and, for a learned temperature, its log scale. */
function initialDenseParameters(config: T5Config, temperature: DenseTemperature, seed: number): Parameter[] {
  const rng = new Rng(seed);
  const parameters: Parameter[] = encoderParameterSpecs(config).map((spec) => {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init.kind === 'ones') data.fill(1);
    else if (spec.init.kind === 'normal') for (let i = 0; i < data.length; i++) data[i] = rng.normal() * spec.init.std;
    return { name: spec.name, shape: spec.shape, data };
  });
  if (temperature.kind === 'learned')
    parameters.push({ name: LOGIT_SCALE_PARAM, shape: [1], data: Float32Array.of(Math.log(1 / temperature.initial)) });
  return parameters;
}

/** Parameter names and shapes the model has, in order. */
function parameterShapes(config: T5Config, temperature: DenseTemperature): { name: string; shape: number[] }[] {
  const shapes = encoderParameterSpecs(config).map((spec) => ({ name: spec.name, shape: spec.shape }));
  if (temperature.kind === 'learned') shapes.push({ name: LOGIT_SCALE_PARAM, shape: [1] });
  return shapes;
}

export interface DenseRuntimeOptions {
  threads?: number;
  spinning?: boolean;
  /** Bake the weights into the encoder graph (fused projections): faster, but frozen at session creation. */
  bakeInferenceWeights?: boolean;
}

/** The `genir_dense` block of config.json. */
interface StoredDenseSettings {
  pooling: 'mean';
  normalize: true;
  temperature: DenseTemperature;
  max_query_tokens: number;
  max_passage_tokens: number;
  query_marker_slot: number;
  passage_marker_slot: number;
}

export class DenseModel implements TrainableModel<DenseBatch> {
  readonly parameters: Parameter[];
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly buckets = new Map<number, HostTensor>();
  private paramFeeds: Record<string, HostTensor> | undefined;
  /** Accuracy of the last training step (share of queries whose positive scored highest). */
  lastAccuracy = Number.NaN;

  constructor(
    readonly config: T5Config,
    readonly settings: DenseSettings,
    parameters: Parameter[],
    readonly options: DenseRuntimeOptions = {},
  ) {
    const shapes = parameterShapes(config, settings.temperature);
    if (parameters.length !== shapes.length || shapes.some((s, i) => parameters[i].name !== s.name)) {
      throw new Error('DenseModel: parameters must follow encoderParameterSpecs(config) (then the logit scale) in order');
    }
    if (config.docidVocabSize < DENSE_MARKER_COUNT)
      throw new Error(`DenseModel: the vocabulary needs ${DENSE_MARKER_COUNT} added marker tokens`);
    this.parameters = parameters;
  }

  static create(config: T5Config, settings: DenseSettings, seed: number, options: DenseRuntimeOptions = {}): DenseModel {
    return new DenseModel(config, settings, initialDenseParameters(config, settings.temperature, seed), options);
  }

  /** Loads config.json and model.safetensors of `dir`, checking every tensor. */
  static load(dir: string, options: DenseRuntimeOptions = {}): DenseModel {
    const configPath = join(dir, CONFIG_FILE);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`${configPath}: cannot read the dense model config (${(err as Error).message})`);
    }
    // An encoder-only model (T5EncoderModel) with T5's shapes: read them as the seq2seq reader does;
    // the decoder fields are unused.
    const config = fromHfConfig({ ...json, is_encoder_decoder: true }, configPath);
    const stored = json.genir_dense as Partial<StoredDenseSettings> | undefined;
    const temperature = stored?.temperature;
    const validTemperature =
      typeof temperature === 'object' &&
      temperature !== null &&
      ((temperature.kind === 'fixed' && temperature.value > 0) || (temperature.kind === 'learned' && temperature.initial > 0));
    if (!validTemperature || typeof stored?.max_query_tokens !== 'number' || typeof stored.max_passage_tokens !== 'number') {
      throw new UserError(`${configPath}: not a genir dense encoder config (no valid genir_dense block)`);
    }
    const settings: DenseSettings = { temperature, maxQueryTokens: stored.max_query_tokens, maxPassageTokens: stored.max_passage_tokens };
    const weightsPath = join(dir, WEIGHTS_FILE);
    const { tensors } = readSafetensors(weightsPath);
    const parameters = parameterShapes(config, settings.temperature).map(({ name, shape }) => {
      const tensor = tensors.get(name);
      if (tensor === undefined) throw new UserError(`${weightsPath}: tensor '${name}' is missing`);
      if (tensor.dtype !== 'F32' || tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
        throw new UserError(
          `${weightsPath}: tensor '${name}' is ${tensor.dtype}[${tensor.shape.join(', ')}], expected F32[${shape.join(', ')}]`,
        );
      }
      return { name, shape, data: tensor.data as Float32Array };
    });
    if (tensors.size !== parameters.length)
      throw new UserError(`${weightsPath}: ${tensors.size - parameters.length} tensors that are not parameters of this dense encoder`);
    return new DenseModel(config, settings, parameters, options);
  }

  /** Writes config.json and model.safetensors into `dir`. */
  async save(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const tensors = new Map<string, TensorInput>(this.parameters.map((p) => [p.name, { shape: p.shape, data: p.data }]));
    await writeSafetensors(join(dir, WEIGHTS_FILE), tensors, { format: 'pt', producer: 'genir' });
    const stored: StoredDenseSettings = {
      pooling: 'mean',
      normalize: true,
      temperature: this.settings.temperature,
      max_query_tokens: this.settings.maxQueryTokens,
      max_passage_tokens: this.settings.maxPassageTokens,
      query_marker_slot: QUERY_MARKER_SLOT,
      passage_marker_slot: PASSAGE_MARKER_SLOT,
    };
    const hf = { ...toHfConfig(this.config), architectures: ['T5EncoderModel'], is_encoder_decoder: false, genir_dense: stored };
    await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(hf, null, 2)}\n`);
  }

  weights(): Map<string, Float32Array> {
    return new Map(this.parameters.map((p) => [p.name, p.data]));
  }

  /** The current temperature: the fixed one, or 1 / exp(learned log scale). */
  temperature(): number {
    const t = this.settings.temperature;
    if (t.kind === 'fixed') return t.value;
    return 1 / Math.min(Math.exp(this.parameters[this.parameters.length - 1].data[0]), 100);
  }

  /** Token ids of a query: the query marker, its tokens, EOS (at most maxQueryTokens). */
  queryTokens(tokenizer: SubwordTokenizer, text: string): Int32Array {
    return this.marked(tokenizer, QUERY_MARKER_SLOT, text, this.settings.maxQueryTokens);
  }

  /** Token ids of a passage (title and text): the passage marker, its tokens, EOS (at most maxPassageTokens). */
  passageTokens(tokenizer: SubwordTokenizer, text: string): Int32Array {
    return this.marked(tokenizer, PASSAGE_MARKER_SLOT, text, this.settings.maxPassageTokens);
  }

  private marked(tokenizer: SubwordTokenizer, slot: number, text: string, max: number): Int32Array {
    const body = tokenizer.encode(text);
    const kept = Math.min(body.length, max - 2);
    const out = new Int32Array(kept + 2);
    out[0] = tokenizer.docidTokenId(slot);
    out.set(body.subarray(0, kept), 1);
    out[kept + 1] = tokenizer.eosId;
    return out;
  }

  private positionBuckets(length: number): HostTensor {
    let value = this.buckets.get(length);
    if (value === undefined) {
      const { relativeAttentionNumBuckets: n, relativeAttentionMaxDistance: d } = this.config;
      value = { data: relativePositionBuckets(length, length, true, n, d), dims: [length, length] };
      this.buckets.set(length, value);
    }
    return value;
  }

  private params(): Record<string, HostTensor> {
    this.paramFeeds ??= Object.fromEntries(this.parameters.map((p) => [p.name, { data: p.data, dims: p.shape }]));
    return this.paramFeeds;
  }

  private session(kind: 'train' | 'encoder', build: () => ReturnType<typeof buildDenseEncoderGraph>, bake: boolean): Promise<Session> {
    let session = this.sessions.get(kind);
    if (session === undefined) {
      const graph = build();
      session = Session.create(exportModel(graph, bake ? { params: inferenceParams(graph, this.weights()) } : {}), {
        threads: this.options.threads,
        spinning: this.options.spinning,
      });
      this.sessions.set(kind, session);
    }
    return session;
  }

  /** Mean InfoNCE loss of the batch and every parameter's gradient (dropout on). */
  async lossAndGradients(batch: DenseBatch, dropoutSeed: number): Promise<LossAndGradients> {
    const session = await this.session('train', () => buildDenseTrainingGraph(this.config, this.settings.temperature), false);
    const feeds: Record<string, HostTensor> = {
      ...this.params(),
      query_ids: { data: batch.queryIds, dims: [batch.queries, batch.queryLength] },
      query_mask: { data: batch.queryMask, dims: [batch.queries, batch.queryLength] },
      query_position_buckets: this.positionBuckets(batch.queryLength),
      doc_ids: { data: batch.docIds, dims: [batch.docs, batch.docLength] },
      doc_mask: { data: batch.docMask, dims: [batch.docs, batch.docLength] },
      doc_position_buckets: this.positionBuckets(batch.docLength),
      targets: { data: batch.targets, dims: [batch.queries] },
      candidate_bias: { data: batch.bias, dims: [batch.queries, batch.docs] },
    };
    if (this.config.dropoutRate > 0) feeds.dropout_seed = { data: Uint32Array.of(dropoutSeed >>> 0), dims: [] };
    const result = await session.run(feeds);
    const gradients: Gradients = new Map(this.parameters.map((p) => [p.name, result[`grad.${p.name}`].data as Float32Array]));
    this.lastAccuracy = (result.accuracy.data as Float32Array)[0];
    return { loss: (result.loss.data as Float32Array)[0], gradients };
  }

  /**
   * Unit vectors [n, d_model] of token sequences (from queryTokens / passageTokens), in
   * their order. Sequences of similar length are encoded together, `batchSize` at a time.
   */
  async encode(sequences: readonly Int32Array[], batchSize = 64, onProgress?: (done: number) => void): Promise<Float32Array> {
    const bake = this.options.bakeInferenceWeights === true;
    const session = await this.session('encoder', () => buildDenseEncoderGraph(this.config, { fuseForInference: bake }), bake);
    const d = this.config.dModel;
    const out = new Float32Array(sequences.length * d);
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[a].length - sequences[b].length || a - b);
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const { ids, mask, length } = padSequences(
        rows.map((i) => sequences[i]),
        this.config.padTokenId,
      );
      const result = await session.run({
        ...(bake ? {} : this.params()),
        input_ids: { data: ids, dims: [rows.length, length] },
        attention_mask: { data: mask, dims: [rows.length, length] },
        encoder_position_buckets: this.positionBuckets(length),
      });
      const vectors = result.embedding.data as Float32Array;
      rows.forEach((row, i) => out.set(vectors.subarray(i * d, (i + 1) * d), row * d));
      onProgress?.(Math.min(order.length, start + batchSize));
    }
    return out;
  }

  /** Drops the encoder session, so the next encode() sees the current weights when they are baked. */
  async invalidateEncoder(): Promise<void> {
    const session = this.sessions.get('encoder');
    this.sessions.delete('encoder');
    if (session) await (await session).release();
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}

/** A document as the dense model reads it: its title on the first line, then its text. */
export function passageText(doc: { title?: string; text: string }): string {
  return doc.title ? `${doc.title}\n${doc.text}` : doc.text;
}
