import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { evaluate } from '../testing.js';
import { squeeze } from './squeeze.js';

test('squeeze: removes size-1 axes at build time and run time', async () => {
  const y = await evaluate((_g, [x]) => squeeze(x, [1, -1]), [{ name: 'x', dims: [2, 1, 3, 1], values: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(y.dims, [2, 3]);
  const g = new Graph();
  assert.throws(() => squeeze(g.input('x', 'float32', [2, 3]), [1]), /squeeze: axis 1 of x: float32\[2, 3\] has size 3, not 1/);
});

test('squeeze: gradient (float64)', async () => {
  await checkGradients((_g, [x]) => squeeze(x, [0, 2]), [{ name: 'x', shape: [1, 3, 1, 2] }]);
});
