import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { gemm } from './gemm.js';

test('gemm: transA computes aᵀ b', async () => {
  const y = await evaluate(
    (_g, [a, b]) => gemm(a, b, { transA: true }),
    [
      { name: 'a', dims: [2, 2], values: [1, 2, 3, 4] },
      { name: 'b', dims: [2, 1], values: [1, 1] },
    ],
  );
  assertClose(numbers(y), [4, 6]);
});

test('gemm: gradients for all four transpose combinations (float64)', async () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const sa = transA ? [4, 3] : [3, 4];
      const sb = transB ? [2, 4] : [4, 2];
      await checkGradients(
        (_g, [a, b]) => gemm(a, b, { transA, transB }),
        [
          { name: 'a', shape: sa },
          { name: 'b', shape: sb },
        ],
      );
    }
  }
});

test('gemm: inner dims are checked after the transposes', () => {
  const g = new Graph();
  assert.throws(() => gemm(g.input('a', 'float32', [3, 4]), g.input('b', 'float32', [3, 2])), /gemm: inner dims differ/);
  assert.deepEqual(gemm(g.input('c', 'float32', [3, 4]), g.input('d', 'float32', [3, 2]), { transA: true }).shape, [4, 2]);
});
