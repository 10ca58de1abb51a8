import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { neg } from './neg.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';

/** a - b with numpy broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('sub', 'Sub', a, b);
}

registerGradient('Sub', ({ node, outputGrads: [dy], needs }) => [
  needs[0] ? sumToShape(dy as Tensor, (node.inputs[0] as Tensor).shape) : null,
  needs[1] ? neg(sumToShape(dy as Tensor, (node.inputs[1] as Tensor).shape)) : null,
]);
