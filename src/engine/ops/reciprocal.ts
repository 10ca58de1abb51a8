import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { unaryFloat } from './util.js';

/** 1 / x. */
export function reciprocal(x: Tensor): Tensor {
  return unaryFloat('reciprocal', 'Reciprocal', x);
}

registerGradient('Reciprocal', ({ node, outputGrads: [dy] }) => {
  const y = node.outputs[0];
  return [neg(mul(dy as Tensor, mul(y, y)))];
});
