import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrFromDense, csrTimesDense, csrTransposeTimesDense } from './sparse.js';
import { jacobiEigen, orthonormalizeColumns, randomizedSvd } from './svd.js';

/** Sylvester's Hadamard matrix of order n (a power of two), scaled to be orthogonal. */
function hadamard(n: number): number[][] {
  let h = [[1]];
  while (h.length < n) h = [...h.map((row) => [...row, ...row]), ...h.map((row) => [...row, ...row.map((x) => -x)])];
  return h.map((row) => row.map((x) => x / Math.sqrt(n)));
}

/** A = U·diag(s)·Vᵀ with U, V the first columns of Hadamard matrices; row-major. */
function knownMatrix(rows: number, cols: number, s: number[]): number[] {
  const hu = hadamard(rows);
  const hv = hadamard(cols);
  const a = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) for (let t = 0; t < s.length; t++) a[r * cols + c] += hu[r][t] * s[t] * hv[c][t];
  return a;
}

test('Jacobi finds the eigenpairs of a small symmetric matrix', () => {
  // Eigenvalues 5 (e3), 3 ((e1+e2)/√2) and 1 ((e1−e2)/√2).
  const m = Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]);
  const { values, vectors } = jacobiEigen(m, 3);
  assert.deepEqual(
    [...values].map((v) => Number(v.toFixed(12))),
    [5, 3, 1],
  );
  for (let i = 0; i < 3; i++) {
    for (let r = 0; r < 3; r++) {
      let mv = 0;
      for (let c = 0; c < 3; c++) mv += m[r * 3 + c] * vectors[i * 3 + c];
      assert.ok(Math.abs(mv - values[i] * vectors[i * 3 + r]) < 1e-12);
    }
  }
  assert.ok(Math.abs(Math.abs(vectors[1 * 3 + 0]) - Math.SQRT1_2) < 1e-12);
});

test('modified Gram–Schmidt gives orthonormal columns and zeroes dependent ones', () => {
  // Columns: (1,1,0), (1,0,1), (2,1,1) = first + second.
  const m = Float64Array.from([1, 1, 0, 1, 0, 1, 2, 1, 1]);
  orthonormalizeColumns(m, 3, 3);
  const dot = (i: number, j: number): number => m[i * 3] * m[j * 3] + m[i * 3 + 1] * m[j * 3 + 1] + m[i * 3 + 2] * m[j * 3 + 2];
  assert.ok(Math.abs(dot(0, 0) - 1) < 1e-12 && Math.abs(dot(1, 1) - 1) < 1e-12 && Math.abs(dot(0, 1)) < 1e-12);
  assert.deepEqual([...m.subarray(6)], [0, 0, 0]);
});

test('sparse products match dense arithmetic', () => {
  const a = csrFromDense([1, 0, 2, 0, 3, 0], 2, 3);
  // X (3 × 2, column-major) = [[1, 4], [2, 5], [3, 6]]
  const ax = csrTimesDense(a, Float64Array.from([1, 2, 3, 4, 5, 6]), 2);
  assert.deepEqual([...ax], [7, 6, 16, 15]);
  // Y (2 × 1) = [1, 2]ᵀ → Aᵀ·Y = [1, 6, 2]
  assert.deepEqual([...csrTransposeTimesDense(a, Float64Array.from([1, 2]), 1)], [1, 6, 2]);
});

test('randomized SVD recovers known singular values and vectors exactly when the sketch spans the range', () => {
  const s = [5, 2, 0.5];
  const a = csrFromDense(knownMatrix(8, 4, s), 8, 4);
  const svd = randomizedSvd(a, 4, { seed: 3, rightVectors: true });
  assert.equal(svd.rank, 4);
  s.forEach((expected, t) => assert.ok(Math.abs(svd.s[t] - expected) < 1e-10, `σ${t} = ${svd.s[t]}`));
  assert.ok(svd.s[3] < 1e-7, 'rank 3: the fourth singular value is zero');
  const hu = hadamard(8);
  const hv = hadamard(4);
  for (let t = 0; t < 3; t++) {
    // Singular vectors are defined up to sign.
    const signU = Math.sign(svd.u[t * 8]) * Math.sign(hu[0][t]);
    for (let r = 0; r < 8; r++) assert.ok(Math.abs(svd.u[t * 8 + r] - signU * hu[r][t]) < 1e-9);
    const signV = Math.sign(svd.v![t * 4]) * Math.sign(hv[0][t]);
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(svd.v![t * 4 + c] - signV * hv[c][t]) < 1e-9);
  }
});

test('randomized SVD approximates the top of a decaying spectrum from a narrow sketch', () => {
  const s = Array.from({ length: 20 }, (_, i) => 10 * 0.6 ** i);
  const a = csrFromDense(knownMatrix(64, 32, s), 64, 32);
  const svd = randomizedSvd(a, 3, { seed: 11, oversample: 4, powerIterations: 2 });
  for (let t = 0; t < 3; t++) assert.ok(Math.abs(svd.s[t] - s[t]) / s[t] < 1e-6, `σ${t} = ${svd.s[t]} vs ${s[t]}`);
  const again = randomizedSvd(a, 3, { seed: 11, oversample: 4, powerIterations: 2 });
  assert.deepEqual([...again.s], [...svd.s], 'same seed, same result');
});
