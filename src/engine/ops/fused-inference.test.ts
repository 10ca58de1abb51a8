import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { Graph, type Tensor } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session, type HostTensor } from '../runtime.js';
import { assertClose, numbers } from '../testing.js';
import { multiHeadAttention, skipRmsNorm } from './fused-inference.js';

const HEADS = 2;
const HEAD_SIZE = 3;
const HIDDEN = HEADS * HEAD_SIZE;
const MASKED = -1e9;

function randomValues(rng: Rng, length: number): Float32Array {
  return Float32Array.from({ length }, () => rng.normal());
}

/** Builds a graph over float32 inputs of the given dims (int32 where named in `int32`), runs it once, returns every output. */
async function run(
  inputs: Record<string, { dims: number[]; data: Float32Array | Int32Array }>,
  build: (g: Graph, x: Record<string, Tensor>) => Record<string, Tensor>,
): Promise<Record<string, HostTensor>> {
  const g = new Graph('fused-test');
  const x: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(inputs))
    x[name] = g.input(name, value.data instanceof Int32Array ? 'int32' : 'float32', value.dims);
  for (const [name, tensor] of Object.entries(build(g, x))) g.output(name, tensor);
  const session = await Session.create(exportModel(g), { threads: 1 });
  try {
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

/** Row-major [batch, heads, len, d] view of keys given as [batch, len, heads*d]. */
function headsOf(data: Float32Array, batch: number, len: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < len; t++)
      for (let h = 0; h < HEADS; h++)
        for (let d = 0; d < HEAD_SIZE; d++)
          out[((b * HEADS + h) * len + t) * HEAD_SIZE + d] = data[(b * len + t) * HIDDEN + h * HEAD_SIZE + d];
  return out;
}

/**
 * Unscaled attention written out: queries [batch, q, heads*d], keys and values [batch, heads,
 * kv, d], bias(b, h, i, j) added to each score; output [batch, q, heads*d].
 */
function attention(
  query: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  batch: number,
  queries: number,
  kv: number,
  bias: (b: number, h: number, i: number, j: number) => number,
): number[] {
  const out = new Array<number>(batch * queries * HIDDEN).fill(0);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < HEADS; h++)
      for (let i = 0; i < queries; i++) {
        const scores = Array.from({ length: kv }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < HEAD_SIZE; d++)
            dot += query[(b * queries + i) * HIDDEN + h * HEAD_SIZE + d] * keys[((b * HEADS + h) * kv + j) * HEAD_SIZE + d];
          return dot + bias(b, h, i, j);
        });
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((a, w) => a + w, 0);
        for (let d = 0; d < HEAD_SIZE; d++) {
          let sum = 0;
          for (let j = 0; j < kv; j++) sum += (weights[j] / total) * values[((b * HEADS + h) * kv + j) * HEAD_SIZE + d];
          out[(b * queries + i) * HIDDEN + h * HEAD_SIZE + d] = sum;
        }
      }
  return out;
}

/** The cache [batch, heads, past, d] with this call's keys [batch, heads, 1, d] appended. */
function appendStep(past: Float32Array, step: Float32Array, batch: number, pastLength: number): Float32Array {
  const out = new Float32Array(batch * HEADS * (pastLength + 1) * HEAD_SIZE);
  for (let bh = 0; bh < batch * HEADS; bh++) {
    out.set(past.subarray(bh * pastLength * HEAD_SIZE, (bh + 1) * pastLength * HEAD_SIZE), bh * (pastLength + 1) * HEAD_SIZE);
    out.set(step.subarray(bh * HEAD_SIZE, (bh + 1) * HEAD_SIZE), (bh * (pastLength + 1) + pastLength) * HEAD_SIZE);
  }
  return out;
}

for (const pastLength of [0, 3]) {
  test(`multiHeadAttention: a decoder step over a cache of ${pastLength} positions with a per-head bias (scale 1) returns the output and the grown cache`, async () => {
    const rng = new Rng(5 + pastLength);
    const batch = 2;
    const total = pastLength + 1;
    const inputs = {
      query: { dims: [batch, 1, HIDDEN], data: randomValues(rng, batch * HIDDEN) },
      key: { dims: [batch, 1, HIDDEN], data: randomValues(rng, batch * HIDDEN) },
      value: { dims: [batch, 1, HIDDEN], data: randomValues(rng, batch * HIDDEN) },
      bias: { dims: [1, HEADS, 1, total], data: randomValues(rng, HEADS * total) },
      past_k: { dims: [batch, HEADS, pastLength, HEAD_SIZE], data: randomValues(rng, batch * HEADS * pastLength * HEAD_SIZE) },
      past_v: { dims: [batch, HEADS, pastLength, HEAD_SIZE], data: randomValues(rng, batch * HEADS * pastLength * HEAD_SIZE) },
    };
    const out = await run(inputs, (_g, x) => {
      const { output, present } = multiHeadAttention(
        x.query,
        { key: x.key, value: x.value, bias: x.bias, past: [x.past_k, x.past_v] },
        { heads: HEADS, scale: 1, maskedValue: MASKED },
      );
      assert.ok(present);
      return { output, present_k: present[0], present_v: present[1] };
    });
    const keys = appendStep(inputs.past_k.data, headsOf(inputs.key.data, batch, 1), batch, pastLength);
    const values = appendStep(inputs.past_v.data, headsOf(inputs.value.data, batch, 1), batch, pastLength);
    assert.deepEqual(out.present_k.dims, [batch, HEADS, total, HEAD_SIZE]);
    assertClose(numbers(out.present_k), Array.from(keys), 1e-7);
    assertClose(numbers(out.present_v), Array.from(values), 1e-7);
    const expected = attention(inputs.query.data, keys, values, batch, 1, total, (_b, h, _i, j) => inputs.bias.data[h * total + j]);
    assert.deepEqual(out.output.dims, [batch, 1, HIDDEN]);
    assertClose(numbers(out.output), expected, 1e-5);
  });
}

test('multiHeadAttention: cross-attention of a group of rows over one source of keys split into heads; padded keys get no weight', async () => {
  const rng = new Rng(11);
  const sources = 2;
  const rows = 3;
  const kv = 4;
  // The second source has its last two keys padded.
  const mask = Int32Array.from([1, 1, 1, 1, 1, 1, 0, 0]);
  const inputs = {
    query: { dims: [sources, rows, HIDDEN], data: randomValues(rng, sources * rows * HIDDEN) },
    key: { dims: [sources, HEADS, kv, HEAD_SIZE], data: randomValues(rng, sources * HEADS * kv * HEAD_SIZE) },
    value: { dims: [sources, HEADS, kv, HEAD_SIZE], data: randomValues(rng, sources * HEADS * kv * HEAD_SIZE) },
    mask: { dims: [sources, kv], data: mask },
  };
  const build = (_g: Graph, x: Record<string, Tensor>) => ({
    output: multiHeadAttention(
      x.query,
      { key: x.key, value: x.value, keyPaddingMask: x.mask },
      { heads: HEADS, scale: 1, maskedValue: MASKED },
    ).output,
  });
  const out = await run(inputs, build);
  const expected = attention(inputs.query.data, inputs.key.data, inputs.value.data, sources, rows, kv, (b, _h, _i, j) =>
    mask[b * kv + j] === 1 ? 0 : MASKED,
  );
  assertClose(numbers(out.output), expected, 1e-5);
  // Changing what sits behind the padding changes nothing.
  const changed = inputs.value.data.slice();
  for (let h = 0; h < HEADS; h++) changed.fill(1e3, ((HEADS + h) * kv + 2) * HEAD_SIZE, ((HEADS + h) * kv + 4) * HEAD_SIZE);
  const again = await run({ ...inputs, value: { ...inputs.value, data: changed } }, build);
  assert.deepEqual(numbers(again.output), numbers(out.output));
});

test('multiHeadAttention: shapes that do not fit are build errors naming the op', () => {
  const g = new Graph();
  const query = g.input('q', 'float32', ['batch', 1, HIDDEN]);
  const split = g.input('k', 'float32', ['batch', HEADS, 'src', HEAD_SIZE]);
  const past = g.input('p', 'float32', ['batch', HEADS, 'past', HEAD_SIZE]);
  const options = { heads: HEADS, scale: 1, maskedValue: MASKED };
  assert.throws(
    () => multiHeadAttention(g.input('flat', 'float32', ['batch', HIDDEN]), { key: split, value: split }, options),
    /multiHeadAttention: query must be/,
  );
  assert.throws(
    () => multiHeadAttention(query, { key: split, value: split, past: [past, past] }, options),
    /keys already split into heads take no past/,
  );
  assert.throws(() => multiHeadAttention(query, { key: split, value: split }, { ...options, heads: 4 }), /not a multiple of 4 heads/);
});

test('skipRmsNorm: the sum x + residual and its RMS norm times the weight, in one node', async () => {
  const rng = new Rng(3);
  const inputs = {
    x: { dims: [2, 4], data: randomValues(rng, 8) },
    residual: { dims: [2, 4], data: randomValues(rng, 8) },
    weight: { dims: [4], data: randomValues(rng, 4) },
  };
  const epsilon = 1e-6;
  const out = await run(inputs, (g, x) => {
    const { normed, sum } = skipRmsNorm(x.x, x.residual, x.weight, epsilon);
    assert.equal(g.nodes.filter((n) => n.opType === 'SkipSimplifiedLayerNormalization').length, 1);
    return { normed, sum };
  });
  const sum = Array.from(inputs.x.data, (v, i) => v + inputs.residual.data[i]);
  assertClose(numbers(out.sum), sum, 1e-6);
  const normed = sum.map((v, i) => {
    const row = sum.slice(Math.floor(i / 4) * 4, Math.floor(i / 4) * 4 + 4);
    const rms = Math.sqrt(row.reduce((a, r) => a + r * r, 0) / 4 + epsilon);
    return (v / rms) * inputs.weight.data[i % 4];
  });
  assertClose(numbers(out.normed), normed, 1e-5);
  const g = new Graph();
  assert.throws(
    () => skipRmsNorm(g.input('a', 'float32', [2, 4]), g.input('b', 'float32', [2, 3]), g.input('w', 'float32', [4]), epsilon),
    /skipRmsNorm: x \[2, 4\] and residual \[2, 3\] differ/,
  );
});
