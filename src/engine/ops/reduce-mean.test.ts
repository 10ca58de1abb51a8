import { test } from 'node:test';
import { checkGradients } from '../gradcheck.js';
import { gradients } from '../autodiff.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { mul } from './mul.js';
import { reduceMean } from './reduce-mean.js';

test('reduceMean: over the last axis', async () => {
  assertClose(numbers(await evaluate((_g, [x]) => reduceMean(x, [-1]), [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 9] }])), [2, 6]);
});

test('reduceMean: gradient (float64)', async () => {
  await checkGradients((_g, [x]) => reduceMean(x, [-1], true), [{ name: 'x', shape: [2, 3, 4] }]);
  await checkGradients((_g, [x]) => reduceMean(x, [0, 1]), [{ name: 'x', shape: [2, 3, 2] }]);
});

test('reduceMean: gradient over a named axis divides by its run-time size', async () => {
  const g = new Graph();
  const w = g.param('w', [1], 'float64');
  const loss = reduceMean(mul(g.input('x', 'float64', ['n']), w));
  g.output('dw', gradients(loss, [w])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({
    x: { data: Float64Array.from([1, 2, 3, 6]), dims: [4] },
    w: { data: Float64Array.from([2]), dims: [1] },
  });
  assertClose(numbers(out.dw), [3]);
  await session.release();
});
