/**
 * ONNX Runtime's com.microsoft fused kernels for inference graphs (weights baked in, no
 * gradient): attention with its key/value cache in one node, and the residual add with the
 * RMS norm after it in one node. A beam-search decoder step runs ~10 rows, where each node's
 * launch and thread wake-up costs about as much as its arithmetic, so fewer nodes is faster.
 * Both run on ORT's CPU provider (onnxruntime-node 1.30) in float32.
 */
import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { dimEq, dimSum, formatShape, isUnknown, type Dim } from '../shape.js';
import { expectDType, fail } from './util.js';

/** What `multiHeadAttention` reads besides the queries. */
export interface MultiHeadAttentionInputs {
  /**
   * Keys and values either as [batch, kv, heads*d_kv] (projected this call; with `past` they
   * are appended to it), or already split into heads, [batch, heads, kv, d_kv] (cross-attention
   * over an encoder output computed once), in which case there is no `past`.
   */
  key: Tensor;
  value: Tensor;
  /** Additive bias [1 or batch, heads, q, total kv] (T5's relative positions). */
  bias?: Tensor;
  /** int32 [batch, total kv]: 1 keeps a key, 0 hides it (adds `maskedValue` to its score). */
  keyPaddingMask?: Tensor;
  /** Cached keys and values [batch, heads, past, d_kv]; the outputs then include the grown cache. */
  past?: readonly [Tensor, Tensor];
}

export interface MultiHeadAttentionOptions {
  heads: number;
  /** Factor on q·k (T5 does not scale: 1). */
  scale: number;
  /** What a hidden key adds to its score. */
  maskedValue: number;
}

/**
 * Softmax(scale · q kᵀ + bias + mask) v over `heads` heads, queries q [batch, q, heads*d_kv]:
 * com.microsoft MultiHeadAttention. Returns the output [batch, q, heads*d_kv] and, with
 * `past`, the cache including this call's keys and values, [batch, heads, past+kv, d_kv].
 */
export function multiHeadAttention(
  query: Tensor,
  inputs: MultiHeadAttentionInputs,
  options: MultiHeadAttentionOptions,
): { output: Tensor; present?: [Tensor, Tensor] } {
  const op = 'multiHeadAttention';
  for (const t of [query, inputs.key, inputs.value, inputs.bias, ...(inputs.past ?? [])])
    if (t !== undefined) expectDType(op, t, ['float32']);
  if (inputs.keyPaddingMask !== undefined) expectDType(op, inputs.keyPaddingMask, ['int32']);
  if (query.rank !== 3) fail(op, `query must be [batch, q, heads*d_kv], got ${formatShape(query.shape)}`);
  const [batch, length, hidden] = query.shape;
  if (typeof hidden !== 'number' || hidden % options.heads !== 0)
    fail(op, `query width ${String(hidden)} is not a multiple of ${options.heads} heads`);
  const headSize = hidden / options.heads;
  const splitKeys = inputs.key.rank === 4;
  if (splitKeys && inputs.past !== undefined) fail(op, 'keys already split into heads take no past');
  const expected: readonly Dim[] = splitKeys ? [batch, options.heads, inputs.key.shape[2], headSize] : [batch, inputs.key.shape[1], hidden];
  for (const t of [inputs.key, inputs.value]) {
    const same =
      t.rank === expected.length && t.shape.every((dim, i) => isUnknown(dim) || isUnknown(expected[i]) || dimEq(dim, expected[i]));
    if (!same)
      fail(op, `keys and values must be ${formatShape(expected)} for query ${formatShape(query.shape)}, got ${formatShape(t.shape)}`);
  }
  const attrs = { num_heads: options.heads, scale: { float: options.scale }, mask_filter_value: { float: options.maskedValue } };
  const operands = [
    query,
    inputs.key,
    inputs.value,
    null,
    inputs.keyPaddingMask ?? null,
    inputs.bias ?? null,
    inputs.past?.[0] ?? null,
    inputs.past?.[1] ?? null,
  ];
  // Trailing absent inputs are left off the node.
  while (operands[operands.length - 1] === null) operands.pop();
  const outputShape = [batch, length, hidden];
  if (inputs.past === undefined) {
    const [output] = query.graph.emit('MultiHeadAttention', operands, attrs, [{ dtype: 'float32', shape: outputShape }], 'com.microsoft');
    return { output };
  }
  const [pastKey] = inputs.past;
  if (pastKey.rank !== 4) fail(op, `past must be [batch, heads, past, d_kv], got ${formatShape(pastKey.shape)}`);
  const total = dimSum(pastKey.shape[2], inputs.key.shape[1]);
  const cacheShape = [batch, options.heads, total, headSize];
  const [output, presentKey, presentValue] = query.graph.emit(
    'MultiHeadAttention',
    operands,
    attrs,
    [
      { dtype: 'float32', shape: outputShape },
      { dtype: 'float32', shape: cacheShape },
      { dtype: 'float32', shape: cacheShape },
    ],
    'com.microsoft',
  );
  return { output, present: [presentKey, presentValue] };
}

registerNonDifferentiable('MultiHeadAttention', 'com.microsoft');

/**
 * RMS norm of x + residual (T5's LayerNorm: scale only, no mean subtraction) and the sum
 * itself, in one com.microsoft SkipSimplifiedLayerNormalization node: returns
 * `{ normed: (x + residual) / sqrt(mean((x + residual)²) + epsilon) · weight, sum: x + residual }`.
 */
export function skipRmsNorm(x: Tensor, residual: Tensor, weight: Tensor, epsilon: number): { normed: Tensor; sum: Tensor } {
  const op = 'skipRmsNorm';
  for (const t of [x, residual, weight]) expectDType(op, t, ['float32']);
  const sameShape = x.rank === residual.rank && x.shape.every((dim, i) => dimEq(dim, residual.shape[i]));
  if (!sameShape) fail(op, `x ${formatShape(x.shape)} and residual ${formatShape(residual.shape)} differ`);
  const width = x.shape[x.rank - 1];
  if (weight.rank !== 1 || !dimEq(weight.shape[0], width)) fail(op, `weight ${formatShape(weight.shape)} must be [${String(width)}]`);
  const spec = { dtype: 'float32' as const, shape: x.shape };
  // Outputs: the norm, then mean and inverse std (which the kernel does not produce), then the sum.
  const [normed, , , sum] = x.graph.emit(
    'SkipSimplifiedLayerNormalization',
    [x, residual, weight],
    { epsilon: { float: epsilon } },
    [spec, { dtype: 'float32', shape: [] }, { dtype: 'float32', shape: [] }, spec],
    'com.microsoft',
  );
  return { normed, sum };
}

registerNonDifferentiable('SkipSimplifiedLayerNormalization', 'com.microsoft');
