/**
 * Compressed sparse row matrices and the two products randomized SVD needs.
 * Dense tall matrices here are column-major Float64Arrays (column j occupies
 * [j*rows, (j+1)*rows)), because QR and the products below walk whole columns.
 */

export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row r's entries are at [indptr[r], indptr[r+1]). */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** Builds a CSR matrix from a dense row-major array (tests and small inputs). */
export function csrFromDense(dense: ArrayLike<number>, rows: number, cols: number): CsrMatrix {
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = dense[r * cols + c];
      if (value !== 0) {
        indices.push(c);
        values.push(value);
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { rows, cols, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

/** The matrix of the given rows of `a`, in that order. */
export function csrRows(a: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  let entries = 0;
  for (let i = 0; i < rows.length; i++) entries += a.indptr[rows[i] + 1] - a.indptr[rows[i]];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(entries);
  const values = new Float64Array(entries);
  for (let i = 0; i < rows.length; i++) {
    const from = a.indptr[rows[i]];
    const to = a.indptr[rows[i] + 1];
    indices.set(a.indices.subarray(from, to), indptr[i]);
    values.set(a.values.subarray(from, to), indptr[i]);
    indptr[i + 1] = indptr[i] + to - from;
  }
  return { rows: rows.length, cols: a.cols, indptr, indices, values };
}

/** Column-major (rows × width) → row-major, or back with the arguments swapped. */
function transpose(source: Float64Array, rows: number, width: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let j = 0; j < width; j++) {
    const offset = j * rows;
    for (let r = 0; r < rows; r++) out[r * width + j] = source[offset + r];
  }
  return out;
}

// The products below work on row-major copies so that every stored entry updates
// `width` contiguous values; walking one column at a time was several times slower.

/** A · X where X is cols × width, column-major; returns rows × width, column-major. */
export function csrTimesDense(a: CsrMatrix, x: Float64Array, width: number): Float64Array {
  const { indptr, indices, values, rows, cols } = a;
  const xRows = transpose(x, cols, width);
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const outOffset = r * width;
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const value = values[p];
      const xOffset = indices[p] * width;
      for (let j = 0; j < width; j++) out[outOffset + j] += value * xRows[xOffset + j];
    }
  }
  return transpose(out, width, rows);
}

/** Aᵀ · Y where Y is rows × width, column-major; returns cols × width, column-major. */
export function csrTransposeTimesDense(a: CsrMatrix, y: Float64Array, width: number): Float64Array {
  const { indptr, indices, values, rows, cols } = a;
  const yRows = transpose(y, rows, width);
  const out = new Float64Array(cols * width);
  for (let r = 0; r < rows; r++) {
    const yOffset = r * width;
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const value = values[p];
      const outOffset = indices[p] * width;
      for (let j = 0; j < width; j++) out[outOffset + j] += value * yRows[yOffset + j];
    }
  }
  return transpose(out, width, cols);
}
