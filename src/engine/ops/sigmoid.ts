import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { unaryFloat } from './util.js';

/** 1 / (1 + e^-x). */
export function sigmoid(x: Tensor): Tensor {
  return unaryFloat('sigmoid', 'Sigmoid', x);
}

registerGradient('Sigmoid', ({ node, outputGrads: [dy] }) => {
  const y = node.outputs[0];
  return [mul(dy as Tensor, mul(y, sub(1, y)))];
});
