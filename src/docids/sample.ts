import { Rng } from '../util/random.js';

/**
 * `count` distinct indices of 0 … n − 1 drawn uniformly with a seeded generator, ascending: the
 * training sample of a fit-on-a-sample, assign-all stage. Random rather than evenly strided,
 * because a corpus in a periodic order (documents interleaved by source or topic) would give a
 * strided sample of one kind only.
 */
export function sampleIndices(n: number, count: number, seed: number): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  // The first `count` steps of a Fisher–Yates shuffle.
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order.slice(0, count).sort();
}
