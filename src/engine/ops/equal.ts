import { Tensor, type TensorLike } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { broadcastBinary } from './util.js';

/** Elementwise a == b as a bool tensor, with broadcasting. */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('equal', 'Equal', a, b, 'bool');
}

registerNonDifferentiable('Equal');
