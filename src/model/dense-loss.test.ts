import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel, gradients } from '../engine/index.js';
import { MASKED } from './t5-graph.js';
import { meanPoolNormalize } from './dense-graph.js';
import { infoNceLoss } from './dense-loss.js';

// Two queries, three passages (2-D vectors). Query 0's positive is passage 0, query 1's is
// passage 2; passage 1 is relevant to query 1 as well, so it is masked out of query 1's row.
const Q = [1, 0, 0.6, 0.8];
const P = [0.8, 0.6, 0, 1, 0.6, 0.8];
const TARGETS = [0n, 2n];
const BIAS = [0, 0, 0, 0, MASKED, 0];

/** −log softmax(s)[t] computed on the host: the reference for the graph. */
function hostInfoNce(scale: number): { loss: number; dQ: number[]; dP: number[] } {
  const dQ = new Array<number>(4).fill(0);
  const dP = new Array<number>(6).fill(0);
  let loss = 0;
  for (let b = 0; b < 2; b++) {
    const logits = [0, 1, 2].map((n) => scale * (Q[2 * b] * P[2 * n] + Q[2 * b + 1] * P[2 * n + 1]) + BIAS[3 * b + n]);
    const max = Math.max(...logits);
    const z = logits.reduce((s, l) => s + Math.exp(l - max), 0);
    const probs = logits.map((l) => Math.exp(l - max) / z);
    const t = Number(TARGETS[b]);
    loss += -Math.log(probs[t]) / 2;
    for (let n = 0; n < 3; n++) {
      const dLogit = (probs[n] - (n === t ? 1 : 0)) / 2;
      for (let d = 0; d < 2; d++) {
        dQ[2 * b + d] += dLogit * scale * P[2 * n + d];
        dP[2 * n + d] += dLogit * scale * Q[2 * b + d];
      }
    }
  }
  return { loss, dQ, dP };
}

function constants(g: Graph) {
  return {
    targets: g.constant(BigInt64Array.from(TARGETS), [2], 'int64'),
    bias: g.constant(Float64Array.from(BIAS), [2, 3], 'float64'),
  };
}

test('InfoNCE loss, accuracy and gradients equal the hand computation (fixed temperature 0.05, a masked false negative)', async () => {
  const g = new Graph('infonce');
  const q = g.param('q', [2, 2], 'float64');
  const p = g.param('p', [3, 2], 'float64');
  const { targets, bias } = constants(g);
  const { loss, accuracy } = infoNceLoss(q, p, targets, bias, { scale: 20 });
  g.output('loss', loss);
  g.output('accuracy', accuracy);
  const [dq, dp] = gradients(loss, [q, p]);
  g.output('dq', dq);
  g.output('dp', dp);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ q: { data: Float64Array.from(Q), dims: [2, 2] }, p: { data: Float64Array.from(P), dims: [3, 2] } });
  await session.release();
  const expected = hostInfoNce(20);
  assert.ok(Math.abs(Number(out.loss.data[0]) - expected.loss) < 1e-12, `${Number(out.loss.data[0])} vs ${expected.loss}`);
  // Query 0: its positive (0.8) beats 0 and 0.6; query 1: its positive (1.0) beats 0.8; passage 1 is masked.
  assert.equal(Number(out.accuracy.data[0]), 1);
  [...(out.dq.data as Float64Array)].forEach((v, i) =>
    assert.ok(Math.abs(v - expected.dQ[i]) < 1e-12, `dq[${i}] ${v} vs ${expected.dQ[i]}`),
  );
  [...(out.dp.data as Float64Array)].forEach((v, i) =>
    assert.ok(Math.abs(v - expected.dP[i]) < 1e-12, `dp[${i}] ${v} vs ${expected.dP[i]}`),
  );
  // The masked passage gets no gradient from query 1 (only from query 0).
  assert.ok(Math.abs(expected.dP[2]) > 0);
});

test('InfoNCE passes the gradient check for queries, passages and a learned log scale (float64 finite differences)', async () => {
  const report = await checkGradients(
    (g, [q, p, logScale]) => infoNceLoss(q, p, constants(g).targets, constants(g).bias, { logScale }).loss,
    [
      { name: 'q', shape: [2, 2] },
      { name: 'p', shape: [3, 2] },
      { name: 'log_scale', shape: [1], values: [Math.log(1 / 0.3)] },
    ],
  );
  assert.equal(report.checked, 4 + 6 + 1);
  assert.ok(report.maxGradient > 1e-3);
});

test('the learned logit scale is clamped at 100: no gradient flows past the clamp', async () => {
  const g = new Graph('clamp');
  const q = g.param('q', [2, 2], 'float64');
  const p = g.param('p', [3, 2], 'float64');
  const logScale = g.param('log_scale', [1], 'float64');
  const { targets, bias } = constants(g);
  const { loss } = infoNceLoss(q, p, targets, bias, { logScale });
  g.output('loss', loss);
  g.output('dscale', gradients(loss, [logScale])[0]);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({
    q: { data: Float64Array.from(Q), dims: [2, 2] },
    p: { data: Float64Array.from(P), dims: [3, 2] },
    log_scale: { data: Float64Array.of(Math.log(1000)), dims: [1] },
  });
  await session.release();
  assert.ok(Math.abs(Number(out.loss.data[0]) - hostInfoNce(100).loss) < 1e-12);
  assert.equal(Number(out.dscale.data[0]), 0);
});

test('mean pooling over the real tokens, then unit length; passes the gradient check', async () => {
  const g = new Graph('pool');
  const hidden = g.param('hidden', [4, 2], 'float64');
  const mask = g.constant(Float64Array.from([1, 1, 1, 0]), [2, 2], 'float64');
  g.output('y', meanPoolNormalize(hidden, mask, 2));
  const session = await Session.create(exportModel(g), { threads: 1 });
  // Row 0: mean of (3, 0) and (1, 4) = (2, 2) → (0.7071, 0.7071); row 1: only (0, -5) → (0, -1).
  const out = await session.run({ hidden: { data: Float64Array.from([3, 0, 1, 4, 0, -5, 100, 100]), dims: [4, 2] } });
  await session.release();
  const y = [...(out.y.data as Float64Array)];
  [Math.SQRT1_2, Math.SQRT1_2, 0, -1].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-9, `y[${i}] ${y[i]} vs ${v}`));
  const report = await checkGradients(
    (gc, [h]) => meanPoolNormalize(h, gc.constant(Float64Array.from([1, 1, 1, 0]), [2, 2], 'float64'), 2),
    [{ name: 'hidden', shape: [4, 2] }],
  );
  assert.equal(report.checked, 8);
});
