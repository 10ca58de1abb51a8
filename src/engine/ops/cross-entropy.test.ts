import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { crossEntropy, sequenceLogProb } from './cross-entropy.js';

const logits = [1, 2, 3, 0, 0, 0, 5, 1, 1];
const logSumExp = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));

test('crossEntropy: mean over non-ignored labels, by hand', async () => {
  const nll0 = logSumExp([1, 2, 3]) - 3;
  const nll2 = logSumExp([5, 1, 1]) - 1;
  const mean = await evaluate(
    (g, [x]) => crossEntropy(x, g.constant([2, -100, 1], [3], 'int64')),
    [{ name: 'x', dims: [3, 3], values: logits }],
  );
  assertClose(numbers(mean), [(nll0 + nll2) / 2]);
  const perToken = await evaluate(
    (g, [x]) => crossEntropy(x, g.constant([2, -100, 1], [3], 'int64'), { reduction: 'none' }),
    [{ name: 'x', dims: [3, 3], values: logits }],
  );
  assertClose(numbers(perToken), [nll0, 0, nll2]);
  const allIgnored = await evaluate(
    (g, [x]) => crossEntropy(x, g.constant([0, 0, 0], [3], 'int64'), { ignoreIndex: 0 }),
    [{ name: 'x', dims: [3, 3], values: logits }],
  );
  assertClose(numbers(allIgnored), [0]);
});

test('sequenceLogProb: summed token log-probabilities per sequence, padding adds 0', async () => {
  const y = await evaluate(
    (g, [x]) => sequenceLogProb(x, g.constant([1, 0, -100, 1], [2, 2], 'int64')),
    [{ name: 'x', dims: [2, 2, 2], values: [0, 0, 1, 0, 3, 3, 0, 2] }],
  );
  assert.deepEqual(y.dims, [2]);
  assertClose(numbers(y), [-Math.log(2) + 1 - Math.log(Math.E + 1), 2 - Math.log(1 + Math.exp(2))]);
});

test('crossEntropy: gradient through padding (float64)', async () => {
  const report = await checkGradients(
    (g, [x]) => crossEntropy(x, g.constant([1, -100, 3, 0, 4, -100], [2, 3], 'int64')),
    [{ name: 'x', shape: [2, 3, 5] }],
  );
  assert.ok(report.maxGradient > 0);
  await checkGradients((g, [x]) => crossEntropy(x, g.constant([1, 2], [2], 'int64'), { reduction: 'sum' }), [{ name: 'x', shape: [2, 4] }]);
});

test('crossEntropy: label smoothing mixes in the mean negative log-probability over classes, by hand', async () => {
  const eps = 0.1;
  const rows = [
    [1, 2, 3],
    [5, 1, 1],
  ];
  const nll = (row: number[], label: number) => logSumExp(row) - row[label];
  const uniform = (row: number[]) => row.reduce((s, _, v) => s + nll(row, v), 0) / row.length;
  const expected = ((1 - eps) * nll(rows[0], 2) + eps * uniform(rows[0]) + (1 - eps) * nll(rows[1], 1) + eps * uniform(rows[1])) / 2;
  const mean = await evaluate(
    (g, [x]) => crossEntropy(x, g.constant([2, -100, 1], [3], 'int64'), { labelSmoothing: eps }),
    [{ name: 'x', dims: [3, 3], values: logits }],
  );
  assertClose(numbers(mean), [expected]);
  await checkGradients(
    (g, [x]) => crossEntropy(x, g.constant([1, -100, 3, 0, 4, -100], [2, 3], 'int64'), { labelSmoothing: 0.2 }),
    [{ name: 'x', shape: [2, 3, 5] }],
  );
  const g = new Graph();
  assert.throws(
    () => crossEntropy(g.input('x', 'float32', [2, 5]), g.input('y', 'int64', [2]), { labelSmoothing: 1 }),
    /labelSmoothing must be in \[0, 1\), got 1/,
  );
});

test('crossEntropy: labels must be int64 with one axis less than the logits', () => {
  const g = new Graph();
  assert.throws(
    () => crossEntropy(g.input('x', 'float32', [2, 5]), g.input('y', 'int64', [2, 1])),
    /crossEntropy: labels y: int64\[2, 1\] must have one axis less/,
  );
});
