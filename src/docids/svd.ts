/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011, algorithms 4.4 + 5.1)
 * over a sparse matrix: a Gaussian sketch, a few power iterations with
 * re-orthonormalization, then the exact SVD of the small projected matrix through
 * a Jacobi eigen-decomposition of B·Bᵀ.
 */
import { Rng } from '../util/random.js';
import { csrTimesDense, csrTransposeTimesDense, type CsrMatrix } from './sparse.js';

/**
 * Orthonormalizes the columns of a rows × width column-major matrix in place by
 * modified Gram–Schmidt, run twice ("twice is enough") so the result stays
 * orthogonal to machine precision. A column that is (numerically) in the span of
 * the earlier ones becomes zero rather than amplified noise.
 */
export function orthonormalizeColumns(matrix: Float64Array, rows: number, width: number): void {
  for (let j = 0; j < width; j++) {
    const col = j * rows;
    let originalNorm = 0;
    for (let r = 0; r < rows; r++) originalNorm += matrix[col + r] * matrix[col + r];
    originalNorm = Math.sqrt(originalNorm);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const other = i * rows;
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += matrix[other + r] * matrix[col + r];
        if (dot === 0) continue;
        for (let r = 0; r < rows; r++) matrix[col + r] -= dot * matrix[other + r];
      }
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += matrix[col + r] * matrix[col + r];
    norm = Math.sqrt(norm);
    if (norm <= 1e-10 * originalNorm || norm === 0) {
      matrix.fill(0, col, col + rows);
      continue;
    }
    for (let r = 0; r < rows; r++) matrix[col + r] /= norm;
  }
}

export interface SymmetricEigen {
  /** Descending. */
  values: Float64Array;
  /** n × n column-major: column i is the eigenvector of values[i]. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix (row-major, not modified) by the
 * cyclic Jacobi method. Quadratic convergence; for the ≤ ~200-wide matrices SVD
 * needs here, a handful of sweeps.
 */
export function jacobiEigen(symmetric: Float64Array, n: number, maxSweeps = 60): SymmetricEigen {
  const a = Float64Array.from(symmetric);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  const tolerance = 1e-30 * Math.max(scale, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) offDiagonal += a[p * n + q] * a[p * n + q];
    if (offDiagonal <= tolerance) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // Rotate rows/columns p and q of a (kept symmetric) and columns of v.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    values[target] = a[source * n + source];
    for (let k = 0; k < n; k++) vectors[target * n + k] = v[k * n + source];
  });
  return { values, vectors };
}

export interface TruncatedSvd {
  rank: number;
  /** Singular values, descending. */
  s: Float64Array;
  /** rows × rank, column-major left singular vectors. */
  u: Float64Array;
  /** cols × rank, column-major right singular vectors (only when asked for). */
  v?: Float64Array;
}

export interface RandomizedSvdOptions {
  seed?: number;
  /** Extra sketch columns beyond `rank` (default 10). */
  oversample?: number;
  /** Power iterations; 2 suits the slowly decaying spectra of TF-IDF (default 2). */
  powerIterations?: number;
  /** Also compute the right singular vectors (default false). */
  rightVectors?: boolean;
}

/**
 * The top `rank` singular triplets of a sparse matrix.
 *
 * Power iterations re-orthonormalize only the row-side basis (Y = A·Aᵀ·Q, then QR):
 * orthonormalizing the vocabulary-sized side too costs O(terms·width²) per step and
 * dominated the run time, while the conditioning it protects against (σ₁/σ_width
 * squared per step) stays far inside double precision for two iterations on
 * TF-IDF matrices.
 */
export function randomizedSvd(a: CsrMatrix, rank: number, options: RandomizedSvdOptions = {}): TruncatedSvd {
  const { seed = 0, oversample = 10, powerIterations = 2, rightVectors = false } = options;
  const maxRank = Math.min(a.rows, a.cols);
  if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`randomizedSvd: rank must be a positive integer, got ${rank}`);
  const k = Math.min(rank, maxRank);
  const width = Math.min(k + oversample, maxRank);
  const rng = new Rng(seed);
  const omega = new Float64Array(a.cols * width);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();

  const q = csrTimesDense(a, omega, width);
  orthonormalizeColumns(q, a.rows, width);
  for (let it = 0; it < powerIterations; it++) {
    q.set(csrTimesDense(a, csrTransposeTimesDense(a, q, width), width));
    orthonormalizeColumns(q, a.rows, width);
  }
  // B = Qᵀ·A (width × cols); Z = Aᵀ·Q = Bᵀ. B·Bᵀ = Zᵀ·Z = Qᵀ·(A·Z): take the cheaper side.
  const z = csrTransposeTimesDense(a, q, width);
  const gram = new Float64Array(width * width);
  const [left, right, length] = a.rows < a.cols ? [q, csrTimesDense(a, z, width), a.rows] : [z, z, a.cols];
  for (let i = 0; i < width; i++) {
    for (let j = i; j < width; j++) {
      let dot = 0;
      const li = i * length;
      const rj = j * length;
      for (let c = 0; c < length; c++) dot += left[li + c] * right[rj + c];
      gram[i * width + j] = dot;
      gram[j * width + i] = dot;
    }
  }
  const eigen = jacobiEigen(gram, width);
  const s = new Float64Array(k);
  const u = new Float64Array(a.rows * k);
  const v = rightVectors ? new Float64Array(a.cols * k) : undefined;
  for (let t = 0; t < k; t++) {
    const sigma = Math.sqrt(Math.max(0, eigen.values[t]));
    s[t] = sigma;
    const w = eigen.vectors.subarray(t * width, (t + 1) * width);
    // U = Q·W; V = Z·W·Σ⁻¹.
    for (let i = 0; i < width; i++) {
      const weight = w[i];
      if (weight === 0) continue;
      const qi = i * a.rows;
      for (let r = 0; r < a.rows; r++) u[t * a.rows + r] += weight * q[qi + r];
      if (v && sigma > 0) {
        const zi = i * a.cols;
        for (let c = 0; c < a.cols; c++) v[t * a.cols + c] += (weight * z[zi + c]) / sigma;
      }
    }
  }
  return v ? { rank: k, s, u, v } : { rank: k, s, u };
}
