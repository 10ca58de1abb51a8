import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { gradients } from '../autodiff.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { concat } from './concat.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';

test('concat: joins along an axis and adds named sizes', async () => {
  const y = await evaluate(
    (_g, [a, b]) => concat([a, b], 1),
    [
      { name: 'a', dims: [2, 1], values: [1, 2] },
      { name: 'b', dims: [2, 2], values: [3, 4, 5, 6] },
    ],
  );
  assertClose(numbers(y), [1, 3, 4, 2, 5, 6]);
  const g = new Graph();
  const cache = g.input('past', 'float32', ['batch', 4, 'past', 16]);
  const step = g.input('new', 'float32', ['batch', 4, 1, 16]);
  assert.deepEqual(concat([cache, step], 2).shape, ['batch', 4, 'past+1', 16]);
  assert.throws(() => concat([cache, g.input('bad', 'float32', ['batch', 2, 1, 16])], 2), /concat: axis 1 differs/);
});

test('concat: gradient splits by the inputs sizes (float64)', async () => {
  await checkGradients(
    (_g, [a, b, c]) => concat([a, b, c], 1),
    [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [2, 1] },
      { name: 'c', shape: [2, 2] },
    ],
  );
  await checkGradients(
    (_g, [a, b]) => concat([a, b], -1),
    [
      { name: 'a', shape: [2, 1, 3] },
      { name: 'b', shape: [2, 1, 2] },
    ],
  );
});

test('concat: gradient with a named (run-time) size along the axis', async () => {
  const g = new Graph();
  const a = g.input('a', 'float64', [2, 'n']);
  const b = g.param('b', [2, 3], 'float64');
  const loss = reduceSum(mul(concat([a, b], 1), concat([a, b], 1)));
  g.output('grad_b', gradients(loss, [b])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const bValues = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const out = await session.run({ a: { data: new Float64Array(4), dims: [2, 2] }, b: { data: bValues, dims: [2, 3] } });
  assertClose(numbers(out.grad_b), [2, 4, 6, 8, 10, 12]);
  await session.release();
});
