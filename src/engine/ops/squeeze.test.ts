import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { evaluate } from '../testing.js';
import { squeeze, unsqueeze } from './squeeze.js';

test('squeeze: removes size-1 axes at build time and run time', async () => {
  const y = await evaluate((_g, [x]) => squeeze(x, [1, -1]), [{ name: 'x', dims: [2, 1, 3, 1], values: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(y.dims, [2, 3]);
  const g = new Graph();
  assert.throws(() => squeeze(g.input('x', 'float32', [2, 3]), [1]), /squeeze: axis 1 of x: float32\[2, 3\] has size 3, not 1/);
});

test('squeeze: gradient (float64)', async () => {
  await checkGradients((_g, [x]) => squeeze(x, [0, 2]), [{ name: 'x', shape: [1, 3, 1, 2] }]);
});

test('unsqueeze: axes index the output, negative ones too', async () => {
  const y = await evaluate((_g, [x]) => unsqueeze(x, [0, -1]), [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(y.dims, [1, 2, 3, 1]);
  const g = new Graph();
  assert.deepEqual(unsqueeze(g.input('m', 'bool', ['batch', 'seq']), [1, 2]).shape, ['batch', 1, 1, 'seq']);
  assert.throws(() => unsqueeze(g.input('x', 'float32', [2]), [3]), /unsqueeze: axis 3 out of range for rank 2/);
});

test('unsqueeze: gradient (float64)', async () => {
  await checkGradients((_g, [x]) => unsqueeze(x, [1, 3]), [{ name: 'x', shape: [3, 2] }]);
});
