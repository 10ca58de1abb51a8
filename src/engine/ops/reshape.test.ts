import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { reshape } from './reshape.js';
import { transpose } from './transpose.js';

test('reshape: 0 keeps an axis, -1 infers one', async () => {
  const y = await evaluate(
    (_g, [x]) => reshape(x, [0, -1]),
    [{ name: 'x', dims: [2, 2, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }],
  );
  assert.deepEqual(y.dims, [2, 6]);
  assertClose(numbers(y), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('reshape: named dims are tracked through a head split and merge', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 64]);
  const heads = reshape(x, [0, 0, 4, 16]);
  assert.deepEqual(heads.shape, ['batch', 'seq', 4, 16]);
  const flat = reshape(x, [-1, 64]);
  assert.deepEqual(flat.shape, ['batch*seq', 64]);
  assert.deepEqual(reshape(flat, ['batch', 'seq', 64]).shape, ['batch', 'seq', 64]);
  assert.deepEqual(reshape(heads, [0, 0, -1]).shape, ['batch', 'seq', 64]);
  assert.throws(() => reshape(x, [0, 0, 5, 16]), /reshape: cannot reshape x: float32\[batch, seq, 64\] \(64\*batch\*seq elements\)/);
  assert.throws(() => reshape(g.input('y', 'float32', [4, 6]), [5, -1]), /reshape: cannot reshape y/);
});

test('reshape: a named target shape is read at run time from the input that carries the names', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 2]);
  const flat = reshape(x, [-1, 2]);
  g.output('y', reshape(flat, ['batch', 'seq', 2]));
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ x: { data: new Float32Array(12).map((_, i) => i), dims: [3, 2, 2] } });
  assert.deepEqual(out.y.dims, [3, 2, 2]);
  await session.release();
});

test('reshape: gradient through split/transpose/merge (float64)', async () => {
  await checkGradients((_g, [x]) => reshape(transpose(reshape(x, [0, 2, -1]), [0, 2, 1]), [-1, 4]), [{ name: 'x', shape: [2, 6] }]);
});
