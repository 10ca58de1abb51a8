/**
 * Length-bucketed batching for seq2seq training. Examples of similar length go into the
 * same batch so little compute is spent on padding, while the order still changes from
 * epoch to epoch: shuffle (seeded by seed and epoch), cut into pools of `poolBatches`
 * batches, sort each pool by length, cut the pool into batches, shuffle the batches.
 */
import { Rng, fnv1a64 } from '../../util/random.js';

// The batch format is the model's input (src/model/batch.ts); the loop re-exports it for its users.
export { IGNORE_INDEX, makeSeq2SeqBatch, type BatchTokens, type Seq2SeqBatch, type Seq2SeqExample } from '../../model/batch.js';

export interface BucketOptions {
  batchSize: number;
  seed: number;
  /** Batches per sorting pool (default 50); 1 disables bucketing, larger pads less but mixes less. */
  poolBatches?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** The seed of one epoch's shuffle, a pure function of (seed, epoch) so any epoch can be re-created. */
export function epochSeed(seed: number, epoch: number): number {
  return Number(fnv1a64(`bucket\u0000${seed}\u0000${epoch}`) & 0xffffffffn);
}

/**
 * Example indices per batch for one epoch. `lengths[i]` is the cost key of example i
 * (e.g. source length, or source length * 1000 + target length to sort ties by target).
 */
export function bucketBatches(lengths: readonly number[], epoch: number, options: BucketOptions): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`bucketBatches: batchSize must be a positive integer, got ${batchSize}`);
  const poolBatches = options.poolBatches ?? 50;
  if (!Number.isInteger(poolBatches) || poolBatches < 1)
    throw new RangeError(`bucketBatches: poolBatches must be a positive integer, got ${poolBatches}`);
  const rng = new Rng(epochSeed(options.seed, epoch));
  const order = rng.shuffle(Array.from(lengths, (_, i) => i));
  const poolSize = batchSize * poolBatches;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += poolSize) {
    // Stable sort on the shuffled order: equal lengths keep their random order.
    const pool = order.slice(start, start + poolSize).sort((a, b) => lengths[a] - lengths[b]);
    for (let b = 0; b < pool.length; b += batchSize) batches.push(pool.slice(b, b + batchSize));
  }
  if (options.dropLast && batches.length > 0 && batches[batches.length - 1].length < batchSize) {
    // The short batch is whichever pool ended last; remove it before shuffling.
    batches.pop();
  }
  return rng.shuffle(batches);
}
