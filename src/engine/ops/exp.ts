import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { unaryFloat } from './util.js';

/** e^x. */
export function exp(x: Tensor): Tensor {
  return unaryFloat('exp', 'Exp', x);
}

registerGradient('Exp', ({ node, outputGrads: [dy] }) => [mul(dy as Tensor, node.outputs[0])]);
