import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { gatherElements } from './gather-elements.js';

test('gatherElements: picks one element per row along the last axis', async () => {
  const y = await evaluate(
    (g, [x]) => gatherElements(x, g.constant([2, 0], [2, 1], 'int64'), 1),
    [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] }],
  );
  assert.deepEqual(y.dims, [2, 1]);
  assertClose(numbers(y), [3, 4]);
  const g = new Graph();
  assert.throws(
    () => gatherElements(g.input('x', 'float32', [2, 3]), g.input('i', 'int64', [2]), 1),
    /gatherElements: indices i: int64\[2\] must have the rank/,
  );
});

test('gatherElements: gradient scatters back with repeats added (float64)', async () => {
  await checkGradients((g, [x]) => gatherElements(x, g.constant([2, 2, 0, 1, 1, 1], [2, 3], 'int64'), 1), [{ name: 'x', shape: [2, 4] }]);
  await checkGradients((g, [x]) => gatherElements(x, g.constant([1, 0, 1], [1, 3], 'int64'), 0), [{ name: 'x', shape: [2, 3] }]);
});
