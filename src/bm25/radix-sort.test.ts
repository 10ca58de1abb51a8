import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/random.js';
import { PackedKeySorter, RADIX_MIN_KEYS } from './radix-sort.js';

/** n packed keys: id ranks below `documents`, scores drawn from `distinctScores` values (so many tie). */
function packedKeys(rng: Rng, n: number, documents: number, distinctScores: number): { keys: Float64Array; words: Uint32Array } {
  const keys = new Float64Array(n);
  const words = new Uint32Array(keys.buffer);
  const score = new Float32Array(1);
  const bits = new Uint32Array(score.buffer);
  // Distinct id ranks, as the searcher's keys have: a stride coprime with every `documents` used.
  const offset = rng.int(documents);
  for (let i = 0; i < n; i++) {
    score[0] = (rng.int(distinctScores) * 37.5) / distinctScores;
    words[2 * i] = (offset + i * 1_000_003) % documents;
    words[2 * i + 1] = bits[0];
  }
  return { keys, words };
}

test('the radix sort orders packed keys exactly as the native sort, ties and id ranks of every width', () => {
  const rng = new Rng(7);
  for (const documents of [300, 2_067, 70_000, 1 << 20]) {
    const sorter = new PackedKeySorter(documents);
    for (const n of [0, 1, RADIX_MIN_KEYS - 1, RADIX_MIN_KEYS, 600, Math.min(documents, 5_000)]) {
      for (const distinctScores of [1, 3, 1_000, 1 << 20]) {
        const { keys, words } = packedKeys(rng, n, documents, distinctScores);
        const expected = Float64Array.from(keys).sort();
        sorter.sort(keys, words, n);
        assert.deepEqual(keys, expected, `${n} keys, ${documents} documents, ${distinctScores} distinct scores`);
      }
    }
  }
});

test('the radix sort touches only the first n keys and reuses its scratch across calls', () => {
  const rng = new Rng(3);
  const sorter = new PackedKeySorter(2_067);
  const { keys, words } = packedKeys(rng, 1_000, 2_067, 500);
  const tail = keys.slice(600);
  const head = Float64Array.from(keys.subarray(0, 600)).sort();
  sorter.sort(keys, words, 600);
  assert.deepEqual(keys.subarray(0, 600), head);
  assert.deepEqual(keys.subarray(600), tail);
  // A larger call after a smaller one grows the scratch; a smaller one after it still sorts.
  const big = packedKeys(rng, 2_000, 2_067, 50);
  const bigExpected = Float64Array.from(big.keys).sort();
  sorter.sort(big.keys, big.words, 2_000);
  assert.deepEqual(big.keys, bigExpected);
  const small = packedKeys(rng, 200, 2_067, 50);
  const smallExpected = Float64Array.from(small.keys).sort();
  sorter.sort(small.keys, small.words, 200);
  assert.deepEqual(small.keys, smallExpected);
});
