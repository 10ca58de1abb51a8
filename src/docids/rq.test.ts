import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../util/random.js';
import { decodeRq, distinctFraction, encodeRq, rqDistortion, trainRq } from './rq.js';

/** Each level's learned codes must split the points exactly as the true codes do (labels may be permuted). */
function assertSamePartition(learned: Uint16Array, truth: number[], n: number, levels: number, level: number): void {
  const toTrue = new Map<number, number>();
  const toLearned = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    const a = learned[p * levels + level];
    const b = truth[p];
    assert.equal(toTrue.get(a) ?? b, b, `level ${level}: learned code ${a} holds points of true codes ${toTrue.get(a)} and ${b}`);
    assert.equal(toLearned.get(b) ?? a, a, `level ${level}: true code ${b} is split over learned codes ${toLearned.get(b)} and ${a}`);
    toTrue.set(a, b);
    toLearned.set(b, a);
  }
}

test('residual k-means recovers hand-made codes: every combination of 3 levels × 4 centroids at scales 10, 1, 0.1', () => {
  const rng = new Rng(11);
  const dim = 6;
  const levels = 3;
  const k = 4;
  const scales = [10, 1, 0.1];
  const truthCentroids = scales.map((scale) => Float32Array.from({ length: k * dim }, () => rng.normal() * scale));
  // All 64 code combinations, each point twice: the sum of its three centroids.
  const truthCodes: number[][] = [];
  for (let repeat = 0; repeat < 2; repeat++)
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let c = 0; c < k; c++) truthCodes.push([a, b, c]);
  const n = truthCodes.length;
  const vectors = new Float32Array(n * dim);
  truthCodes.forEach((code, p) =>
    code.forEach((c, level) => {
      for (let d = 0; d < dim; d++) vectors[p * dim + d] += truthCentroids[level][c * dim + d];
    }),
  );
  const { codebook, codes } = trainRq(vectors, n, dim, { levels, k, seed: 5 });
  for (let level = 0; level < levels; level++)
    assertSamePartition(
      codes,
      truthCodes.map((code) => code[level]),
      n,
      levels,
      level,
    );
  // The sum of the learned centroids reproduces every point.
  assert.ok(rqDistortion(codebook, vectors, codes, n) < 1e-8, `distortion ${rqDistortion(codebook, vectors, codes, n)}`);
  // Each of the 64 combinations is distinct; its two copies share a code.
  assert.equal(distinctFraction(codes, n, levels), 0);
  assert.equal(distinctFraction(codes.subarray(0, (n / 2) * levels), n / 2, levels), 1);
  // Encoding with the trained codebook gives the same codes.
  assert.deepEqual([...encodeRq(codebook, vectors, n)], [...codes]);
});

test('each residual level lowers the reconstruction error of random vectors', () => {
  const rng = new Rng(2);
  const n = 300;
  const dim = 16;
  const vectors = Float32Array.from({ length: n * dim }, () => rng.normal());
  let previous = Infinity;
  for (const levels of [1, 2, 4]) {
    const { codebook, codes } = trainRq(vectors, n, dim, { levels, k: 8, seed: 1 });
    const error = rqDistortion(codebook, vectors, codes, n);
    assert.ok(error < previous, `${levels} levels: ${error} ≥ ${previous}`);
    previous = error;
    assert.equal(decodeRq(codebook, codes, n).length, n * dim);
  }
  assert.throws(() => trainRq(vectors, n, dim, { levels: 0, k: 8 }), RangeError);
});
