import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { reduceSum, sumToShape } from './reduce-sum.js';

const values = [1, 2, 3, 4, 5, 6];

test('reduceSum: over axes, all axes, with and without keepDims', async () => {
  assertClose(numbers(await evaluate((_g, [x]) => reduceSum(x, [1]), [{ name: 'x', dims: [2, 3], values }])), [6, 15]);
  assertClose(numbers(await evaluate((_g, [x]) => reduceSum(x, [0], true), [{ name: 'x', dims: [2, 3], values }])), [5, 7, 9]);
  const all = await evaluate((_g, [x]) => reduceSum(x), [{ name: 'x', dims: [2, 3], values }]);
  assert.deepEqual(all.dims, []);
  assertClose(numbers(all), [21]);
  const g = new Graph();
  assert.deepEqual(reduceSum(g.input('x', 'float32', ['batch', 'seq', 8]), [-1], true).shape, ['batch', 'seq', 1]);
  assert.throws(() => reduceSum(g.input('y', 'float32', [2]), [1]), /reduceSum: axis 1 out of range/);
});

test('reduceSum: gradient broadcasts back (float64)', async () => {
  await checkGradients((_g, [x]) => reduceSum(x, [1]), [{ name: 'x', shape: [2, 3, 2] }]);
  await checkGradients((_g, [x]) => reduceSum(x, [0, 2], true), [{ name: 'x', shape: [2, 3, 2] }]);
  await checkGradients((_g, [x]) => reduceSum(x), [{ name: 'x', shape: [3, 2] }]);
});

test('sumToShape: reduces exactly the broadcast axes', () => {
  const g = new Graph();
  const dy = g.input('dy', 'float32', [5, 2, 3, 4]);
  assert.deepEqual(sumToShape(dy, [3, 1]).shape, [3, 1]);
  assert.deepEqual(sumToShape(dy, [2, 1, 4]).shape, [2, 1, 4]);
  assert.equal(sumToShape(dy, [5, 2, 3, 4]), dy);
});
