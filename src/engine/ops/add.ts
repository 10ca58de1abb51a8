import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';

/** a + b with numpy broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('add', 'Add', a, b);
}

registerGradient('Add', ({ node, outputGrads: [dy], needs }) => [
  needs[0] ? sumToShape(dy as Tensor, (node.inputs[0] as Tensor).shape) : null,
  needs[1] ? sumToShape(dy as Tensor, (node.inputs[1] as Tensor).shape) : null,
]);
