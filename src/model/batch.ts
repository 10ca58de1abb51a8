/**
 * One seq2seq batch as the model's graphs read it: source ids + eos, attention mask, decoder
 * inputs (decoder-start + target) and labels (target + eos, padding ignored by the loss).
 */

export interface Seq2SeqExample {
  /** Source token ids, without the end-of-sequence token (the batch adds it). */
  source: ArrayLike<number>;
  /** Target token ids, without end-of-sequence and decoder-start tokens. */
  target: ArrayLike<number>;
}

/** Padded tensors of one seq2seq batch, ready to feed to the model's training graph. */
export interface Seq2SeqBatch {
  /** Example indices in this batch, in row order. */
  indices: number[];
  size: number;
  sourceLength: number;
  targetLength: number;
  /** [size, sourceLength] source ids + eos, padded with padId. */
  inputIds: BigInt64Array;
  /** [size, sourceLength] 1 for real tokens, 0 for padding. */
  attentionMask: Float32Array;
  /** [size, targetLength] decoder-start id followed by the target (teacher forcing). */
  decoderInputIds: BigInt64Array;
  /** [size, targetLength] the target + eos; padding is -100 (ignored by the loss). */
  labels: BigInt64Array;
  /** Target tokens that count in the loss (eos included). */
  targetTokens: number;
}

export interface BatchTokens {
  padId: number;
  eosId: number;
  decoderStartId: number;
  /** Truncate sources (before eos) to this many tokens. */
  maxSourceLength?: number;
  /** Truncate targets (before eos) to this many tokens. */
  maxTargetLength?: number;
  /** Round padded lengths up to a multiple of this (default 1), so fewer distinct shapes reach ORT. */
  padToMultiple?: number;
}

export const IGNORE_INDEX = -100;

export function makeSeq2SeqBatch(examples: readonly Seq2SeqExample[], indices: readonly number[], tokens: BatchTokens): Seq2SeqBatch {
  const multiple = tokens.padToMultiple ?? 1;
  const roundUp = (n: number) => Math.ceil(n / multiple) * multiple;
  const sourceLen = (e: Seq2SeqExample) => Math.min(e.source.length, tokens.maxSourceLength ?? Infinity);
  const targetLen = (e: Seq2SeqExample) => Math.min(e.target.length, tokens.maxTargetLength ?? Infinity);
  let sourceLength = 1;
  let targetLength = 1;
  for (const index of indices) {
    sourceLength = Math.max(sourceLength, sourceLen(examples[index]) + 1);
    targetLength = Math.max(targetLength, targetLen(examples[index]) + 1);
  }
  sourceLength = roundUp(sourceLength);
  targetLength = roundUp(targetLength);
  const size = indices.length;
  const inputIds = new BigInt64Array(size * sourceLength).fill(BigInt(tokens.padId));
  const attentionMask = new Float32Array(size * sourceLength);
  const decoderInputIds = new BigInt64Array(size * targetLength).fill(BigInt(tokens.padId));
  const labels = new BigInt64Array(size * targetLength).fill(BigInt(IGNORE_INDEX));
  let targetTokens = 0;
  indices.forEach((index, row) => {
    const example = examples[index];
    const s = sourceLen(example);
    const src = row * sourceLength;
    for (let i = 0; i < s; i++) inputIds[src + i] = BigInt(example.source[i]);
    inputIds[src + s] = BigInt(tokens.eosId);
    attentionMask.fill(1, src, src + s + 1);
    const t = targetLen(example);
    const tgt = row * targetLength;
    decoderInputIds[tgt] = BigInt(tokens.decoderStartId);
    for (let i = 0; i < t; i++) {
      labels[tgt + i] = BigInt(example.target[i]);
      decoderInputIds[tgt + i + 1] = BigInt(example.target[i]);
    }
    labels[tgt + t] = BigInt(tokens.eosId);
    targetTokens += t + 1;
  });
  return { indices: [...indices], size, sourceLength, targetLength, inputIds, attentionMask, decoderInputIds, labels, targetTokens };
}
