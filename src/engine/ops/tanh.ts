import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { unaryFloat } from './util.js';

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unaryFloat('tanh', 'Tanh', x);
}

registerGradient('Tanh', ({ node, outputGrads: [dy] }) => {
  const y = node.outputs[0];
  return [mul(dy as Tensor, sub(1, mul(y, y)))];
});
