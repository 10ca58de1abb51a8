import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { unknownDim, type Dim, type Shape } from '../shape.js';
import { broadcastOrFail, fail } from './util.js';
import { concat } from './concat.js';
import { sumToShape } from './reduce-sum.js';

/**
 * Broadcasts `x` to `dims` (numbers and dim names), or to a run-time int64 shape tensor with
 * `staticShape` telling the builder what that shape is.
 */
export function expand(x: Tensor, dims: readonly Dim[] | Tensor, staticShape?: Shape): Tensor {
  const g = x.graph;
  let shapeTensor: Tensor;
  let target: Shape;
  if (dims instanceof Tensor) {
    if (dims.dtype !== 'int64' || dims.rank !== 1) fail('expand', `shape must be an int64 vector, got ${dims.toString()}`);
    shapeTensor = dims;
    const length = dims.shape[0];
    if (staticShape) target = staticShape;
    else if (typeof length === 'number') target = Array.from({ length }, () => unknownDim());
    else fail('expand', 'the rank of a run-time shape must be known');
  } else {
    target = dims;
    shapeTensor = dims.every((d) => typeof d === 'number')
      ? g.constant(dims as number[], [dims.length], 'int64')
      : concat(dims.map((d) => g.dimTensor(d)), 0);
  }
  const shape = broadcastOrFail('expand', x.shape, target);
  return g.emit('Expand', [x, shapeTensor], {}, [{ dtype: x.dtype, shape }])[0];
}

registerGradient('Expand', ({ node, outputGrads: [dy] }) => [sumToShape(dy as Tensor, (node.inputs[0] as Tensor).shape), null]);
