import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { sum } from './sum.js';

test('sum: adds several tensors with broadcasting', async () => {
  const y = await evaluate(
    (_g, [a, b, c]) => sum([a, b, c]),
    [
      { name: 'a', dims: [2], values: [1, 2] },
      { name: 'b', dims: [2], values: [10, 20] },
      { name: 'c', dims: [1], values: [100] },
    ],
  );
  assertClose(numbers(y), [111, 122]);
  const g = new Graph();
  assert.throws(() => sum([]), /sum: needs at least one tensor/);
  const x = g.input('x', 'float32', [2]);
  assert.equal(sum([x]), x);
});

test('sum: gradient to each operand (float64)', async () => {
  await checkGradients(
    (_g, [a, b, c]) => sum([a, b, c]),
    [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [3] },
      { name: 'c', shape: [2, 1] },
    ],
  );
});
