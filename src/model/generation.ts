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
  decoderStep(encoded: EncoderOutput, cache: DecoderCache, tokens: BigInt64Array): Promise<{ logProbs: Float32Array; cache: DecoderCache }>;
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
