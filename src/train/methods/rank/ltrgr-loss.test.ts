import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel, gradients, type Tensor } from '../../../engine/index.js';
import { MASKED } from '../../../model/t5-graph.js';
import { listwiseLoss, marginMseLoss, marginRankLoss, prefixMarginMseLoss, prefixMarginRankLoss } from './ltrgr-loss.js';

function int64(g: Graph, values: readonly number[]): Tensor {
  return g.constant(BigInt64Array.from(values.map(BigInt)), [values.length], 'int64');
}

function float64(g: Graph, values: readonly number[], shape = [values.length]): Tensor {
  return g.constant(Float64Array.from(values), shape, 'float64');
}

async function lossAndGradient(
  build: (g: Graph, scores: Tensor) => Tensor,
  scores: readonly number[],
): Promise<{ loss: number; grad: number[] }> {
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
    (g, s) =>
      marginRankLoss(
        s,
        { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) },
        1,
      ),
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
    (g, [s]) =>
      marginRankLoss(
        s,
        { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) },
        1,
      ),
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

// Token log-probabilities of 4 rows (docids of 3 tokens + EOS): query 0 = rows 0 (positive), 1; query 1 = rows 2 (positive), 3.
const TOKENS = [-0.1, -2.0, -0.3, -0.1, -1.5, -0.2, -0.2, -0.1, -0.5, -0.5, -0.5, -0.5, -0.4, -0.4, -3.0, -0.2];
const PREFIX_PAIRS = { positive: [0, 2], negative: [1, 3], weight: [0.5, 0.5] };
// Prefixes of 1 and 2 tokens, then the whole docid; margins grow with the prefix.
const PREFIX_MASK = [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1];
const PREFIX_MARGINS = [0.5, 1, 2];

function prefixLoss(g: Graph, tokens: Tensor): Tensor {
  return prefixMarginRankLoss(
    tokens,
    float64(g, PREFIX_MASK, [3, 4]),
    { positive: int64(g, PREFIX_PAIRS.positive), negative: int64(g, PREFIX_PAIRS.negative), weight: float64(g, PREFIX_PAIRS.weight) },
    float64(g, PREFIX_MARGINS),
  );
}

test('prefix-oriented margin loss equals the hand computation, and the plain margin loss with the whole docid as the only prefix', async () => {
  // Prefix scores: row 0 [−0.1, −2.1, −2.5], row 1 [−1.5, −1.7, −2.0], row 2 [−0.5, −1.0, −2.0], row 3 [−0.4, −0.8, −4.0].
  // Pair (0,1): S⁻ − S⁺ + m = [−1.5+0.1+0.5, −1.7+2.1+1, −2.0+2.5+2] = [−0.9, 1.4, 2.5] → hinge 0 + 1.4 + 2.5 = 3.9.
  // Pair (2,3): [−0.4+0.5+0.5, −0.8+1.0+1, −4.0+2.0+2] = [0.6, 1.2, 0] → 1.8. Loss = (½·3.9 + ½·1.8) / 3 = 0.95.
  const g = new Graph('prefix');
  const x = g.param('tokens', [4, 4], 'float64');
  const loss = prefixLoss(g, x);
  g.output('loss', loss);
  g.output('grad', gradients(loss, [x])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ tokens: { data: Float64Array.from(TOKENS), dims: [4, 4] } });
  await session.release();
  assertClose([(out.loss.data as Float64Array)[0]], [0.95], 1e-12);
  // Row 0's first token is in the violated prefixes 2 and 3 (each −½/3), its fourth token only in prefix 3.
  const grad = [...(out.grad.data as Float64Array)];
  assertClose(grad.slice(0, 4), [-1 / 3, -1 / 3, -1 / 6, -1 / 6]);
  // Row 3: prefixes 1 and 2 are violated; the whole docid sits exactly at the margin (hinge 0, and Relu passes no gradient at 0).
  assertClose(grad.slice(12, 16), [1 / 3, 1 / 6, 0, 0]);
  const whole = await lossAndGradient(
    (gw, s) =>
      marginRankLoss(
        s,
        {
          positive: int64(gw, PREFIX_PAIRS.positive),
          negative: int64(gw, PREFIX_PAIRS.negative),
          weight: float64(gw, PREFIX_PAIRS.weight),
        },
        2,
      ),
    [-2.5, -2.0, -2.0, -4.0],
  );
  const wholeOnly = await (async () => {
    const gw = new Graph('prefix-whole');
    const t = gw.param('tokens', [4, 4], 'float64');
    const l = prefixMarginRankLoss(
      t,
      float64(gw, [1, 1, 1, 1], [1, 4]),
      { positive: int64(gw, PREFIX_PAIRS.positive), negative: int64(gw, PREFIX_PAIRS.negative), weight: float64(gw, PREFIX_PAIRS.weight) },
      float64(gw, [2]),
    );
    gw.output('loss', l);
    const sw = await Session.create(exportModel(gw), { threads: 1 });
    const r = await sw.run({ tokens: { data: Float64Array.from(TOKENS), dims: [4, 4] } });
    await sw.release();
    return (r.loss.data as Float64Array)[0];
  })();
  assertClose([wholeOnly], [whole.loss]);
});

test('prefix-oriented margin loss passes the gradient check (float64 finite differences)', async () => {
  const report = await checkGradients(
    (g, [tokens]) => prefixLoss(g, tokens),
    [{ name: 'tokens', shape: [4, 4], values: TOKENS.map((v, i) => v + 0.013 * (i % 5)) }],
  );
  assert.equal(report.checked, 16);
  assert.ok(report.maxGradient > 0.1);
});

test('MarginMSE loss and gradient equal the hand computation', async () => {
  // S = [−1, −2.2, −0.5, −3, −2.5, −6]; student margins S⁺ − S⁻ = 1.2, −0.5, −0.5, 3;
  // teacher margins 2, −0.5, 0.5, 1 → errors −0.8, 0, −1, 2 → loss ¼ (0.64 + 0 + 1 + 4) = 1.41.
  // dL/dS⁺ = 2·¼·error summed over the positive's pairs, dL/dS⁻ = −2·¼·error.
  const { loss, grad } = await lossAndGradient(
    (g, s) =>
      marginMseLoss(
        s,
        { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) },
        float64(g, [2, -0.5, 0.5, 1]),
      ),
    [-1, -2.2, -0.5, -3, -2.5, -6],
  );
  assertClose([loss], [1.41]);
  assertClose(grad, [-0.4, 0.4, 0, 0.5, 0.5, -1]);
});

function prefixMseLoss(g: Graph, tokens: Tensor, scale = [1 / 4, 2 / 4, 1]): Tensor {
  return prefixMarginMseLoss(
    tokens,
    float64(g, PREFIX_MASK, [3, 4]),
    { positive: int64(g, PREFIX_PAIRS.positive), negative: int64(g, PREFIX_PAIRS.negative), weight: float64(g, PREFIX_PAIRS.weight) },
    float64(g, [2, -1]),
    float64(g, scale),
  );
}

test('prefix-oriented MarginMSE equals the hand computation, and MarginMSE with the whole docid as the only prefix', async () => {
  // Prefix scores as above: row 0 [−0.1, −2.1, −2.5], row 1 [−1.5, −1.7, −2.0], row 2 [−0.5, −1.0, −2.0], row 3 [−0.4, −0.8, −4.0].
  // Pair (0,1), teacher margin 2 scaled [¼, ½, 1]: margins [1.4, −0.4, −0.5] − [0.5, 1, 2] = [0.9, −1.4, −2.5]
  //   → mean square (0.81 + 1.96 + 6.25) / 3 = 3.00666…
  // Pair (2,3), teacher margin −1: margins [−0.1, −0.2, 2.0] − [−0.25, −0.5, −1] = [0.15, 0.3, 3.0]
  //   → (0.0225 + 0.09 + 9) / 3 = 3.0375. Loss = ½ (3.00666… + 3.0375).
  const g = new Graph('prefix-mse');
  const x = g.param('tokens', [4, 4], 'float64');
  g.output('loss', prefixMseLoss(g, x));
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ tokens: { data: Float64Array.from(TOKENS), dims: [4, 4] } });
  await session.release();
  assertClose([(out.loss.data as Float64Array)[0]], [0.5 * ((0.81 + 1.96 + 6.25) / 3 + (0.0225 + 0.09 + 9) / 3)], 1e-12);
  // One prefix, the whole docid, at scale 1: the plain MarginMSE on the summed scores.
  const whole = await lossAndGradient(
    (gw, s) =>
      marginMseLoss(
        s,
        {
          positive: int64(gw, PREFIX_PAIRS.positive),
          negative: int64(gw, PREFIX_PAIRS.negative),
          weight: float64(gw, PREFIX_PAIRS.weight),
        },
        float64(gw, [2, -1]),
      ),
    [-2.5, -2.0, -2.0, -4.0],
  );
  const gw = new Graph('prefix-mse-whole');
  const t = gw.param('tokens', [4, 4], 'float64');
  gw.output(
    'loss',
    prefixMarginMseLoss(
      t,
      float64(gw, [1, 1, 1, 1], [1, 4]),
      { positive: int64(gw, PREFIX_PAIRS.positive), negative: int64(gw, PREFIX_PAIRS.negative), weight: float64(gw, PREFIX_PAIRS.weight) },
      float64(gw, [2, -1]),
      float64(gw, [1]),
    ),
  );
  const sw = await Session.create(exportModel(gw), { threads: 1 });
  const r = await sw.run({ tokens: { data: Float64Array.from(TOKENS), dims: [4, 4] } });
  await sw.release();
  assertClose([(r.loss.data as Float64Array)[0]], [whole.loss]);
});

test('MarginMSE losses pass the gradient check (float64 finite differences)', async () => {
  const plain = await checkGradients(
    (g, [s]) =>
      marginMseLoss(
        s,
        { positive: int64(g, MARGIN_PAIRS.positive), negative: int64(g, MARGIN_PAIRS.negative), weight: float64(g, MARGIN_PAIRS.weight) },
        float64(g, [2, -0.5, 0.5, 1]),
      ),
    [{ name: 'scores', shape: [6], values: [-1, -2.2, -0.5, -3, -2.5, -6] }],
  );
  assert.equal(plain.checked, 6);
  const prefixed = await checkGradients(
    (g, [tokens]) => prefixMseLoss(g, tokens),
    [{ name: 'tokens', shape: [4, 4], values: TOKENS.map((v, i) => v + 0.013 * (i % 5)) }],
  );
  assert.equal(prefixed.checked, 16);
  assert.ok(prefixed.maxGradient > 0.1);
});
