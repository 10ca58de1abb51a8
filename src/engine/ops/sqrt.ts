import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { div } from './div.js';
import { mul } from './mul.js';
import { reciprocal } from './reciprocal.js';
import { unaryFloat } from './util.js';

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unaryFloat('sqrt', 'Sqrt', x);
}

/** 1 / sqrt(x), as Reciprocal(Sqrt(x)): two fast kernels instead of a general Pow. */
export function rsqrt(x: Tensor): Tensor {
  return reciprocal(sqrt(x));
}

registerGradient('Sqrt', ({ node, outputGrads: [dy] }) => [mul(div(dy as Tensor, node.outputs[0]), 0.5)]);
