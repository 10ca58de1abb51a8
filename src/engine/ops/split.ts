import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimEq, isUnknown } from '../shape.js';
import { concat } from './concat.js';
import { zerosLike } from './zeros-like.js';
import { axisOrFail, fail, int64s } from './util.js';

/**
 * x cut along `axis` into consecutive parts of the given sizes (which must add up to the axis'
 * size when it is known): one Split node, where a Slice per part would be one node each.
 */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = axisOrFail('split', axis, x.rank);
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 0))
    fail('split', `sizes must be non-negative integers, got [${sizes.join(', ')}]`);
  const total = sizes.reduce((n, size) => n + size, 0);
  if (!isUnknown(x.shape[a]) && !dimEq(x.shape[a], total))
    fail('split', `sizes [${sizes.join(', ')}] add up to ${total}, but axis ${a} of ${x.toString()} has ${String(x.shape[a])}`);
  if (sizes.length === 1) return [x];
  return x.graph.emit(
    'Split',
    [x, int64s(x.graph, sizes)],
    { axis: a },
    sizes.map((size) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? size : d)) })),
  );
}

// The parts' gradients joined back in order; a part that does not reach the loss adds zeros.
registerGradient('Split', ({ node, outputGrads }) => {
  const axis = node.attrs.axis as number;
  const parts = outputGrads.map((dy, i) => dy ?? zerosLike(node.outputs[i]));
  return [concat(parts, axis), null];
});
