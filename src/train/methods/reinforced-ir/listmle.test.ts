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

test('ListMLE at depth 1 is the softmax cross-entropy of the first column; depth 2 keeps two terms (value and gradient by hand)', async () => {
  const g = new Graph('listmle-depth');
  const scores = g.param('scores', [2, 3], 'float64');
  const top1 = listMleLoss(scores, 3, 1);
  const top2 = listMleLoss(scores, 3, 2);
  g.output('top1', top1);
  g.output('top2', top2);
  g.output('grad1', gradients(top1, [scores])[0]);
  g.output('grad2', gradients(top2, [scores])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ scores: { data: Float64Array.from(SCORES), dims: [2, 3] } });
  await session.release();
  const [a, b] = [SCORES.slice(0, 3), SCORES.slice(3)];
  const soft = (xs: number[], j: number): number => Math.exp(xs[j] - lse(xs));
  // Depth 1: [log Σ exp(s) − s₀] per list; ∂/∂s_j = (softmax(s)_j − [j = 0]) / lists.
  assert.ok(Math.abs(Number(out.top1.data[0]) - (lse(a) - a[0] + lse(b) - b[0]) / 2) < 1e-12);
  const grad1 = [a, b].flatMap((s) => [0, 1, 2].map((j) => (soft(s, j) - (j === 0 ? 1 : 0)) / 2));
  [...(out.grad1.data as Float64Array)].forEach((v, i) =>
    assert.ok(Math.abs(v - grad1[i]) < 1e-12, `depth 1 grad[${i}] ${v} vs ${grad1[i]}`),
  );
  // Depth 2 adds the second position's term over the suffix {1, 2}; the third (always 0) is the only one left out.
  const two = (s: number[]): number => lse(s) - s[0] + lse(s.slice(1)) - s[1];
  assert.ok(Math.abs(Number(out.top2.data[0]) - (two(a) + two(b)) / 2) < 1e-12);
  const grad2 = [a, b].flatMap((s) =>
    [soft(s, 0) - 1, soft(s, 1) + soft(s.slice(1), 0) - 1, soft(s, 2) + soft(s.slice(1), 1)].map((v) => v / 2),
  );
  [...(out.grad2.data as Float64Array)].forEach((v, i) =>
    assert.ok(Math.abs(v - grad2[i]) < 1e-12, `depth 2 grad[${i}] ${v} vs ${grad2[i]}`),
  );
  // With 3 columns the last term is 0, so depth 2 equals the full loss; depth 1 is strictly below it here.
  assert.ok(Number(out.top1.data[0]) < Number(out.top2.data[0]));
});

test('ListMLE at depth 2 of 5 passes the engine gradient check; a depth outside 1…size is refused', async () => {
  const report = await checkGradients((_g, [scores]) => listMleLoss(scores, 5, 2), [{ name: 'scores', shape: [3, 5], range: [-3, 3] }]);
  assert.equal(report.checked, 15);
  assert.ok(report.maxGradient > 0.05);
  const g = new Graph('listmle-bad');
  const scores = g.param('scores', [1, 4], 'float64');
  assert.throws(() => listMleLoss(scores, 4, 0), /depth 0 outside 1…4/);
  assert.throws(() => listMleLoss(scores, 4, 5), /depth 5 outside 1…4/);
});
