import type { DType } from '../dtype.js';
import { Tensor, graphOf, type Graph, type TensorLike } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { unknownDim } from '../shape.js';
import { emit1, fail } from './util.js';

/**
 * [start, start + delta, …) up to `limit` (exclusive), as ONNX Range. Scalars may be tensors
 * (e.g. a sequence length read with `g.dimTensor`); pass `graph` when all three are numbers.
 */
export function range(start: TensorLike, limit: TensorLike, delta: TensorLike = 1, dtype: DType = 'int64', graph?: Graph): Tensor {
  const g = graph ?? graphOf('range', start, limit, delta);
  const scalar = (v: TensorLike): Tensor => {
    if (typeof v === 'number') return g.scalar(v, dtype);
    if (v.dtype !== dtype) fail('range', `operand ${v.toString()} is not ${dtype}`);
    if (v.rank === 1 && v.shape[0] === 1) return g.emit('Squeeze', [v], {}, [{ dtype, shape: [] }])[0];
    if (v.rank !== 0) fail('range', `operands must be scalars, got ${v.toString()}`);
    return v;
  };
  const length =
    typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number'
      ? Math.max(Math.ceil((limit - start) / delta), 0)
      : unknownDim();
  return emit1(g, 'Range', [scalar(start), scalar(limit), scalar(delta)], {}, dtype, [length]);
}

registerNonDifferentiable('Range');
