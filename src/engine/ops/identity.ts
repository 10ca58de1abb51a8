import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { emit1 } from './util.js';

/** A copy of x under a new value name (graph outputs use it). */
export function identity(x: Tensor): Tensor {
  return emit1(x.graph, 'Identity', [x], {}, x.dtype, x.shape);
}

registerGradient('Identity', ({ outputGrads: [dy] }) => [dy]);
