// ReduceSum and Expand are each other's gradient, so they share a file (no import cycle).
import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { isUnknown, unknownDim, type Dim, type Shape } from '../shape.js';
import { axesOrFail, broadcastOrFail, emit1, fail, int64s } from './util.js';
import { concat } from './concat.js';
import { shapeOf } from './shape-of.js';
import { squeeze, unsqueeze } from './squeeze.js';

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
  return lead > 0
    ? squeeze(
        summed,
        Array.from({ length: lead }, (_, i) => i),
      )
    : summed;
}

/**
 * Broadcasts `x` to `dims` (numbers and dim names), or to a run-time int64 shape tensor with
 * `staticShape` telling the builder what that shape is.
 */
export function expand(x: Tensor, dims: readonly Dim[] | Tensor, staticShape?: Shape): Tensor {
  const g = x.graph;
  let shapeTensor: Tensor;
  let target: Shape;
  if (dims instanceof Tensor) {
    if (dims.dtype !== 'int64' || dims.rank !== 1) fail('expand', `shape must be an int64 vector, got ${dims.toString()}`);
    shapeTensor = dims;
    const length = dims.shape[0];
    if (staticShape) target = staticShape;
    else if (typeof length === 'number') target = Array.from({ length }, () => unknownDim());
    else fail('expand', 'the rank of a run-time shape must be known');
  } else {
    target = dims;
    shapeTensor = dims.every((d) => typeof d === 'number')
      ? g.constant(dims as number[], [dims.length], 'int64')
      : concat(
          dims.map((d) => g.dimTensor(d)),
          0,
        );
  }
  const shape = broadcastOrFail('expand', x.shape, target);
  return g.emit('Expand', [x, shapeTensor], {}, [{ dtype: x.dtype, shape }])[0];
}

registerGradient('Expand', ({ node, outputGrads: [dy] }) => [sumToShape(dy as Tensor, (node.inputs[0] as Tensor).shape), null]);
