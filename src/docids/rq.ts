/**
 * Residual quantization (RIPOR's docids, Zeng et al. 2024): L levels of K centroids each. A
 * vector's code at level l is the nearest level-l centroid to what the levels before it left
 * unexplained (its residual); each level's centroids are learned by k-means on the residuals
 * of the level before, so the first token says the most about a document and every later one
 * refines it. The prefix of a docid is therefore a coarse version of the whole, which is what
 * a beam search over docid prefixes wants.
 */
import { kmeans, nearestCentroid } from './kmeans.js';

export interface RqOptions {
  /** Levels (docid length before disambiguation). */
  levels: number;
  /** Centroids per level. */
  k: number;
  seed?: number;
  maxIterations?: number;
}

export interface RqCodebook {
  levels: number;
  k: number;
  dim: number;
  /** Level l: k × dim centroids, row-major. */
  centroids: Float32Array[];
}

/** Learns the codebooks level by level on the residuals; returns them with the codes of the training vectors (n × levels). */
export function trainRq(vectors: Float32Array, n: number, dim: number, options: RqOptions): { codebook: RqCodebook; codes: Uint16Array } {
  const { levels, k, seed = 0, maxIterations = 25 } = options;
  if (!Number.isInteger(levels) || levels < 1) throw new RangeError(`RQ: levels must be a positive integer, got ${levels}`);
  if (!Number.isInteger(k) || k < 1 || k > 65_536) throw new RangeError(`RQ: K must be an integer in [1, 65536], got ${k}`);
  if (vectors.length < n * dim) throw new RangeError(`RQ: expected ${n * dim} values, got ${vectors.length}`);
  const residual = Float32Array.from(vectors.subarray(0, n * dim));
  const codes = new Uint16Array(n * levels);
  const centroids: Float32Array[] = [];
  for (let level = 0; level < levels; level++) {
    const result = kmeans(residual, n, dim, k, { seed: (seed + 104_729 * (level + 1)) >>> 0, maxIterations });
    // Fewer points than k leaves codes unused; pad so every code indexes a row.
    const padded = new Float32Array(k * dim);
    padded.set(result.centroids);
    for (let c = result.k; c < k; c++) padded.set(result.centroids.subarray(0, dim), c * dim);
    centroids.push(padded);
    for (let p = 0; p < n; p++) {
      const c = nearestCentroid(residual, p, padded, result.k, dim);
      codes[p * levels + level] = c;
      for (let d = 0; d < dim; d++) residual[p * dim + d] -= padded[c * dim + d];
    }
  }
  return { codebook: { levels, k, dim, centroids }, codes };
}

/** Greedy residual codes of n vectors (n × levels), with a trained codebook. */
export function encodeRq(codebook: RqCodebook, vectors: Float32Array, n: number): Uint16Array {
  const { levels, k, dim } = codebook;
  const residual = Float32Array.from(vectors.subarray(0, n * dim));
  const codes = new Uint16Array(n * levels);
  for (let level = 0; level < levels; level++) {
    const table = codebook.centroids[level];
    for (let p = 0; p < n; p++) {
      const c = nearestCentroid(residual, p, table, k, dim);
      codes[p * levels + level] = c;
      for (let d = 0; d < dim; d++) residual[p * dim + d] -= table[c * dim + d];
    }
  }
  return codes;
}

/** The vectors the codes stand for: the sum of each level's chosen centroid. */
export function decodeRq(codebook: RqCodebook, codes: Uint16Array, n: number): Float32Array {
  const { levels, dim } = codebook;
  const out = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let level = 0; level < levels; level++) {
      const c = codes[p * levels + level];
      const table = codebook.centroids[level];
      for (let d = 0; d < dim; d++) out[p * dim + d] += table[c * dim + d];
    }
  }
  return out;
}

/** Mean squared reconstruction error per vector (sum over dimensions, mean over vectors). */
export function rqDistortion(codebook: RqCodebook, vectors: Float32Array, codes: Uint16Array, n: number): number {
  const decoded = decodeRq(codebook, codes, n);
  let sum = 0;
  for (let i = 0; i < n * codebook.dim; i++) sum += (vectors[i] - decoded[i]) ** 2;
  return sum / n;
}

/** Share of vectors whose code sequence no other vector has. */
export function distinctFraction(codes: Uint16Array, n: number, levels: number): number {
  const counts = new Map<string, number>();
  for (let p = 0; p < n; p++) {
    const key = codes.subarray(p * levels, (p + 1) * levels).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let unique = 0;
  for (const count of counts.values()) if (count === 1) unique++;
  return n === 0 ? 1 : unique / n;
}
