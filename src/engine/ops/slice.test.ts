import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { gradients } from '../autodiff.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { reduceSum } from './reduce-sum.js';
import { mul } from './mul.js';
import { slice } from './slice.js';

test('slice: numpy-style positions, negative and open-ended', async () => {
  const values = [0, 1, 2, 3, 4, 5];
  assertClose(numbers(await evaluate((_g, [x]) => slice(x, 0, 1, -1), [{ name: 'x', dims: [6], values }])), [1, 2, 3, 4]);
  assertClose(numbers(await evaluate((_g, [x]) => slice(x, 0, -2), [{ name: 'x', dims: [6], values }])), [4, 5]);
  assertClose(numbers(await evaluate((_g, [x]) => slice(x, 0, 0, 6, 2), [{ name: 'x', dims: [6], values }])), [0, 2, 4]);
  const g = new Graph();
  assert.deepEqual(slice(g.input('x', 'float32', ['batch', 10]), 1, 2, 5).shape, ['batch', 3]);
  assert.deepEqual(slice(g.input('y', 'float32', ['batch', 10]), 0, 0).shape, ['batch', 10]);
});

test('slice: gradient pads back with zeros (float64)', async () => {
  await checkGradients((_g, [x]) => slice(x, 1, 1, -1), [{ name: 'x', shape: [2, 5] }]);
  await checkGradients((_g, [x]) => slice(x, 0, -2), [{ name: 'x', shape: [4, 3] }]);
  await checkGradients((_g, [x]) => slice(x, 2, 1, 100), [{ name: 'x', shape: [2, 2, 3] }]);
});

test('slice: gradient on a named axis computes the padding at run time', async () => {
  const g = new Graph();
  const w = g.param('w', [1], 'float64');
  const x = mul(g.input('x', 'float64', ['n', 2]), w);
  const y = slice(x, 0, 1, -1);
  const loss = reduceSum(mul(y, y));
  const [dw] = gradients(loss, [w]);
  g.output('dw', dw);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const out = await session.run({ x: { data: xs, dims: [4, 2] }, w: { data: Float64Array.from([1]), dims: [1] } });
  // d/dw Σ (w x)² over the middle rows = 2 Σ x² = 2 (9 + 16 + 25 + 36)
  assertClose(numbers(out.dw), [172]);
  await session.release();
});
