import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { greater } from './greater.js';
import { unaryFloat } from './util.js';
import { where } from './where.js';

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  return unaryFloat('relu', 'Relu', x);
}

registerGradient('Relu', ({ node, outputGrads: [dy] }) => [where(greater(node.inputs[0] as Tensor, 0), dy as Tensor, 0)]);
