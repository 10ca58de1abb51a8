/**
 * Seq2seq training data for the training loop: length-bucketed batch plans per epoch and
 * padded batches, plus the copy/reverse toy task used to check that a model learns.
 */
import { Rng } from '../../util/random.js';
import { bucketBatches, makeSeq2SeqBatch, type BatchTokens, type Seq2SeqBatch, type Seq2SeqExample } from './batching.js';
import type { TrainingData } from './trainer.js';

export interface Seq2SeqDataOptions extends BatchTokens {
  batchSize: number;
  seed: number;
  /** Batches per length-sorting pool (default 50; 1 = random batches). */
  poolBatches?: number;
  dropLast?: boolean;
}

/** Batches bucketed by source length (ties broken by target length), weighted by target tokens. */
export function seq2seqTrainingData(
  examples: readonly Seq2SeqExample[],
  options: Seq2SeqDataOptions,
): TrainingData<number[], Seq2SeqBatch> {
  const lengths = examples.map((e) => e.source.length * 4096 + Math.min(e.target.length, 4095));
  return {
    plan: (epoch) => bucketBatches(lengths, epoch, options),
    materialize: (indices) => makeSeq2SeqBatch(examples, indices, options),
    examples: (batch) => batch.size,
    weight: (batch) => batch.targetTokens,
  };
}

export interface CopyReverseOptions {
  /** Distinct content symbols (default 10), ids firstSymbol … firstSymbol+symbols-1. */
  symbols?: number;
  minLength?: number;
  maxLength?: number;
}

/** Token ids of the toy task: 0 pad, 1 eos, 2 "copy", 3 "reverse", content from 4. */
export const COPY_TOKEN = 2;
export const REVERSE_TOKEN = 3;
export const FIRST_SYMBOL = 4;

/**
 * The copy/reverse toy task: source = [task token, s1 … sn], target = the sequence as is
 * (copy) or reversed. Needs vocabSize ≥ FIRST_SYMBOL + symbols.
 */
export function copyReverseExamples(count: number, seed: number, options: CopyReverseOptions = {}): Seq2SeqExample[] {
  const symbols = options.symbols ?? 10;
  const minLength = options.minLength ?? 3;
  const maxLength = options.maxLength ?? 8;
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const length = minLength + rng.int(maxLength - minLength + 1);
    const sequence = Array.from({ length }, () => FIRST_SYMBOL + rng.int(symbols));
    const reverse = rng.next() < 0.5;
    return { source: [reverse ? REVERSE_TOKEN : COPY_TOKEN, ...sequence], target: reverse ? [...sequence].reverse() : sequence };
  });
}
