import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel, gradients, type Tensor } from '../../engine/index.js';
import { MASKED } from '../../model/t5-graph.js';
import { listwiseLoss, marginRankLoss } from './loss.js';

function int64(g: Graph, values: readonly number[]): Tensor {
  return g.constant(BigInt64Array.from(values.map(BigInt)), [values.length], 'int64');
}

function float64(g: Graph, values: readonly number[], shape = [values.length]): Tensor {
  return g.constant(Float64Array.from(values), shape, 'float64');
}

async function lossAndGradient(build: (g: Graph, scores: Tensor) => Tensor, scores: readonly number[]): Promise<{ loss: number; grad: number[] }> {
  const g = new Graph('ltrgr-loss-test');
  const x = g.param('scores', [scores.length], 'float64');
  const loss = build(g, x);
  g.output('loss', loss);
  g.output('grad', gradients(loss, [x])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const result = await session.run({ scores: { data: Float64Array.from(scores), dims: [scores.length] } });
  await session.release();
  return { loss: (result.loss.data as Float64Array)[0], grad: [...(result.grad.data as Float64Array)] };
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `element ${i}: ${a} vs ${expected[i]}`));
}

// Two queries of three rows each: positive, top negative, random negative (LTRGR's pairs, ½ each, mean over queries).
const MARGIN_PAIRS = { positive: [0, 0, 3, 3], negative: [1, 2, 4, 5], weight: [0.25, 0.25, 0.25, 0.25] };

test('margin rank loss and gradient equal the hand computation', async () => {
  // S = [−1, −2.2, −0.5, −3, −2.5, −6], margin 1: violations S⁻ − S⁺ + 1 = −0.2, 1.5, 1.5, −2
  // → hinge 0, 1.5, 1.5, 0 → loss ¼ · 3 = 0.75; only the two violated pairs pass gradient.
  const { loss, grad } = await lossAndGradient(
    (g, s) => marginRankLoss(s, { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) }, 1),
    [-1, -2.2, -0.5, -3, -2.5, -6],
  );
  assertClose([loss], [0.75]);
  assertClose(grad, [-0.25, 0, 0.25, -0.25, 0.25, 0]);
});

test('list-wise loss and gradient equal the hand computation, padded rows left out', async () => {
  // Query 0 lists rows 0–2; query 1 rows 3–4 (row 5 is padding, masked).
  // loss = ½ [−(−1 − log(e^−1 + e^−2 + e^−3))] + ½ [−(−0.5 − log(e^−0.5 + e^−0.7))];
  // dL/dS_j = ½ (softmax_j − [j is the positive]).
  const { loss, grad } = await lossAndGradient(
    (g, s) => listwiseLoss(s, float64(g, [0, 0, 0, 0, 0, MASKED], [2, 3]), float64(g, [0.5, 0.5])),
    [-1, -2, -3, -0.5, -0.7, -4],
  );
  assertClose([loss], [0.5028724169129861]);
  assertClose(grad, [-0.1673795221125891, 0.12236423552739882, 0.04501528658519022, -0.22508300134376108, 0.22508300134376102, 0]);
});

test('list-wise loss with temperature τ scales the scores by 1/τ', async () => {
  const scores = [-1, -2, -3];
  const tau = 2;
  const { loss } = await lossAndGradient((g, s) => listwiseLoss(s, float64(g, [0, 0, 0], [1, 3]), float64(g, [1]), tau), scores);
  const scaled = scores.map((v) => v / tau);
  assertClose([loss], [-(scaled[0] - Math.log(scaled.reduce((sum, v) => sum + Math.exp(v), 0)))]);
});

test('margin and list-wise losses pass the engine gradient check (float64 finite differences)', async () => {
  // Scores spread so that no hinge sits within eps of its kink.
  const values = [-1, -2.2, -0.5, -3, -2.5, -6];
  const margin = await checkGradients(
    (g, [s]) => marginRankLoss(s, { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) }, 1),
    [{ name: 'scores', shape: [6], values }],
  );
  assert.equal(margin.checked, 6);
  const listwise = await checkGradients(
    (g, [s]) => listwiseLoss(s, float64(g, [0, 0, 0, MASKED, 0, 0, 0, 0], [2, 4]), float64(g, [0.5, 0.5]), 0.7),
    [{ name: 'scores', shape: [8], range: [-8, -0.1] }],
  );
  assert.equal(listwise.checked, 8);
  assert.ok(listwise.maxGradient > 0.01);
});
