import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../autodiff.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { evaluate, numbers } from '../testing.js';
import { cast } from './cast.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { less } from './less.js';

test('less: elementwise a < 2 as bool, int64 operands too', async () => {
  const y = await evaluate((_g, [x]) => less(x, 2), [{ name: 'x', dims: [3], values: [1, 2, 3] }]);
  assert.equal(y.dtype, 'bool');
  assert.deepEqual(numbers(y), [1, 0, 0]);
  const ints = await evaluate((_g, [x]) => less(x, 2), [{ name: 'x', dims: [3], values: [1, 2, 3], dtype: 'int64' }]);
  assert.deepEqual(numbers(ints), [1, 0, 0]);
});

test('less: carries no gradient, so d/dw Σ mask(w)·w is the mask itself', async () => {
  const g = new Graph();
  const w = g.param('w', [3]);
  const loss = reduceSum(mul(cast(less(w, 0), 'float32'), w));
  g.output('dw', gradients(loss, [w])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ w: { data: Float32Array.from([-1, 0, 2]), dims: [3] } });
  assert.deepEqual(numbers(out.dw), [1, 0, 0]);
  await session.release();
});
