/**
 * Token embeddings of the dense encoder initialised from the training corpus (latent
 * semantic analysis over the model's own subword ids), so the encoder starts with word
 * knowledge instead of none: tokens that occur in the same documents start close together.
 *
 * The matrix is subword × document TF-IDF (sublinear tf, smoothed idf, each document's column
 * L2-normalised, `tfidfWeight` of src/docids/tfidf.ts); its truncated randomized SVD
 * (src/docids/svd.ts) gives A ≈ U·Σ·Vᵀ, and a token's row is its row of U·Σ: the dot products
 * of those rows are the rank-d approximation of A·Aᵀ, the co-occurrence similarity LSA defines
 * between terms. Each row is then scaled to the norm a row of the random initialisation has on
 * average (√d · std): the encoder blocks were initialised for inputs of that size, and the
 * first RMS norm and the final one discard a token's norm anyway, so only its direction carries
 * the corpus's information. Tokens the corpus never uses (specials, markers, unused subwords)
 * keep their random rows.
 */
import { randomizedSvd } from '../../../docids/svd.js';
import type { CsrMatrix } from '../../../docids/sparse.js';
import { tfidfWeight } from '../../../docids/tfidf.js';

/** How `genir train dense` initialises the token embeddings. */
export type EmbeddingInit = 'lsa' | 'random';
export const EMBEDDING_INITS: readonly EmbeddingInit[] = ['lsa', 'random'];

export interface LsaEmbeddingOptions {
  /** Rows of the embedding matrix (every token id must be below it). */
  vocabRows: number;
  /** Width of a row: the model's d_model. */
  dims: number;
  /** Standard deviation of the random initialisation whose row norm the rows are scaled to. */
  std: number;
  seed: number;
}

export interface LsaEmbeddings {
  /** vocabRows × dims, row-major; rows of tokens absent from every document are all zero. */
  rows: Float32Array;
  /** 1 where the token occurs in some document (its row was set), else 0. */
  present: Uint8Array;
  /** Singular values, descending (fewer than dims when the matrix has a lower rank). */
  singularValues: Float64Array;
}

/** The subword × document TF-IDF matrix of tokenised documents, rows = token ids. */
export function tokenDocumentTfidf(documents: readonly ArrayLike<number>[], vocabRows: number): CsrMatrix {
  const n = documents.length;
  const docFreq = new Int32Array(vocabRows);
  const counts = documents.map((tokens) => {
    const count = new Map<number, number>();
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocabRows)
        throw new RangeError(`tokenDocumentTfidf: token id ${id} is outside the ${vocabRows}-row vocabulary`);
      count.set(id, (count.get(id) ?? 0) + 1);
    }
    for (const id of count.keys()) docFreq[id]++;
    return count;
  });
  // Document columns are normalised first, so a long paragraph weighs as much as a short one.
  const entries: { row: number; col: number; value: number }[] = [];
  counts.forEach((count, col) => {
    const weights = [...count].map(([id, tf]) => ({ id, w: tfidfWeight(tf, docFreq[id], n) }));
    const norm = Math.sqrt(weights.reduce((sum, { w }) => sum + w * w, 0)) || 1;
    for (const { id, w } of weights) entries.push({ row: id, col, value: w / norm });
  });
  entries.sort((a, b) => a.row - b.row || a.col - b.col);
  const indptr = new Int32Array(vocabRows + 1);
  for (const { row } of entries) indptr[row + 1]++;
  for (let r = 0; r < vocabRows; r++) indptr[r + 1] += indptr[r];
  return {
    rows: vocabRows,
    cols: n,
    indptr,
    indices: Int32Array.from(entries, (e) => e.col),
    values: Float64Array.from(entries, (e) => e.value),
  };
}

/** LSA token rows for an embedding matrix (see the file comment for the weighting and scale). */
export function lsaTokenEmbeddings(documents: readonly ArrayLike<number>[], options: LsaEmbeddingOptions): LsaEmbeddings {
  const { vocabRows, dims, std, seed } = options;
  const matrix = tokenDocumentTfidf(documents, vocabRows);
  const rows = new Float32Array(vocabRows * dims);
  const present = new Uint8Array(vocabRows);
  for (let r = 0; r < vocabRows; r++) if (matrix.indptr[r + 1] > matrix.indptr[r]) present[r] = 1;
  if (matrix.values.length === 0) return { rows, present, singularValues: new Float64Array(0) };
  const svd = randomizedSvd(matrix, dims, { seed });
  const targetNorm = Math.sqrt(dims) * std;
  for (let r = 0; r < vocabRows; r++) {
    if (!present[r]) continue;
    let norm = 0;
    for (let t = 0; t < svd.rank; t++) {
      const value = svd.u[t * vocabRows + r] * svd.s[t];
      rows[r * dims + t] = value;
      norm += value * value;
    }
    norm = Math.sqrt(norm);
    // A token outside the kept rank's span has no direction to give; it keeps its random row.
    if (norm < 1e-12) {
      present[r] = 0;
      rows.fill(0, r * dims, (r + 1) * dims);
      continue;
    }
    for (let t = 0; t < dims; t++) rows[r * dims + t] *= targetNorm / norm;
  }
  return { rows, present, singularValues: svd.s };
}

/** Overwrites the rows of `embedding` (vocabRows × dims) whose token the LSA found in the corpus. */
export function applyLsaRows(embedding: Float32Array, lsa: LsaEmbeddings, dims: number): number {
  let replaced = 0;
  for (let r = 0; r < lsa.present.length; r++) {
    if (!lsa.present[r]) continue;
    embedding.set(lsa.rows.subarray(r * dims, (r + 1) * dims), r * dims);
    replaced++;
  }
  return replaced;
}
