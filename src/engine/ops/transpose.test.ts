import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { transpose, transposeLast2 } from './transpose.js';

test('transpose: [2,3] → [3,2] moves elements', async () => {
  const y = await evaluate((_g, [x]) => transpose(x), [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(y.dims, [3, 2]);
  assertClose(numbers(y), [1, 4, 2, 5, 3, 6]);
});

test('transpose: gradient for a 4-D head split permutation and transposeLast2 (float64)', async () => {
  await checkGradients((_g, [x]) => transpose(x, [0, 2, 1, 3]), [{ name: 'x', shape: [2, 3, 2, 4] }]);
  await checkGradients((_g, [x]) => transpose(x, [2, 0, 1]), [{ name: 'x', shape: [2, 3, 4] }]);
  await checkGradients((_g, [x]) => transposeLast2(x), [{ name: 'x', shape: [2, 3, 4] }]);
});

test('transpose: static shape follows the permutation; bad perms are refused', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 4, 8]);
  assert.deepEqual(transpose(x, [0, 2, 1, 3]).shape, ['batch', 4, 'seq', 8]);
  assert.throws(() => transpose(x, [0, 1, 1, 3]), /transpose: perm \[0, 1, 1, 3\] is not a permutation/);
});
