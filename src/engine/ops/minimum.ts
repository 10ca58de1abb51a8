import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { greater } from './greater.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';
import { where } from './where.js';

/** Elementwise min(a, b) with broadcasting (ONNX Min). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('minimum', 'Min', a, b);
}

// Ties send the gradient to the first operand.
registerGradient('Min', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  if (node.inputs.length !== 2) throw new Error('Min gradient: only the two-operand form is differentiable');
  const bWins = greater(a, b);
  return [
    needs[0] ? sumToShape(where(bWins, 0, dy as Tensor), a.shape) : null,
    needs[1] ? sumToShape(where(bWins, dy as Tensor, 0), b.shape) : null,
  ];
});
