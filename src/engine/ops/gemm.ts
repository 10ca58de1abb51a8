import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimEq, formatShape, isUnknown } from '../shape.js';
import { emit1, expectFloat, fail } from './util.js';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
}

/** op(a) @ op(b) for 2-D a and b, op = transpose when asked (ONNX Gemm, no bias). */
export function gemm(a: Tensor, b: Tensor, options: GemmOptions = {}): Tensor {
  expectFloat('gemm', a);
  if (a.dtype !== b.dtype) fail('gemm', `dtypes differ: ${a.toString()} and ${b.toString()}`);
  if (a.rank !== 2 || b.rank !== 2) fail('gemm', `needs 2-D operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const [m, k1] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!isUnknown(k1) && !isUnknown(k2) && !dimEq(k1, k2)) {
    fail(
      'gemm',
      `inner dims differ: op(${formatShape(a.shape)}) @ op(${formatShape(b.shape)}) with transA=${transA} transB=${transB} (${k1} vs ${k2})`,
    );
  }
  return emit1(a.graph, 'Gemm', [a, b], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }, a.dtype, [m, n]);
}

// With Y = op(A) op(B): d op(A) = dY op(B)ᵀ and d op(B) = op(A)ᵀ dY, each transposed back
// into the stored layout through the Gemm flags rather than Transpose nodes.
registerGradient('Gemm', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  if (node.inputs.length > 2 || (node.attrs.alpha !== undefined && node.attrs.alpha !== 1)) {
    throw new Error('Gemm gradient: only the bias-free, alpha = 1 form built by gemm() is differentiable');
  }
  const transA = node.attrs.transA === 1;
  const transB = node.attrs.transB === 1;
  const g = dy as Tensor;
  const dA = !needs[0] ? null : transA ? gemm(b, g, { transA: transB, transB: true }) : gemm(g, b, { transB: !transB });
  const dB = !needs[1] ? null : transB ? gemm(g, a, { transA: true, transB: transA }) : gemm(a, g, { transA: !transA });
  return [dA, dB];
});
