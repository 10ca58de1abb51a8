import { Tensor, type TensorLike } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { broadcastBinary } from './util.js';

/** Elementwise a < b as a bool tensor, with broadcasting. */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('less', 'Less', a, b, 'bool');
}

registerNonDifferentiable('Less');
