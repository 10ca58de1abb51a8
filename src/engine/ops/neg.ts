import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { emit1 } from './util.js';

/** -x. */
export function neg(x: Tensor): Tensor {
  return emit1(x.graph, 'Neg', [x], {}, x.dtype, x.shape);
}

registerGradient('Neg', ({ outputGrads: [dy] }) => [neg(dy as Tensor)]);
