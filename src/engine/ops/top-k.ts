import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { axisOrFail, expectFloat, fail, int64s } from './util.js';

/**
 * The k largest values along the last axis and their int64 indices, largest first (ONNX
 * TopK with sorted output). Ties keep the lower index first, as ONNX specifies. Used for
 * exact nearest-neighbour search, so it carries no gradient.
 */
export function topK(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  expectFloat('topK', x);
  if (x.rank < 1) fail('topK', `needs at least one axis, got ${x.toString()}`);
  if (!Number.isInteger(k) || k < 1) fail('topK', `k must be a positive integer, got ${k}`);
  const axis = axisOrFail('topK', -1, x.rank);
  const last = x.shape[axis];
  if (typeof last === 'number' && k > last) fail('topK', `k ${k} exceeds the last axis of ${x.toString()}`);
  const shape = [...x.shape.slice(0, axis), k];
  const [values, indices] = x.graph.emit('TopK', [x, int64s(x.graph, [k])], { axis: -1, largest: 1, sorted: 1 }, [
    { dtype: x.dtype, shape },
    { dtype: 'int64', shape },
  ]);
  return { values, indices };
}

registerNonDifferentiable('TopK');
