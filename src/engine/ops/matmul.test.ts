import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { matmul } from './matmul.js';

test('matmul: 2x3 @ 3x2 by hand', async () => {
  const y = await evaluate(
    (_g, [a, b]) => matmul(a, b),
    [
      { name: 'a', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] },
      { name: 'b', dims: [3, 2], values: [7, 8, 9, 10, 11, 12] },
    ],
  );
  assert.deepEqual(y.dims, [2, 2]);
  assertClose(numbers(y), [58, 64, 139, 154]);
});

test('matmul: gradients for activations @ weight, batched, and broadcast batch dims (float64)', async () => {
  const rng = new Rng(21);
  const [m, k, n] = randomShape(rng, 3, 4);
  const cases: [number[], number[]][] = [
    [
      [2, 3, m, k],
      [k, n],
    ], // activations times a 2-D weight: the Gemm(transA) path
    [
      [2, m, k],
      [2, k, n],
    ], // attention-style batch
    [
      [2, 1, m, k],
      [3, k, n],
    ], // batch dims broadcast both ways
    [
      [m, k],
      [2, k, n],
    ], // 2-D left operand against a batch
  ];
  for (const [sa, sb] of cases) {
    const report = await checkGradients(
      (_g, [a, b]) => matmul(a, b),
      [
        { name: 'a', shape: sa },
        { name: 'b', shape: sb },
      ],
    );
    assert.ok(report.maxGradient > 0);
  }
});

test('matmul: inner-dim and batch mismatches are reported with both shapes', () => {
  const g = new Graph();
  assert.throws(
    () => matmul(g.input('a', 'float32', ['batch', 'seq', 16]), g.param('w', [32, 100])),
    /matmul: inner dims differ: \[batch, seq, 16\] @ \[32, 100\] \(16 vs 32\)/,
  );
  assert.throws(() => matmul(g.input('q', 'float32', [2, 4, 8]), g.input('k', 'float32', [3, 8, 4])), /matmul: dims 2 and 3/);
  assert.throws(() => matmul(g.input('v', 'float32', [8]), g.input('m', 'float32', [8, 4])), /matmul: needs rank ≥ 2/);
});
