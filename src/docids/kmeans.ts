/**
 * k-means over row-major Float32Array points: seeded k-means++ initialization
 * (Arthur & Vassilvitskii 2007) followed by Lloyd iterations.
 */
import { Rng } from '../util/random.js';

export interface KMeansOptions {
  seed?: number;
  /** Lloyd iterations at most (default 25). Stops earlier when no assignment changes. */
  maxIterations?: number;
}

export interface KMeansResult {
  k: number;
  dim: number;
  /** k × dim, row-major. */
  centroids: Float32Array;
  /** Cluster of each point. */
  assignments: Int32Array;
  /** Sum of squared distances of points to their centroids. */
  inertia: number;
  iterations: number;
}

function squaredDistance(points: Float32Array, p: number, centroids: Float32Array, c: number, dim: number): number {
  let sum = 0;
  const po = p * dim;
  const co = c * dim;
  for (let d = 0; d < dim; d++) {
    const diff = points[po + d] - centroids[co + d];
    sum += diff * diff;
  }
  return sum;
}

/** Index of the centroid nearest to point p, ties to the lower index. */
export function nearestCentroid(points: Float32Array, p: number, centroids: Float32Array, k: number, dim: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let c = 0; c < k; c++) {
    const distance = squaredDistance(points, p, centroids, c, dim);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

/** k-means++ seeding: each next centre is drawn with probability ∝ squared distance to the nearest chosen one. */
export function kmeansPlusPlus(points: Float32Array, n: number, dim: number, k: number, rng: Rng): Float32Array {
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Infinity);
  let chosen = rng.int(n);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    if (c === k - 1) break;
    let total = 0;
    for (let p = 0; p < n; p++) {
      const distance = squaredDistance(points, p, centroids, c, dim);
      if (distance < nearest[p]) nearest[p] = distance;
      total += nearest[p];
    }
    if (total === 0) {
      // Fewer distinct points than k: the remaining centres duplicate points.
      chosen = rng.int(n);
      continue;
    }
    let target = rng.next() * total;
    chosen = n - 1;
    for (let p = 0; p < n; p++) {
      target -= nearest[p];
      if (target < 0) {
        chosen = p;
        break;
      }
    }
  }
  return centroids;
}

/** Clusters n points of `dim` dimensions into min(k, n) clusters. Same seed and input → same result. */
export function kmeans(points: Float32Array, n: number, dim: number, k: number, options: KMeansOptions = {}): KMeansResult {
  const { seed = 0, maxIterations = 25 } = options;
  if (n < 1) throw new RangeError('kmeans: no points');
  if (points.length < n * dim) throw new RangeError(`kmeans: expected ${n * dim} values, got ${points.length}`);
  const clusters = Math.max(1, Math.min(k, n));
  const rng = new Rng(seed);
  const centroids = kmeansPlusPlus(points, n, dim, clusters, rng);
  const assignments = new Int32Array(n).fill(-1);
  const sums = new Float64Array(clusters * dim);
  const counts = new Int32Array(clusters);
  const distances = new Float64Array(n);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let changed = 0;
    for (let p = 0; p < n; p++) {
      const c = nearestCentroid(points, p, centroids, clusters, dim);
      if (c !== assignments[p]) {
        assignments[p] = c;
        changed++;
      }
    }
    if (changed === 0) break;
    sums.fill(0);
    counts.fill(0);
    for (let p = 0; p < n; p++) {
      const c = assignments[p];
      counts[c]++;
      const po = p * dim;
      const so = c * dim;
      for (let d = 0; d < dim; d++) sums[so + d] += points[po + d];
    }
    let emptied = false;
    for (let c = 0; c < clusters; c++) {
      if (counts[c] === 0) {
        emptied = true;
        continue;
      }
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] / counts[c];
    }
    if (emptied) reseedEmptyClusters(points, n, dim, centroids, clusters, assignments, counts, distances);
  }
  if (iterations === maxIterations) {
    // Stopped by the cap: make the assignments agree with the final centroids.
    for (let p = 0; p < n; p++) assignments[p] = nearestCentroid(points, p, centroids, clusters, dim);
  }
  let inertia = 0;
  for (let p = 0; p < n; p++) inertia += squaredDistance(points, p, centroids, assignments[p], dim);
  return { k: clusters, dim, centroids, assignments, inertia, iterations };
}

/**
 * An empty cluster takes over the point farthest from its own centroid, so no
 * centroid is wasted while distinct points remain poorly served.
 */
function reseedEmptyClusters(
  points: Float32Array,
  n: number,
  dim: number,
  centroids: Float32Array,
  clusters: number,
  assignments: Int32Array,
  counts: Int32Array,
  distances: Float64Array,
): void {
  for (let p = 0; p < n; p++) distances[p] = squaredDistance(points, p, centroids, assignments[p], dim);
  for (let c = 0; c < clusters; c++) {
    if (counts[c] !== 0) continue;
    let farthest = -1;
    let farthestDistance = 0;
    for (let p = 0; p < n; p++) {
      if (distances[p] > farthestDistance && counts[assignments[p]] > 1) {
        farthestDistance = distances[p];
        farthest = p;
      }
    }
    if (farthest < 0) return;
    centroids.set(points.subarray(farthest * dim, (farthest + 1) * dim), c * dim);
    counts[assignments[farthest]]--;
    counts[c] = 1;
    distances[farthest] = 0;
  }
}
