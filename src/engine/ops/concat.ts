import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimEq, dimSum, isUnknown, type Dim } from '../shape.js';
import { axisOrFail, emit1, fail } from './util.js';

/** Joins tensors along `axis`; all other dims must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail('concat', 'needs at least one tensor');
  if (xs.length === 1) return xs[0];
  const first = xs[0];
  const a = axisOrFail('concat', axis, first.rank);
  let size: Dim = 0;
  for (const x of xs) {
    if (x.rank !== first.rank || x.dtype !== first.dtype) fail('concat', `${x.toString()} does not match ${first.toString()}`);
    x.shape.forEach((d, i) => {
      if (i !== a && !isUnknown(d) && !isUnknown(first.shape[i]) && !dimEq(d, first.shape[i])) {
        fail('concat', `axis ${i} differs: ${x.toString()} vs ${first.toString()}`);
      }
    });
    size = dimSum(size, x.shape[a]);
  }
  const shape = first.shape.map((d, i) => (i === a ? size : d));
  return emit1(first.graph, 'Concat', xs, { axis: a }, first.dtype, shape);
}

// Split the gradient back with the inputs' run-time sizes along the axis.
registerGradient('Concat', ({ node, outputGrads: [dy], needs }) => {
  const axis = node.attrs.axis as number;
  const inputs = node.inputs as Tensor[];
  const g = (dy as Tensor).graph;
  const sizes = concat(
    inputs.map((x) => (typeof x.shape[axis] === 'number' ? g.constant([x.shape[axis] as number], [1], 'int64') : g.shapeSlice(x, axis))),
    0,
  );
  const parts = g.emit(
    'Split',
    [dy as Tensor, sizes],
    { axis },
    inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })),
  );
  return parts.map((p, i) => (needs[i] ? p : null));
});
