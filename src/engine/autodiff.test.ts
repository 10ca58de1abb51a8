import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from './autodiff.js';
import { checkGradients } from './gradcheck.js';
import { Graph } from './graph.js';
import { exportModel, liveNodes } from './onnx.js';
import { add, gather, matmul, mul, reduceSum, tanh } from './ops/index.js';
import { Session } from './runtime.js';
import { assertClose, numbers } from './testing.js';

test('gradients: a tensor used several times gets the sum of its gradients (float64)', async () => {
  // f = Σ tanh(x·x + x) · x
  await checkGradients((_g, [x]) => mul(tanh(add(mul(x, x), x)), x), [{ name: 'x', shape: [2, 3] }]);
});

test('gradients: only the backward nodes the requested params need are built', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 4]);
  const w1 = g.param('w1', [4, 8]);
  const w2 = g.param('w2', [8, 2]);
  const loss = reduceSum(matmul(tanh(matmul(x, w1)), w2));
  const before = g.nodes.length;
  const [dw2] = gradients(loss, [w2]);
  g.output('dw2', dw2);
  const backward = liveNodes(g, [dw2]).filter((n) => g.nodes.indexOf(n) >= before);
  // dW2 = hᵀ·dY needs neither tanh' nor anything for w1 or x.
  assert.ok(
    !backward.some((n) => n.opType === 'Tanh' || n.opType === 'Mul' || n.opType === 'Sub'),
    backward.map((n) => n.opType).join(','),
  );
  assert.equal(backward.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul').length, 1);
});

test('gradients: a param the loss does not depend on gets zeros; an intermediate tensor can be a target', async () => {
  const g = new Graph();
  const w = g.param('w', [3], 'float64');
  const unused = g.param('unused', [2], 'float64');
  const h = mul(w, w);
  const loss = reduceSum(mul(h, 3));
  const [dw, dUnused, dh] = gradients(loss, [w, unused, h]);
  g.output('dw', dw);
  g.output('dUnused', dUnused);
  g.output('dh', dh);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ w: { data: Float64Array.from([1, 2, 3]), dims: [3] }, unused: { data: new Float64Array(2), dims: [2] } });
  assertClose(numbers(out.dw), [6, 12, 18]);
  assertClose(numbers(out.dUnused), [0, 0]);
  assertClose(numbers(out.dh), [3, 3, 3]);
  await session.release();
});

test('gradients: clear errors for non-scalar losses, integer targets and ops without a rule', () => {
  const g = new Graph();
  const w = g.param('w', [3]);
  assert.throws(() => gradients(mul(w, 2), [w]), /gradients: loss .* is not a scalar/);
  const ids = g.input('ids', 'int64', [2]);
  assert.throws(() => gradients(reduceSum(gather(w, ids)), [ids]), /cannot differentiate with respect to ids: int64/);
  const [rounded] = g.emit('Round', [w], {}, [{ dtype: 'float32', shape: [3] }]);
  assert.throws(() => gradients(reduceSum(rounded), [w]), /no gradient rule for Round/);
});

test('gradients: a seed gradient for a non-scalar output (vector-Jacobian product)', async () => {
  const g = new Graph();
  const w = g.param('w', [2], 'float64');
  const y = mul(w, w);
  const seed = g.input('seed', 'float64', [2]);
  g.output('vjp', gradients(y, [w], seed)[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({
    w: { data: Float64Array.from([3, 5]), dims: [2] },
    seed: { data: Float64Array.from([1, 10]), dims: [2] },
  });
  assertClose(numbers(out.vjp), [6, 100]);
  await session.release();
});
