/**
 * The host side of generation, shared by every decoder (T5Model, search's T5InferenceModel)
 * and every decoding loop (beam search, greedy decoding, doc2query and Reinforced-IR sampling):
 * padded encoder inputs, the encoder output and the self-attention cache, and reordering or
 * expanding their rows. One definition each, so that a change of layout is made once.
 */
import type { HostTensor } from '../engine/index.js';
import { totalVocabSize, type T5Config } from './config.js';

/** Encoder output for generation: cross-attention keys/values per decoder block, plus the mask. */
export interface EncoderOutput {
  batch: number;
  srcLength: number;
  attentionMask: HostTensor;
  crossKeys: HostTensor[];
  crossValues: HostTensor[];
  /** The lexical head's term [batch, vocab], which every decoder step adds to its logits; only with a lexical head. */
  lexicalBias?: HostTensor;
}

/** Self-attention cache of a batch of hypotheses after `length` decoded positions. */
export interface DecoderCache {
  length: number;
  keys: HostTensor[];
  values: HostTensor[];
  /** Which of a `StepWorkspace`'s two cache buffers the tensors are views of (absent: arrays of their own). */
  slot?: 0 | 1;
}

/**
 * The vocabulary columns a decoder step is asked for: token `token` is column `of[token]` of its
 * log-probabilities, for the `count` tokens in `tokens`.
 */
export interface StepColumns {
  tokens: Int32Array;
  count: number;
  of: Int32Array;
}

/**
 * Reusable buffers for the decoder steps of one decoding loop, and the vocabulary columns the
 * next step is asked for. Two buffers per cache tensor are used in turn: a step (of a decoder
 * whose graph returns only the new position, `compactOutputs`) writes the longer cache, its rows
 * reordered for the next step, into the buffer its input cache is not in. Without it every step allocates the
 * log-probabilities (rows × vocabulary floats) and the whole cache twice (the step's output and
 * its reorder): megabytes per step, whose garbage collection took a fifth of a serve worker's
 * CPU (bench/batch-cpu.ts, docs/benchmarks.md). One loop at a time: the views a step returns
 * stay valid until the step after next.
 */
export class StepWorkspace {
  private readonly buffers = new Map<string, Float32Array>();
  private columnTokens: Int32Array;
  private columnCount = 0;
  private readonly columnOf: Int32Array;
  private columnStamp: Int32Array;
  private stamp = 0;

  constructor(readonly vocab: number) {
    this.columnTokens = new Int32Array(0);
    this.columnOf = new Int32Array(vocab);
    this.columnStamp = new Int32Array(vocab);
  }

  /** A view of `length` floats of the buffer named `name`, grown (contents dropped) when too small. */
  take(name: string, length: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (buffer === undefined || buffer.length < length) {
      // Headroom so a cache growing by one position per step does not reallocate every step.
      buffer = new Float32Array(Math.max(length, Math.ceil((buffer?.length ?? 0) * 1.5)));
      this.buffers.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }

  private identity: Int32Array | undefined;

  /** Token t → column t: the columns of a step that returned the whole vocabulary. */
  identityColumns(): Int32Array {
    this.identity ??= Int32Array.from({ length: this.vocab }, (_, t) => t);
    return this.identity;
  }

  /** Starts the set of columns the next step is asked for (empty: the whole vocabulary, as without `addColumn`). */
  clearColumns(): void {
    this.columnCount = 0;
    this.stamp += 1;
    if (this.stamp > 0x3fffffff) {
      this.columnStamp.fill(0);
      this.stamp = 1;
    }
  }

  /** Asks the next step for token `token`'s log-probability (once however often it is added). */
  addColumn(token: number): void {
    if (this.columnStamp[token] === this.stamp) return;
    this.columnStamp[token] = this.stamp;
    if (this.columnCount === this.columnTokens.length) {
      const grown = new Int32Array(Math.max(64, this.columnTokens.length * 2));
      grown.set(this.columnTokens);
      this.columnTokens = grown;
    }
    this.columnOf[token] = this.columnCount;
    this.columnTokens[this.columnCount++] = token;
  }

  /** The columns asked for, or undefined for the whole vocabulary. */
  columns(): StepColumns | undefined {
    if (this.columnCount === 0) return undefined;
    return { tokens: this.columnTokens, count: this.columnCount, of: this.columnOf };
  }

  /** The buffer slot a step's output cache goes to: the one its input cache is not in. */
  static outputSlot(cache: DecoderCache): 0 | 1 {
    return cache.slot === 0 ? 1 : 0;
  }
}

/**
 * The cache one position longer: each row's past positions followed by its new one
 * (`past` [rows, heads, len, d] and `newest` [rows, heads, 1, d] → [count, heads, len + 1, d]),
 * row r taken from row `rows[r]` of both (every row in order when `rows` is absent: beam search
 * reorders its hypotheses in the same copy), into `out` when given.
 */
export function appendPosition(
  past: HostTensor,
  newest: HostTensor,
  out?: Float32Array,
  rows?: ArrayLike<number>,
  count = rows?.length ?? past.dims[0],
): HostTensor {
  const [, heads, len, d] = past.dims;
  const pastData = past.data as Float32Array;
  const newData = newest.data as Float32Array;
  const size = count * heads * (len + 1) * d;
  out ??= new Float32Array(size);
  if (out.length !== size) throw new Error(`appendPosition: out has ${out.length} floats, expected ${size}`);
  const before = len * d;
  for (let row = 0; row < count; row++) {
    const from = rows === undefined ? row : rows[row];
    for (let head = 0; head < heads; head++) {
      const source = from * heads + head;
      const at = (row * heads + head) * (before + d);
      if (before > 0) out.set(pastData.subarray(source * before, (source + 1) * before), at);
      out.set(newData.subarray(source * d, (source + 1) * d), at + before);
    }
  }
  return { data: out, dims: [count, heads, len + 1, d] };
}

/** What a decoding loop needs from a model (T5Model and T5InferenceModel both have it). */
export interface StepDecoder {
  readonly config: T5Config;
  /** Encoder over padded ids [batch, srcLength] and a 1/0 mask of the same shape. */
  encode(inputIds: BigInt64Array, attentionMask: Float32Array, batch: number, srcLength: number): Promise<EncoderOutput>;
  /** A self-attention cache with no positions for `batch` hypotheses. */
  emptyCache(batch: number): DecoderCache;
  /**
   * Log-probabilities [rows, vocab] of the next token for each row (one token per row), and the
   * extended cache. `encoded` has one row per token row, or one row per group of token rows that
   * decode the same source: equal consecutive groups (`checkSourceGroups`), a single row when
   * every row shares it.
   */
  decoderStep(
    encoded: EncoderOutput,
    cache: DecoderCache,
    tokens: BigInt64Array,
    /** Where to write the outputs instead of new arrays (a decoder may ignore it and allocate). */
    workspace?: StepWorkspace,
  ): Promise<StepResult>;
}

/**
 * A decoder step's result: log-probabilities [rows, vocab], or [rows, columns.count] when the
 * step was asked for columns (a workspace with columns, and a decoder that can), and the cache
 * one position longer.
 */
export interface StepResult {
  logProbs: Float32Array;
  cache: DecoderCache;
  columns?: StepColumns;
  /**
   * The longer cache with rows `rows[0 … count)` in that order, built in one copy (a decoder
   * whose step returns only the new position); read instead of `cache` when reordering.
   */
  extend?: (rows: ArrayLike<number>, count: number) => DecoderCache;
}

/** Padded encoder inputs [sources, srcLength]: each source followed by EOS, then padding (mask 0). */
export function encoderInputs(
  sources: readonly ArrayLike<number>[],
  pad: number,
  eos: number,
): { inputIds: BigInt64Array; mask: Float32Array; srcLength: number } {
  let srcLength = 1;
  for (const source of sources) srcLength = Math.max(srcLength, source.length + 1);
  const inputIds = new BigInt64Array(sources.length * srcLength).fill(BigInt(pad));
  const mask = new Float32Array(sources.length * srcLength);
  sources.forEach((source, row) => {
    const start = row * srcLength;
    for (let i = 0; i < source.length; i++) inputIds[start + i] = BigInt(source[i]);
    inputIds[start + source.length] = BigInt(eos);
    mask.fill(1, start, start + source.length + 1);
  });
  return { inputIds, mask, srcLength };
}

/** The graph outputs an encoder session returns for `config` (cross keys/values per decoder block, the lexical bias). */
export function encoderOutputNames(config: T5Config): string[] {
  const names: string[] = [];
  for (let i = 0; i < config.numDecoderLayers; i++) names.push(`cross_k.${i}`, `cross_v.${i}`);
  if (config.lexicalHead) names.push('lexical_bias');
  return names;
}

/** An encoder session's result as the EncoderOutput the decoder steps read. */
export function encoderOutputFrom(
  config: T5Config,
  result: Record<string, HostTensor>,
  attentionMask: HostTensor,
  batch: number,
  srcLength: number,
): EncoderOutput {
  const layers = Array.from({ length: config.numDecoderLayers }, (_, i) => i);
  return {
    batch,
    srcLength,
    attentionMask,
    crossKeys: layers.map((i) => result[`cross_k.${i}`]),
    crossValues: layers.map((i) => result[`cross_v.${i}`]),
    ...(config.lexicalHead ? { lexicalBias: result.lexical_bias } : {}),
  };
}

/**
 * Runs an encoder graph over padded ids [batch, srcLength] and their 1/0 mask: `run` gets the
 * graph's data inputs (the training model adds its parameters, an inference session its output
 * names) and its result becomes the EncoderOutput the decoder steps read.
 */
export async function runEncoder(
  config: T5Config,
  run: (feeds: Record<string, HostTensor>) => Promise<Record<string, HostTensor>>,
  inputIds: BigInt64Array,
  attentionMask: Float32Array,
  batch: number,
  srcLength: number,
  positionBuckets: HostTensor,
): Promise<EncoderOutput> {
  const mask: HostTensor = { data: attentionMask, dims: [batch, srcLength] };
  const result = await run({
    input_ids: { data: inputIds, dims: [batch, srcLength] },
    attention_mask: mask,
    encoder_position_buckets: positionBuckets,
  });
  return encoderOutputFrom(config, result, mask, batch, srcLength);
}

/** An empty self-attention cache for `batch` hypotheses. */
export function emptyDecoderCache(config: T5Config, batch: number): DecoderCache {
  const empty = (): HostTensor => ({ data: new Float32Array(0), dims: [batch, config.numHeads, 0, config.dKv] });
  return {
    length: 0,
    keys: Array.from({ length: config.numDecoderLayers }, empty),
    values: Array.from({ length: config.numDecoderLayers }, empty),
  };
}

/**
 * The decoder step's feeds other than the parameters: tokens, mask, the step's position buckets,
 * the cache and cross keys/values of every block, and the lexical bias when the config has one.
 */
export function decoderStepFeeds(
  config: T5Config,
  encoded: EncoderOutput,
  cache: DecoderCache,
  tokens: BigInt64Array,
  positionBuckets: HostTensor,
): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {
    decoder_input_ids: { data: tokens, dims: [tokens.length, 1] },
    attention_mask: encoded.attentionMask,
    decoder_position_buckets: positionBuckets,
  };
  for (let i = 0; i < config.numDecoderLayers; i++) {
    feeds[`past_k.${i}`] = cache.keys[i];
    feeds[`past_v.${i}`] = cache.values[i];
    feeds[`cross_k.${i}`] = encoded.crossKeys[i];
    feeds[`cross_v.${i}`] = encoded.crossValues[i];
  }
  if (config.lexicalHead) feeds.lexical_bias = lexicalBiasOf(encoded);
  return feeds;
}

/** A decoder step session's result: the log-probabilities and the cache one position longer. */
export function decoderStepResult(
  config: T5Config,
  result: Record<string, HostTensor>,
  cache: DecoderCache,
): { logProbs: Float32Array; cache: DecoderCache } {
  const layers = Array.from({ length: config.numDecoderLayers }, (_, i) => i);
  return {
    logProbs: result.log_probs.data as Float32Array,
    cache: {
      length: cache.length + 1,
      keys: layers.map((i) => result[`present_k.${i}`]),
      values: layers.map((i) => result[`present_v.${i}`]),
    },
  };
}

/** The encoder output's lexical bias, which a model with a lexical head needs at every decoder step. */
export function lexicalBiasOf(encoded: EncoderOutput): HostTensor {
  if (encoded.lexicalBias === undefined)
    throw new Error('decoderStep: the model has a lexical head, but the encoder output carries no lexical_bias');
  return encoded.lexicalBias;
}

/**
 * Checks that `rows` decoder rows can read an encoder output of `sources` rows: one source per
 * equal consecutive group of rows (row i reads source ⌊i / (rows / sources)⌋).
 */
export function checkSourceGroups(sources: number, rows: number): void {
  if (sources < 1 || rows % sources !== 0)
    throw new Error(`decoderStep: ${rows} rows cannot be grouped evenly over an encoder batch of ${sources}`);
}

/** Rows `rows[0 … count)` of a [batch, …] float tensor, in that order (reorder or expand hypotheses). */
export function selectRows(tensor: HostTensor, rows: ArrayLike<number>, count = rows.length): HostTensor {
  const data = tensor.data as Float32Array;
  const rowSize = tensor.dims[0] === 0 ? 0 : data.length / tensor.dims[0];
  const out = new Float32Array(count * rowSize);
  for (let i = 0; i < count; i++) {
    const from = rows[i] * rowSize;
    out.set(data.subarray(from, from + rowSize), i * rowSize);
  }
  return { data: out, dims: [count, ...tensor.dims.slice(1)] };
}

/** Whether `rows[0 … count)` is 0, 1, …, count − 1. */
export function isIdentity(rows: ArrayLike<number>, count = rows.length): boolean {
  for (let i = 0; i < count; i++) if (rows[i] !== i) return false;
  return true;
}

/**
 * The encoder output with row i taken from encoder row `rows[i]`, for i < count (beam search's
 * live hypotheses, or several samples per source). The identity returns `encoded` itself.
 */
export function expandEncoded(encoded: EncoderOutput, rows: ArrayLike<number>, count = rows.length): EncoderOutput {
  if (count === encoded.batch && isIdentity(rows, count)) return encoded;
  return {
    batch: count,
    srcLength: encoded.srcLength,
    attentionMask: selectRows(encoded.attentionMask, rows, count),
    crossKeys: encoded.crossKeys.map((t) => selectRows(t, rows, count)),
    crossValues: encoded.crossValues.map((t) => selectRows(t, rows, count)),
    ...(encoded.lexicalBias === undefined ? {} : { lexicalBias: selectRows(encoded.lexicalBias, rows, count) }),
  };
}

/**
 * Decodes one sequence per row of `encoded`, one token per step for at most `maxTokens` steps:
 * `pick` chooses row `row`'s next token from its log-probabilities `logProbs[offset … offset+vocab)`.
 * A row stops at EOS (later steps feed it EOS and ignore its picks); the loop ends when all have.
 * Returns each row's tokens without the decoder-start token and EOS.
 */
export async function decodeRows(
  decoder: StepDecoder,
  encoded: EncoderOutput,
  maxTokens: number,
  pick: (logProbs: Float32Array, offset: number, row: number) => number,
): Promise<number[][]> {
  const { eosTokenId: eos, decoderStartTokenId: start } = decoder.config;
  const vocab = totalVocabSize(decoder.config);
  const rows = encoded.batch;
  const generated: number[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  let cache = decoder.emptyCache(rows);
  let tokens = new BigInt64Array(rows).fill(BigInt(start));
  for (let step = 0; step < maxTokens && done.some((d) => !d); step++) {
    const result = await decoder.decoderStep(encoded, cache, tokens);
    cache = result.cache;
    tokens = new BigInt64Array(rows).fill(BigInt(eos));
    for (let row = 0; row < rows; row++) {
      if (done[row]) continue;
      const token = pick(result.logProbs, row * vocab, row);
      tokens[row] = BigInt(token);
      if (token === eos) done[row] = true;
      else generated[row].push(token);
    }
  }
  return generated;
}
