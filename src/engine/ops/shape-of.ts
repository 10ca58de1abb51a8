import type { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';

/** Shape(x): the run-time shape as an int64 vector. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.shapeTensor(x);
}

registerNonDifferentiable('Shape');
