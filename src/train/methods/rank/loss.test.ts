import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel, gradients, mul, reduceSum, type Tensor } from '../../../engine/index.js';
import { dpoLoss, generationLoss, negLogSigmoid, type RowPairs } from './loss.js';

// Six rows: query 0 = rows 0 (positive), 1, 2; query 1 = rows 3 (positive), 4, 5.
const POLICY = [-1.0, -2.0, -3.5, -0.5, -4.0, -2.5];
const REFERENCE = [-1.5, -1.8, -3.0, -1.0, -3.0, -3.0];
const PAIRS = { positive: [0, 0, 3, 3], negative: [1, 2, 4, 5], weight: [0.25, 0.25, 0.25, 0.25] };

function pairTensors(g: Graph, pairs = PAIRS): RowPairs {
  return {
    positive: g.constant(BigInt64Array.from(pairs.positive.map(BigInt)), [pairs.positive.length], 'int64'),
    negative: g.constant(BigInt64Array.from(pairs.negative.map(BigInt)), [pairs.negative.length], 'int64'),
    weight: g.constant(Float64Array.from(pairs.weight), [pairs.weight.length], 'float64'),
  };
}

/** Runs `build` on a float64 param `policy` and returns the loss and its gradient. */
async function lossAndGradient(
  build: (g: Graph, policy: Tensor) => Tensor,
  policy: readonly number[],
): Promise<{ loss: number; grad: number[] }> {
  const g = new Graph('loss-test');
  const x = g.param('policy', [policy.length], 'float64');
  const loss = build(g, x);
  g.output('loss', loss);
  g.output('grad', gradients(loss, [x])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const result = await session.run({ policy: { data: Float64Array.from(policy), dims: [policy.length] } });
  await session.release();
  return { loss: (result.loss.data as Float64Array)[0], grad: [...(result.grad.data as Float64Array)] };
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `element ${i}: ${a} vs ${expected[i]}`));
}

test('DPO loss and gradient equal the hand computation', async () => {
  // log-ratios π − ref = [0.5, −0.2, −0.5, 0.5, −1.0, 0.5]; pair margins 0.7, 1.0, 1.5, 0.0;
  // z = 0.4 · margin; loss = ¼ Σ log(1 + e^−z) = ¼ (0.56291 + 0.51302 + 0.43749 + 0.69315).
  // dL/dπ⁺ = −¼ β σ(−z) summed over the positive's pairs, dL/dπ⁻ = +¼ β σ(−z).
  const { loss, grad } = await lossAndGradient(
    (g, x) => dpoLoss(x, g.constant(Float64Array.from(REFERENCE), [6], 'float64'), pairTensors(g), 0.4),
    POLICY,
  );
  assertClose([loss], [0.5516414292515325]);
  assertClose(grad, [-0.0831766115948319, 0.0430453776060771, 0.0401312339887548, -0.08543436937742047, 0.035434369377420456, 0.05]);
});

test('DPO loss is log 2 when policy equals reference, and falls as the positive gains', async () => {
  const atReference = await lossAndGradient(
    (g, x) => dpoLoss(x, g.constant(Float64Array.from(REFERENCE), [6], 'float64'), pairTensors(g), 0.4),
    REFERENCE,
  );
  assertClose([atReference.loss], [Math.LN2]);
  // Every pair: dL/dπ⁺ = −¼·0.4·½ = −0.05 per pair, two pairs per positive.
  assertClose(atReference.grad, [-0.1, 0.05, 0.05, -0.1, 0.05, 0.05]);
  const better = REFERENCE.map((v, i) => (i % 3 === 0 ? v + 1 : v));
  const improved = await lossAndGradient(
    (g, x) => dpoLoss(x, g.constant(Float64Array.from(REFERENCE), [6], 'float64'), pairTensors(g), 0.4),
    better,
  );
  assert.ok(improved.loss < Math.LN2);
});

test('−log σ is exact and finite far from 0, and its gradient at 0 is −½', async () => {
  const z = [-1000, -30, -1e-3, 0, 1e-3, 30, 1000];
  const weights = [1, 2, 3, 4, 5, 6, 7];
  const { loss, grad } = await lossAndGradient(
    (g, x) => reduceSum(mul(negLogSigmoid(x), g.constant(Float64Array.from(weights), [7], 'float64'))),
    z,
  );
  // −log σ(z) = log(1 + e^−z); d/dz = −σ(−z) = −1 / (1 + e^z).
  const expected = z.reduce((sum, v, i) => sum + weights[i] * (v < 0 ? -v + Math.log1p(Math.exp(v)) : Math.log1p(Math.exp(-v))), 0);
  assert.ok(Math.abs(loss - expected) <= 1e-9 * Math.abs(expected), `${loss} vs ${expected}`);
  assertClose(
    grad,
    z.map((v, i) => -weights[i] / (1 + Math.exp(v))),
    1e-12,
  );
  assert.equal(grad[3], -2); // 4 · (−½)
});

test('generation loss is the mean token cross-entropy of the positives', async () => {
  const { loss, grad } = await lossAndGradient(
    (g, x) => generationLoss(x, g.constant(BigInt64Array.of(0n, 3n), [2], 'int64'), g.scalar(7, 'float64')),
    POLICY,
  );
  assertClose([loss], [(1.0 + 0.5) / 7]);
  assertClose(grad, [-1 / 7, 0, 0, -1 / 7, 0, 0]);
});

test('DPO loss gradient passes the engine gradient check (float64 finite differences)', async () => {
  const report = await checkGradients(
    (g, [policy, reference]) => dpoLoss(policy, reference, pairTensors(g), 0.4),
    [
      { name: 'policy', shape: [6], range: [-6, -0.1] },
      { name: 'reference', shape: [6], range: [-6, -0.1] },
    ],
  );
  assert.equal(report.checked, 12);
  assert.ok(report.maxGradient > 0.01);
});
