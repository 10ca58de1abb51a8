import { Tensor, type TensorLike } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { broadcastBinary } from './util.js';

/** Elementwise a > b as a bool tensor, with broadcasting. */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('greater', 'Greater', a, b, 'bool');
}

registerNonDifferentiable('Greater');
