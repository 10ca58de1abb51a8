import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel, gradients } from '../../../engine/index.js';
import { listMleLoss } from './listmle.js';

// Two lists of three scores, each in its target order (column 0 should rank first).
const SCORES = [2, 1, 0, 0, 1, 3];

const lse = (xs: number[]): number => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));

test('ListMLE value and gradient equal the hand computation', async () => {
  // List 1: [log(e²+e¹+e⁰) − 2] + [log(e¹+e⁰) − 1] + [0 − 0]; list 2 likewise; the mean of both.
  const list1 = lse([2, 1, 0]) - 2 + (lse([1, 0]) - 1);
  const list2 = lse([0, 1, 3]) - 0 + (lse([1, 3]) - 1);
  const expectedLoss = (list1 + list2) / 2;
  // ∂/∂s_j = (Σ_{i ≤ j} softmax over {i…}(j) − 1) / lists.
  const soft = (xs: number[], j: number): number => Math.exp(xs[j] - lse(xs));
  const gradOf = (s: number[]): number[] =>
    [soft(s, 0) - 1, soft(s, 1) + soft(s.slice(1), 0) - 1, soft(s, 2) + soft(s.slice(1), 1) + 1 - 1].map((v) => v / 2);
  const expectedGrad = [...gradOf(SCORES.slice(0, 3)), ...gradOf(SCORES.slice(3))];
  // Spelled out for the first list: 0.665241 − 1, 0.244728 + 0.731059 − 1, 0.090031 + 0.268941.
  assert.ok(Math.abs(expectedGrad[0] - (0.66524096 - 1) / 2) < 1e-7);

  const g = new Graph('listmle');
  const scores = g.param('scores', [2, 3], 'float64');
  const loss = listMleLoss(scores, 3);
  g.output('loss', loss);
  g.output('grad', gradients(loss, [scores])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ scores: { data: Float64Array.from(SCORES), dims: [2, 3] } });
  await session.release();
  assert.ok(Math.abs(Number(out.loss.data[0]) - expectedLoss) < 1e-12, `${Number(out.loss.data[0])} vs ${expectedLoss}`);
  [...(out.grad.data as Float64Array)].forEach((v, i) =>
    assert.ok(Math.abs(v - expectedGrad[i]) < 1e-12, `grad[${i}] ${v} vs ${expectedGrad[i]}`),
  );
});

test('ListMLE is lower for scores already in the target order than for the reversed scores', async () => {
  const g = new Graph('listmle-order');
  const scores = g.param('scores', [2, 4], 'float64');
  g.output('loss', listMleLoss(scores, 4));
  const session = await Session.create(exportModel(g), { threads: 1 });
  const single = async (row: number[]): Promise<number> =>
    Number((await session.run({ scores: { data: Float64Array.from([...row, ...row]), dims: [2, 4] } })).loss.data[0]);
  const ordered = await single([3, 2, 1, 0]);
  const reversed = await single([0, 1, 2, 3]);
  await session.release();
  assert.ok(ordered < reversed, `${ordered} vs ${reversed}`);
});

test('ListMLE gradient passes the engine gradient check (float64, random scores)', async () => {
  const report = await checkGradients((_g, [scores]) => listMleLoss(scores, 5), [{ name: 'scores', shape: [3, 5], range: [-3, 3] }]);
  assert.equal(report.checked, 15);
  assert.ok(report.maxGradient > 0.05);
});
