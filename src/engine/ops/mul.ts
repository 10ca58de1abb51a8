import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';

/** a * b (elementwise) with numpy broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('mul', 'Mul', a, b);
}

registerGradient('Mul', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  return [needs[0] ? sumToShape(mul(dy as Tensor, b), a.shape) : null, needs[1] ? sumToShape(mul(dy as Tensor, a), b.shape) : null];
});
