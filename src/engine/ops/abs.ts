import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { emit1 } from './util.js';

/** |x|. */
export function abs(x: Tensor): Tensor {
  return emit1(x.graph, 'Abs', [x], {}, x.dtype, x.shape);
}

/** -1, 0 or 1 by the sign of x (no gradient). */
export function sign(x: Tensor): Tensor {
  return emit1(x.graph, 'Sign', [x], {}, x.dtype, x.shape);
}

registerGradient('Abs', ({ node, outputGrads: [dy] }) => [mul(dy as Tensor, sign(node.inputs[0] as Tensor))]);
registerGradient('Sign', () => [null]);
