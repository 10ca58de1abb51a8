import { allocate } from '../dtype.js';
import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { shapeOf } from './shape-of.js';
import { emit1 } from './util.js';

/** A run-time zero tensor shaped like x (ConstantOfShape, so no V×D constant is stored). */
export function zerosLike(x: Tensor): Tensor {
  const value = { tensor: { dtype: x.dtype, dims: [1], data: allocate(x.dtype, 1) } };
  return emit1(x.graph, 'ConstantOfShape', [shapeOf(x)], { value }, x.dtype, x.shape);
}

// Its only input is an int64 shape, so no gradient ever reaches it.
registerNonDifferentiable('ConstantOfShape');
