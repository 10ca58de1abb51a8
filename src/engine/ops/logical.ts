import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { broadcastBinary, emit1, expectDType } from './util.js';

/** Elementwise logical not of a bool tensor. */
export function not(x: Tensor): Tensor {
  expectDType('not', x, ['bool']);
  return emit1(x.graph, 'Not', [x], {}, 'bool', x.shape);
}

/** Elementwise logical and of bool tensors, with broadcasting. */
export function and(a: Tensor, b: Tensor): Tensor {
  expectDType('and', a, ['bool']);
  expectDType('and', b, ['bool']);
  return broadcastBinary('and', 'And', a, b, 'bool');
}

/** Elementwise logical or of bool tensors, with broadcasting. */
export function or(a: Tensor, b: Tensor): Tensor {
  expectDType('or', a, ['bool']);
  expectDType('or', b, ['bool']);
  return broadcastBinary('or', 'Or', a, b, 'bool');
}

registerNonDifferentiable('Not');
registerNonDifferentiable('And');
registerNonDifferentiable('Or');
