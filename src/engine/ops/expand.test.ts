import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { expand } from './expand.js';

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
  const out = await session.run({ ids: { data: new BigInt64Array(6), dims: [3, 2] }, bias: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4] } });
  assert.deepEqual(out.y.dims, [3, 4]);
  await session.release();
});

test('expand: gradient sums over the expanded axes (float64)', async () => {
  await checkGradients((_g, [x]) => expand(x, [2, 3, 4]), [{ name: 'x', shape: [3, 1] }]);
  await checkGradients((_g, [x]) => expand(x, [2, 3]), [{ name: 'x', shape: [1] }]);
});
