import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimDiv, dimEq, formatShape, isUnknown, numel, unknownDim, type Dim, type Shape } from '../shape.js';
import { concat } from './concat.js';
import { shapeOf } from './shape-of.js';
import { emit1, fail } from './util.js';

/**
 * Reshapes to `dims`: numbers (0 = keep this axis' size, -1 = infer one axis) and dim names,
 * which are read at run time from the tensor that carried them. A run-time int64 shape tensor
 * is accepted too, with `staticShape` saying what it holds.
 */
export function reshape(x: Tensor, dims: readonly Dim[] | Tensor, staticShape?: Shape): Tensor {
  const g = x.graph;
  if (dims instanceof Tensor) {
    if (dims.dtype !== 'int64' || dims.rank !== 1 || typeof dims.shape[0] !== 'number')
      fail('reshape', `shape must be an int64 vector of known length, got ${dims.toString()}`);
    const shape = staticShape ?? Array.from({ length: dims.shape[0] as number }, () => unknownDim());
    return emit1(g, 'Reshape', [x, dims], {}, x.dtype, shape);
  }
  const out: Dim[] = dims.map((d, i) => {
    if (d === 0) {
      if (i >= x.rank) fail('reshape', `0 at axis ${i} copies an axis ${x.toString()} does not have`);
      return x.shape[i];
    }
    if (typeof d === 'number' && d < -1) fail('reshape', `invalid dim ${d}`);
    return d;
  });
  const inferAt = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== inferAt) fail('reshape', `more than one -1 in [${dims.join(', ')}]`);
  const total = numel(x.shape);
  if (inferAt >= 0) {
    const known = numel(out.filter((_, i) => i !== inferAt));
    const inferred = known === 0 ? undefined : dimDiv(total, known);
    if (inferred === undefined && typeof total === 'number' && typeof known === 'number') {
      fail('reshape', `cannot reshape ${x.toString()} (${total} elements) to [${dims.join(', ')}]`);
    }
    out[inferAt] = inferred ?? unknownDim();
  } else {
    const target = numel(out);
    const comparable =
      !String(total).includes('?') && !String(target).includes('?') && !String(total).includes('+') && !String(target).includes('+');
    if (comparable && (typeof total === 'number') === (typeof target === 'number') && !dimEq(total, target)) {
      fail('reshape', `cannot reshape ${x.toString()} (${total} elements) to ${formatShape(out)} (${target} elements)`);
    }
  }
  // Named dims cannot go into a constant shape; keep 0/-1 where they express the same thing.
  const symbolic = dims.some((d) => typeof d === 'string');
  const shapeTensor = symbolic
    ? concat(
        dims.map((d) => (typeof d === 'number' ? g.constant([d], [1], 'int64') : g.dimTensor(d))),
        0,
      )
    : g.constant(dims as number[], [dims.length], 'int64');
  if (out.some((d) => isUnknown(d)) && inferAt < 0 && !symbolic) fail('reshape', 'internal: unknown dim without -1');
  return emit1(g, 'Reshape', [x, shapeTensor], {}, x.dtype, out);
}

registerGradient('Reshape', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  return [reshape(dy as Tensor, shapeOf(x), x.shape), null];
});
