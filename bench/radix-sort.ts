/**
 * BM25's top-k key sort: the radix sort (src/bm25/radix-sort.ts) against the native
 * `Float64Array.prototype.sort` on the same packed keys (random float32 scores in [0, 33.3) over
 * distinct id ranks), per sort of n keys, the two interleaved in one process.
 *
 *   node --import tsx bench/radix-sort.ts [--sizes 600] [--documents 2067] [--rounds 4]
 */
import { performance } from 'node:perf_hooks';
import { PackedKeySorter } from '../src/bm25/radix-sort.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const sizes = option('--sizes', '600').split(',').map(Number);
const documents = Number(option('--documents', '2067'));
const rounds = Number(option('--rounds', '4'));
const rng = new Rng(0);

for (const n of sizes) {
  if (!(n > 0 && n <= documents)) throw new Error(`--sizes: each size must be in 1..${documents}, got ${n}`);
  // Enough key sets for about 12 M keys per timing, each set sorted once per timing.
  const sets = Math.max(20, Math.floor(12_000_000 / n));
  const source = new Float64Array(n * sets);
  const sourceWords = new Uint32Array(source.buffer);
  const score = new Float32Array(1);
  const bits = new Uint32Array(score.buffer);
  for (let s = 0; s < sets; s++) {
    const offset = rng.int(documents);
    for (let i = 0; i < n; i++) {
      score[0] = rng.int(100_000) / 3_000;
      sourceWords[2 * (s * n + i)] = (offset + i * 1_000_003) % documents;
      sourceWords[2 * (s * n + i) + 1] = bits[0];
    }
  }
  const keys = new Float64Array(n);
  const words = new Uint32Array(keys.buffer);
  const sorter = new PackedKeySorter(documents);
  const sorts = { native: () => keys.sort(), radix: () => sorter.sort(keys, words, n) };
  const times: Record<string, number[]> = { native: [], radix: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, sort] of Object.entries(sorts)) {
      const start = performance.now();
      for (let s = 0; s < sets; s++) {
        keys.set(source.subarray(s * n, (s + 1) * n));
        sort();
      }
      times[name].push(((performance.now() - start) / sets) * 1000);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const native = median(times.native);
  const radix = median(times.radix);
  console.log(
    `${n} keys, ${documents} documents: native ${native.toFixed(2)} µs (${((native * 1000) / n).toFixed(1)} ns per key), radix ${radix.toFixed(2)} µs (${((radix * 1000) / n).toFixed(1)} ns per key), ${(native / radix).toFixed(2)}×`,
  );
}
