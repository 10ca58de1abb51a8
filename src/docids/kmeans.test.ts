import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/random.js';
import { kmeans, kmeansPlusPlus } from './kmeans.js';
import { decodePq, encodePq, pqDistortion, subspaceBounds, trainPq } from './pq.js';

function gaussian(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

test('k-means on four points on a line finds the two obvious clusters', () => {
  const points = Float32Array.from([0, 1, 10, 11]);
  for (const seed of [0, 1, 2, 3]) {
    const result = kmeans(points, 4, 1, 2, { seed });
    const centres = [...result.centroids].sort((a, b) => a - b);
    assert.deepEqual(centres, [0.5, 10.5]);
    assert.equal(result.inertia, 1);
    assert.equal(result.assignments[0], result.assignments[1]);
    assert.equal(result.assignments[2], result.assignments[3]);
    assert.notEqual(result.assignments[0], result.assignments[2]);
  }
});

test('k-means is deterministic per seed, and the seed matters', () => {
  const points = gaussian(300, 8, 5);
  const a = kmeans(points, 300, 8, 12, { seed: 42 });
  const b = kmeans(points, 300, 8, 12, { seed: 42 });
  assert.deepEqual([...a.centroids], [...b.centroids]);
  assert.deepEqual([...a.assignments], [...b.assignments]);
  const initA = kmeansPlusPlus(points, 300, 8, 12, new Rng(42));
  const initB = kmeansPlusPlus(points, 300, 8, 12, new Rng(43));
  assert.notDeepEqual([...initA], [...initB]);
  // Every point is assigned to its nearest centroid at the end.
  for (let p = 0; p < 300; p++) {
    const own = a.assignments[p];
    const distance = (c: number): number => {
      let sum = 0;
      for (let d = 0; d < 8; d++) sum += (points[p * 8 + d] - a.centroids[c * 8 + d]) ** 2;
      return sum;
    };
    for (let c = 0; c < 12; c++) assert.ok(distance(own) <= distance(c) + 1e-9);
  }
});

test('k-means++ never picks a chosen point twice while distinct points remain', () => {
  const points = Float32Array.from([0, 0, 5, 5, 9, 1, -3, 4]);
  const centres = kmeansPlusPlus(points, 4, 2, 4, new Rng(7));
  const rows = new Set(Array.from({ length: 4 }, (_, c) => `${centres[c * 2]},${centres[c * 2 + 1]}`));
  assert.equal(rows.size, 4);
});

test('more clusters than points: each point is its own cluster', () => {
  const result = kmeans(Float32Array.from([1, 2, 3]), 3, 1, 8, { seed: 0 });
  assert.equal(result.k, 3);
  assert.equal(result.inertia, 0);
});

test('PQ sub-spaces cover the vector in nearly equal contiguous ranges', () => {
  assert.deepEqual([...subspaceBounds(10, 3)], [0, 3, 6, 10]);
  assert.deepEqual([...subspaceBounds(128, 4)], [0, 32, 64, 96, 128]);
  assert.throws(() => subspaceBounds(4, 5));
});

test('PQ reconstruction error falls as K grows, reaching zero at K = N', () => {
  const n = 256;
  const dim = 16;
  const points = gaussian(n, dim, 9);
  const errors = [2, 4, 16, 64].map((k) => pqDistortion(trainPq(points, n, dim, { m: 4, k, seed: 1 }), points, n));
  for (let i = 1; i < errors.length; i++) assert.ok(errors[i] < errors[i - 1], `K errors ${errors.join(', ')}`);
  // Total variance is ≈ dim = 16; K = 2 per sub-space removes only a fraction of it.
  assert.ok(errors[0] > 8 && errors[0] < 16, `K = 2 error ${errors[0]}`);
  assert.equal(pqDistortion(trainPq(points, n, dim, { m: 4, k: n, seed: 1 }), points, n), 0);
});

test('PQ codes index the nearest centroid of each sub-space', () => {
  const points = Float32Array.from([0, 0, 10, 10, 0, 10, 10, 0]);
  const codebook = trainPq(points, 4, 2, { m: 2, k: 2, seed: 0 });
  const codes = encodePq(codebook, points, 4);
  const decoded = decodePq(codebook, codes, 4);
  assert.deepEqual([...decoded], [...points], 'two values per 1-D sub-space are represented exactly');
  assert.equal(codes[0], codes[2 * 2], 'points 0 and 2 share the first coordinate');
  assert.notEqual(codes[0], codes[1 * 2]);
});

/** Plain Lloyd iterations as kmeans ran them before Hamerly's bounds: the reference the bounded version must equal. */
function lloydReference(points: Float32Array, n: number, dim: number, k: number, seed: number, maxIterations: number): Int32Array {
  const clusters = Math.max(1, Math.min(k, n));
  const centroids = kmeansPlusPlus(points, n, dim, clusters, new Rng(seed));
  const nearest = (p: number): number => {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < clusters; c++) {
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += (points[p * dim + d] - centroids[c * dim + d]) ** 2;
      if (sum < bestDistance) [best, bestDistance] = [c, sum];
    }
    return best;
  };
  const squared = (p: number, c: number): number => {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += (points[p * dim + d] - centroids[c * dim + d]) ** 2;
    return sum;
  };
  const assignments = new Int32Array(n).fill(-1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let changed = 0;
    for (let p = 0; p < n; p++) {
      const c = nearest(p);
      if (c !== assignments[p]) [assignments[p], changed] = [c, changed + 1];
    }
    if (changed === 0) break;
    const sums = new Float64Array(clusters * dim);
    const counts = new Int32Array(clusters);
    for (let p = 0; p < n; p++) {
      counts[assignments[p]]++;
      for (let d = 0; d < dim; d++) sums[assignments[p] * dim + d] += points[p * dim + d];
    }
    for (let c = 0; c < clusters; c++)
      if (counts[c] > 0) for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] / counts[c];
    // Empty clusters take the farthest points of clusters with more than one member.
    const distances = Float64Array.from({ length: n }, (_, p) => squared(p, assignments[p]));
    for (let c = 0; c < clusters; c++) {
      if (counts[c] !== 0) continue;
      let farthest = -1;
      for (let p = 0; p < n; p++) if (distances[p] > (farthest < 0 ? 0 : distances[farthest]) && counts[assignments[p]] > 1) farthest = p;
      if (farthest < 0) break;
      centroids.set(points.subarray(farthest * dim, (farthest + 1) * dim), c * dim);
      counts[assignments[farthest]]--;
      counts[c] = 1;
      distances[farthest] = 0;
    }
  }
  if (iterations === maxIterations) for (let p = 0; p < n; p++) assignments[p] = nearest(p);
  return assignments;
}

test("k-means with Hamerly's bounds assigns every point as plain Lloyd does, with fewer distance evaluations", () => {
  const rng = new Rng(17);
  // 2,000 points round 40 centres (clustered, as document vectors are), 16 dims.
  const centres = gaussian(40, 16, 3);
  const clustered = Float32Array.from(
    { length: 2000 * 16 },
    (_, i) => centres[(Math.floor(i / 16) % 40) * 16 + (i % 16)] * 3 + rng.normal(),
  );
  const cases: [string, Float32Array, number, number, number, number][] = [
    ['clustered', clustered, 2000, 16, 64, 25],
    ['clustered, stopped by the cap', clustered, 2000, 16, 64, 3],
    ['gaussian', gaussian(500, 8, 4), 500, 8, 16, 25],
    // 30 points with only 6 distinct values: ties between equal distances and empty clusters to reseed.
    ['duplicates', Float32Array.from({ length: 60 }, (_, i) => Math.floor(i / 2) % 6), 30, 2, 10, 25],
  ];
  for (const [name, points, n, dim, k, maxIterations] of cases) {
    for (const seed of [0, 1]) {
      const result = kmeans(points, n, dim, k, { seed, maxIterations });
      assert.deepEqual([...result.assignments], [...lloydReference(points, n, dim, k, seed, maxIterations)], `${name}, seed ${seed}`);
      if (name === 'clustered') {
        const lloyd = (result.iterations + 1) * n * result.k;
        assert.ok(result.distanceEvaluations < lloyd / 2, `${name}: ${result.distanceEvaluations} evaluations, plain Lloyd ${lloyd}`);
      }
    }
  }
});
