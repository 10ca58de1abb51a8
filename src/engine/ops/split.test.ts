import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { mul } from './mul.js';
import { split } from './split.js';

test('split: consecutive parts along an axis, one Split node; sizes must add up', async () => {
  const y = await evaluate((_g, [x]) => split(x, [1, 2], 1)[1], [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] }]);
  assert.deepEqual(y.dims, [2, 2]);
  assertClose(numbers(y), [2, 3, 5, 6]);
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 1, 12]);
  assert.deepEqual(
    split(x, [4, 4, 4], -1).map((part) => part.shape),
    [
      ['batch', 1, 4],
      ['batch', 1, 4],
      ['batch', 1, 4],
    ],
  );
  assert.equal(g.nodes.filter((n) => n.opType === 'Split').length, 1);
  assert.throws(() => split(x, [4, 4], 2), /split: sizes \[4, 4\] add up to 8, but axis 2 of .* has 12/);
});

test('split: gradient joins the parts, zeros for a part the loss does not read (float64)', async () => {
  await checkGradients(
    (_g, [x]) => {
      const [a, , c] = split(x, [1, 2, 2], 1);
      return mul(a, c);
    },
    [{ name: 'x', shape: [3, 5] }],
  );
});
