import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from './gradcheck.js';
import type { Graph, Tensor } from './graph.js';
import {
  add,
  crossEntropy,
  gather,
  gelu,
  matmul,
  mul,
  reduceMean,
  reshape,
  rsqrt,
  softmax,
  transpose,
  transposeLast2,
  where,
} from './ops/index.js';

// A whole pre-norm transformer block with T5's parts, built only for this check: tied embedding
// in and out, RMSNorm, multi-head causal attention with a learned additive position bias,
// gated-GELU feed-forward, residuals, padded cross-entropy. Every param's gradient is compared
// with central differences in float64.
const [V, D, H, F, B, S] = [7, 8, 2, 12, 2, 4];
const DH = D / H;

function rmsNorm(x: Tensor, weight: Tensor): Tensor {
  return mul(mul(x, rsqrt(add(reduceMean(mul(x, x), [-1], true), 1e-6))), weight);
}

function heads(x: Tensor): Tensor {
  return transpose(reshape(x, [0, 0, H, DH]), [0, 2, 1, 3]);
}

function block(g: Graph, [emb, ln1, wq, wk, wv, wo, bias, ln2, wi0, wi1, wff, ln3]: Tensor[]): Tensor {
  const ids = g.constant([1, 4, 2, 6, 0, 3, 3, 5], [B, S], 'int64');
  const labels = g.constant([4, 2, 6, -100, 3, 3, 5, -100], [B, S], 'int64');
  const causal = g.constant([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1], [S, S], 'bool');
  let x = gather(emb, ids);
  const h = rmsNorm(x, ln1);
  const [q, k, v] = [wq, wk, wv].map((w) => heads(matmul(h, w)));
  const scores = add(mul(matmul(q, transposeLast2(k)), 1 / Math.sqrt(DH)), bias);
  const attention = softmax(where(causal, scores, -1e9), -1);
  const merged = reshape(transpose(matmul(attention, v), [0, 2, 1, 3]), [0, 0, D]);
  x = add(x, matmul(merged, wo));
  const h2 = rmsNorm(x, ln2);
  x = add(x, matmul(mul(gelu(matmul(h2, wi0)), matmul(h2, wi1)), wff));
  const logits = matmul(rmsNorm(x, ln3), transposeLast2(emb));
  return crossEntropy(logits, labels, { ignoreIndex: -100 });
}

test('a tiny transformer block: every parameter gradient matches central differences (float64)', async () => {
  const report = await checkGradients(
    block,
    [
      { name: 'emb', shape: [V, D] },
      { name: 'ln1', shape: [D], range: [0.5, 1.5] },
      { name: 'wq', shape: [D, D] },
      { name: 'wk', shape: [D, D] },
      { name: 'wv', shape: [D, D] },
      { name: 'wo', shape: [D, D] },
      { name: 'bias', shape: [1, H, S, S] },
      { name: 'ln2', shape: [D], range: [0.5, 1.5] },
      { name: 'wi0', shape: [D, F] },
      { name: 'wi1', shape: [D, F] },
      { name: 'wff', shape: [F, D] },
      { name: 'ln3', shape: [D], range: [0.5, 1.5] },
    ],
    { maxElementsPerInput: 40 },
  );
  assert.ok(report.checked > 300, `checked ${report.checked}`);
  assert.ok(report.maxGradient > 1e-3);
});
