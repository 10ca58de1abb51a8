import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimEq, formatShape, isUnknown } from '../shape.js';
import { gemm } from './gemm.js';
import { sumToShape } from './reduce-sum.js';
import { reshape } from './reshape.js';
import { transposeLast2 } from './transpose.js';
import { broadcastOrFail, emit1, expectFloat, fail } from './util.js';

/**
 * Matrix product of the last two axes, leading (batch) axes broadcast as in numpy.
 * Both operands need rank ≥ 2 (make vectors [1, n] or [n, 1] explicitly).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectFloat('matmul', a);
  if (a.dtype !== b.dtype) fail('matmul', `dtypes differ: ${a.toString()} @ ${b.toString()}`);
  if (a.rank < 2 || b.rank < 2) fail('matmul', `needs rank ≥ 2 operands, got ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (!isUnknown(k1) && !isUnknown(k2) && !dimEq(k1, k2)) {
    fail('matmul', `inner dims differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)} (${k1} vs ${k2})`);
  }
  const batch = broadcastOrFail('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return emit1(a.graph, 'MatMul', [a, b], {}, a.dtype, [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]]);
}

/**
 * dA = dY Bᵀ, dB = Aᵀ dY, summed over broadcast batch axes. The common case of a batch of
 * activations times a 2-D weight folds the batch into rows and takes dB as one Gemm with
 * transA, so the weight gradient is a single large GEMM instead of a batched one plus a sum.
 */
registerGradient('MatMul', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  const grad = dy as Tensor;
  let dA: Tensor | null = null;
  let dB: Tensor | null = null;
  if (needs[0]) dA = sumToShape(matmul(grad, transposeLast2(b)), a.shape);
  if (needs[1]) {
    if (b.rank === 2 && a.rank > 2) {
      const k = a.shape[a.rank - 1];
      const n = b.shape[1];
      dB = gemm(reshape(a, [-1, k]), reshape(grad, [-1, n]), { transA: true });
    } else {
      dB = sumToShape(matmul(transposeLast2(a), grad), b.shape);
    }
  }
  return [dA, dB];
});
