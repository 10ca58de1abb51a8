import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { isUnknown, type Shape } from '../shape.js';
import { axesOrFail, emit1, int64s } from './util.js';
import { expand } from './expand.js';
import { shapeOf } from './shape-of.js';
import { squeeze } from './squeeze.js';
import { unsqueeze } from './unsqueeze.js';

/** Sum over `axes` (all axes when empty). */
export function reduceSum(x: Tensor, axes: readonly number[] = [], keepDims = false): Tensor {
  return reduce('reduceSum', 'ReduceSum', x, axes, keepDims);
}

/** Shared by the ReduceSum/Mean/Max builders: axes as an input (opset 18 form), output shape. */
export function reduce(op: string, opType: string, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const resolved = axes.length === 0 ? x.shape.map((_, i) => i) : axesOrFail(op, axes, x.rank);
  const shape = x.shape.flatMap((d, i) => (resolved.includes(i) ? (keepDims ? [1] : []) : [d]));
  return emit1(x.graph, opType, [x, int64s(x.graph, resolved)], { keepdims: keepDims ? 1 : 0 }, x.dtype, shape);
}

/** The axes a Reduce node reduced, read back from its constant axes input. */
export function reducedAxes(inputs: readonly (Tensor | null)[]): number[] {
  const axesTensor = inputs[1];
  const x = inputs[0] as Tensor;
  if (!axesTensor) return x.shape.map((_, i) => i);
  if (axesTensor.source.kind !== 'constant') throw new Error('reduce gradient: axes must be a constant');
  return Array.from(axesTensor.source.data as BigInt64Array, (v) => Number(v));
}

/** dy of a reduction, broadcast back to the shape of its input x. */
export function expandReduced(dy: Tensor, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  const kept = keepDims ? dy : unsqueeze(dy, axes);
  return expand(kept, shapeOf(x), x.shape);
}

registerGradient('ReduceSum', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  return [expandReduced(dy as Tensor, x, reducedAxes(node.inputs), node.attrs.keepdims !== 0), null];
});

/**
 * Sums a broadcast gradient back to `shape`: leading axes that broadcasting added are summed
 * away, axes where `shape` has 1 are summed with keepdims. Decided statically from the shapes.
 */
export function sumToShape(dy: Tensor, shape: Shape): Tensor {
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && dy.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] === 1 && isUnknown(dy.shape[i])) axes.push(i);
  }
  if (axes.length === 0) return dy;
  const summed = reduceSum(dy, axes, true);
  return lead > 0 ? squeeze(summed, Array.from({ length: lead }, (_, i) => i)) : summed;
}
