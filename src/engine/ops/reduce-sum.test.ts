import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { expand, reduceSum, sumToShape } from './reduce-sum.js';

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

test('expand: broadcasts to a numeric shape', async () => {
  const y = await evaluate((_g, [x]) => expand(x, [2, 3]), [{ name: 'x', dims: [1, 3], values: [1, 2, 3] }]);
  assert.deepEqual(y.dims, [2, 3]);
  assertClose(numbers(y), [1, 2, 3, 1, 2, 3]);
});

test('expand: broadcasts to named dims read at run time', async () => {
  const g = new Graph();
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const bias = g.input('bias', 'float32', [1, 4]);
  const y = expand(bias, ['batch', 4]);
  assert.deepEqual(y.shape, ['batch', 4]);
  g.output('y', y);
  g.output('ids_out', ids);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({
    ids: { data: new BigInt64Array(6), dims: [3, 2] },
    bias: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4] },
  });
  assert.deepEqual(out.y.dims, [3, 4]);
  await session.release();
});

test('expand: gradient sums over the expanded axes (float64)', async () => {
  await checkGradients((_g, [x]) => expand(x, [2, 3, 4]), [{ name: 'x', shape: [3, 1] }]);
  await checkGradients((_g, [x]) => expand(x, [2, 3]), [{ name: 'x', shape: [1] }]);
});
