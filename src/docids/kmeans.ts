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
  /** Point–centroid and centroid–centroid distances computed by the Lloyd iterations (k-means++ seeding not counted). */
  distanceEvaluations: number;
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

/**
 * Clusters n points of `dim` dimensions into min(k, n) clusters. Same seed and input → same result.
 *
 * Lloyd's algorithm, with Hamerly's bounds (2010) deciding which points need their distances
 * recomputed: each point keeps an upper bound on the distance to its own centroid and a lower
 * bound on the distance to every other; while the upper bound is below both the lower bound
 * and half the distance from its centroid to the nearest other centroid, the point cannot
 * change cluster, and its k distances are skipped. Points that might change are assigned with
 * the same distances and tie rule as plain Lloyd, so the result is Lloyd's, iteration for
 * iteration; only the count of distance evaluations falls (most points stop moving after a
 * few iterations).
 */
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
  // Hamerly's bounds, in distances (not squared): upper ≥ d(p, own centroid), lower ≤ d(p, any other).
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const halfGap = new Float64Array(clusters);
  const moved = new Float64Array(clusters);
  const previous = new Float32Array(clusters * dim);
  let evaluations = 0;

  /** Lloyd's assignment step, skipping the points the bounds prove unchanged; returns how many changed. */
  const assign = (): number => {
    for (let c = 0; c < clusters; c++) {
      let nearest = Infinity;
      for (let other = 0; other < clusters; other++) {
        if (other !== c) nearest = Math.min(nearest, squaredDistance(centroids, c, centroids, other, dim));
      }
      halfGap[c] = Math.sqrt(nearest) / 2;
    }
    evaluations += clusters * (clusters - 1);
    let changed = 0;
    for (let p = 0; p < n; p++) {
      const own = assignments[p];
      if (own >= 0) {
        // A relative margin keeps rounding in the bounds from skipping a point at a near-tie.
        const bound = Math.max(halfGap[own], lower[p]) * (1 - 1e-9);
        if (upper[p] < bound) continue;
        upper[p] = Math.sqrt(squaredDistance(points, p, centroids, own, dim));
        evaluations++;
        if (upper[p] < bound) continue;
      }
      let best = 0;
      let bestDistance = Infinity;
      let second = Infinity;
      for (let c = 0; c < clusters; c++) {
        const distance = squaredDistance(points, p, centroids, c, dim);
        if (distance < bestDistance) {
          second = bestDistance;
          bestDistance = distance;
          best = c;
        } else if (distance < second) {
          second = distance;
        }
      }
      evaluations += clusters;
      upper[p] = Math.sqrt(bestDistance);
      lower[p] = Math.sqrt(second);
      if (best !== own) {
        assignments[p] = best;
        changed++;
      }
    }
    return changed;
  };

  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    if (assign() === 0) break;
    previous.set(centroids);
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
    if (emptied) {
      reseedEmptyClusters(points, n, dim, centroids, clusters, assignments, counts, distances);
      evaluations += n;
    }
    // Every centroid's move (update and reseed together) loosens the bounds by as much.
    let largest = 0;
    for (let c = 0; c < clusters; c++) {
      moved[c] = Math.sqrt(squaredDistance(centroids, c, previous, c, dim));
      largest = Math.max(largest, moved[c]);
    }
    for (let p = 0; p < n; p++) {
      upper[p] += moved[assignments[p]];
      lower[p] -= largest;
    }
  }
  // Stopped by the cap: make the assignments agree with the final centroids.
  if (iterations === maxIterations) assign();
  let inertia = 0;
  for (let p = 0; p < n; p++) inertia += squaredDistance(points, p, centroids, assignments[p], dim);
  return { k: clusters, dim, centroids, assignments, inertia, iterations, distanceEvaluations: evaluations };
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
