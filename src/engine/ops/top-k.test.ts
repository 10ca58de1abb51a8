import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, GraphError } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { numbers } from '../testing.js';
import { topK } from './top-k.js';

test('topK: the k largest values of each row, largest first, with their indices (ties: lower index first)', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['rows', 5]);
  const { values, indices } = topK(x, 3);
  g.output('values', values);
  g.output('indices', indices);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ x: { data: Float32Array.from([0.5, 2, -1, 2, 1, /* row 2 */ -3, -2, -1, -4, -5]), dims: [2, 5] } });
  await session.release();
  assert.deepEqual(out.values.dims, [2, 3]);
  assert.deepEqual(numbers(out.values), [2, 2, 1, -1, -2, -3]);
  assert.deepEqual(numbers(out.indices), [1, 3, 4, 2, 1, 0]);
});

test('topK: refuses k beyond the axis and k < 1 when the graph is built', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 4]);
  assert.throws(() => topK(x, 5), GraphError);
  assert.throws(() => topK(x, 0), GraphError);
});
