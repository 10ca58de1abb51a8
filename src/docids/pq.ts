/**
 * Product quantization (Jégou et al. 2011): a vector is cut into M contiguous
 * sub-vectors, each replaced by the index of its nearest of K centroids learned
 * by k-means in that sub-space.
 */
import { kmeans, nearestCentroid } from './kmeans.js';

export interface PqOptions {
  /** Sub-spaces. */
  m: number;
  /** Centroids per sub-space. */
  k: number;
  seed?: number;
  maxIterations?: number;
  /** Fit centroids on at most this many points (a seeded sample); encode all. Default 65,536. */
  trainSample?: number;
}

export interface PqCodebook {
  m: number;
  k: number;
  dim: number;
  /** Sub-space j covers dimensions [bounds[j], bounds[j+1]). */
  bounds: Int32Array;
  /** Sub-space j: its centroids, k × (bounds[j+1] − bounds[j]), row-major. */
  centroids: Float32Array[];
}

/** Splits dim dimensions into m contiguous, nearly equal ranges (m need not divide dim). */
export function subspaceBounds(dim: number, m: number): Int32Array {
  if (m < 1 || m > dim) throw new RangeError(`PQ: need 1 ≤ M ≤ dim, got M = ${m}, dim = ${dim}`);
  const bounds = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) bounds[j] = Math.floor((j * dim) / m);
  return bounds;
}

function slice(vectors: Float32Array, rows: ArrayLike<number>, dim: number, from: number, to: number): Float32Array {
  const width = to - from;
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(vectors.subarray(rows[i] * dim + from, rows[i] * dim + to), i * width);
  return out;
}

/** Learns one k-means codebook per sub-space. */
export function trainPq(vectors: Float32Array, n: number, dim: number, options: PqOptions): PqCodebook {
  const { m, k, seed = 0, maxIterations = 25, trainSample = 65_536 } = options;
  const bounds = subspaceBounds(dim, m);
  let rows: Int32Array;
  if (n <= trainSample) {
    rows = Int32Array.from({ length: n }, (_, i) => i);
  } else {
    // Evenly strided sample: deterministic and spread over the whole corpus.
    rows = Int32Array.from({ length: trainSample }, (_, i) => Math.floor((i * n) / trainSample));
  }
  const centroids: Float32Array[] = [];
  for (let j = 0; j < m; j++) {
    const width = bounds[j + 1] - bounds[j];
    const sub = slice(vectors, rows, dim, bounds[j], bounds[j + 1]);
    const result = kmeans(sub, rows.length, width, k, { seed: (seed + 7919 * (j + 1)) >>> 0, maxIterations });
    // Fewer points than k leaves some codes unused; pad so code c always indexes a row.
    const padded = new Float32Array(k * width);
    padded.set(result.centroids);
    for (let c = result.k; c < k; c++) padded.set(result.centroids.subarray(0, width), c * width);
    centroids.push(padded);
  }
  return { m, k, dim, bounds, centroids };
}

/** Codes of n vectors: n × m, row-major. */
export function encodePq(codebook: PqCodebook, vectors: Float32Array, n: number): Uint16Array {
  const { m, k, dim, bounds } = codebook;
  const codes = new Uint16Array(n * m);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < m; j++) {
    const width = bounds[j + 1] - bounds[j];
    const sub = slice(vectors, all, dim, bounds[j], bounds[j + 1]);
    for (let p = 0; p < n; p++) codes[p * m + j] = nearestCentroid(sub, p, codebook.centroids[j], k, width);
  }
  return codes;
}

/** The vectors the codes stand for. */
export function decodePq(codebook: PqCodebook, codes: Uint16Array, n: number): Float32Array {
  const { m, dim, bounds } = codebook;
  const out = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < m; j++) {
      const width = bounds[j + 1] - bounds[j];
      const c = codes[p * m + j];
      out.set(codebook.centroids[j].subarray(c * width, (c + 1) * width), p * dim + bounds[j]);
    }
  }
  return out;
}

/** Mean squared reconstruction error per vector. */
export function pqDistortion(codebook: PqCodebook, vectors: Float32Array, n: number): number {
  const decoded = decodePq(codebook, encodePq(codebook, vectors, n), n);
  let sum = 0;
  for (let i = 0; i < n * codebook.dim; i++) sum += (vectors[i] - decoded[i]) ** 2;
  return sum / n;
}
