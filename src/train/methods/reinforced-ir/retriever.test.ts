import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, Session, checkGradients, exportModel } from '../../../engine/index.js';
import { rlgfLoss } from './retriever.js';

const OBJECTIVE = { listSize: 3, temperature: 0.5, contrastiveWeight: 0.7, listDepth: 3 };
// Two queries in 2-D, their augmentations, and three passages per query in the generator's order.
const Q = [1, 0, 0, 1];
const A = [0.6, 0.8, 0.8, 0.6];
const P = [1, 0, 0.6, 0.8, 0, 1, /* query 2 */ 0, 1, 1, 0, 0.8, 0.6];

function constants(g: Graph, dtype: 'float32' | 'float64') {
  return { targets: g.constant(BigInt64Array.of(0n, 1n), [2], 'int64'), bias: g.constant(new Array<number>(4).fill(0), [2, 2], dtype) };
}

/** The engine's RLGF loss and its two terms on Q, A and P under `objective`, in float64. */
async function engineLoss(objective: typeof OBJECTIVE): Promise<{ loss: number; list: number; contrastive: number }> {
  const g = new Graph('rlgf');
  const q = g.param('q', [2, 2], 'float64');
  const a = g.param('a', [2, 2], 'float64');
  const p = g.param('p', [6, 2], 'float64');
  const { targets, bias } = constants(g, 'float64');
  const out = rlgfLoss(q, a, p, targets, bias, objective);
  g.output('loss', out.loss);
  g.output('list', out.listLoss);
  g.output('contrastive', out.contrastive);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const result = await session.run({
    q: { data: Float64Array.from(Q), dims: [2, 2] },
    a: { data: Float64Array.from(A), dims: [2, 2] },
    p: { data: Float64Array.from(P), dims: [6, 2] },
  });
  await session.release();
  return { loss: Number(result.loss.data[0]), list: Number(result.list.data[0]), contrastive: Number(result.contrastive.data[0]) };
}

const lse = (xs: number[]): number => Math.log(xs.reduce((sum, x) => sum + Math.exp(x), 0));

/** Query b's mixed-query scores (0.8·q + 0.2·a) of its three passages, over the temperature 0.5. */
function mixedScores(b: number): number[] {
  const mix = [0, 1].map((j) => 0.8 * Q[2 * b + j] + 0.2 * A[2 * b + j]);
  return [0, 1, 2].map((i) => (mix[0] * P[6 * b + 2 * i] + mix[1] * P[6 * b + 2 * i + 1]) / 0.5);
}

test('RLGF loss = ListMLE over the mixed query scores + weight · query/augmentation InfoNCE (host computation)', async () => {
  const result = await engineLoss(OBJECTIVE);
  let list = 0;
  let contrastive = 0;
  for (let b = 0; b < 2; b++) {
    const s = mixedScores(b);
    list += (lse(s) - s[0] + lse(s.slice(1)) - s[1]) / 2;
    const logits = [0, 1].map((c) => (Q[2 * b] * A[2 * c] + Q[2 * b + 1] * A[2 * c + 1]) / 0.5);
    contrastive += (lse(logits) - logits[b]) / 2;
  }
  assert.ok(Math.abs(result.list - list) < 1e-12);
  assert.ok(Math.abs(result.contrastive - contrastive) < 1e-12);
  assert.ok(Math.abs(result.loss - (list + 0.7 * contrastive)) < 1e-12);
});

test('RLGF loss gradient passes the engine gradient check for queries, augmentations and passages', async () => {
  const report = await checkGradients(
    (g, [q, a, p]) => {
      const { targets, bias } = constants(g, 'float64');
      return rlgfLoss(q, a, p, targets, bias, OBJECTIVE).loss;
    },
    [
      { name: 'q', shape: [2, 2] },
      { name: 'a', shape: [2, 2] },
      { name: 'p', shape: [6, 2] },
    ],
  );
  assert.equal(report.checked, 20);
  assert.ok(report.maxGradient > 0.01);
});

test('RLGF loss with contrastive weight 0 and list depth 1: only the first passage against its list (host computation)', async () => {
  const { loss } = await engineLoss({ ...OBJECTIVE, contrastiveWeight: 0, listDepth: 1 });
  let expected = 0;
  for (let b = 0; b < 2; b++) {
    const s = mixedScores(b);
    expected += (lse(s) - s[0]) / 2;
  }
  assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
});
