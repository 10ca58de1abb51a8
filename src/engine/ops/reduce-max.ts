import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { equal } from './equal.js';
import { expandReduced, reduce, reducedAxes } from './reduce-sum.js';
import { where } from './where.js';

/** Max over `axes` (all axes when empty). */
export function reduceMax(x: Tensor, axes: readonly number[] = [], keepDims = false): Tensor {
  return reduce('reduceMax', 'ReduceMax', x, axes, keepDims);
}

// The gradient goes to every position equal to the max (ties share it, as in TF's reduce_max).
registerGradient('ReduceMax', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  const axes = reducedAxes(node.inputs);
  const keep = node.attrs.keepdims !== 0;
  const y = expandReduced(node.outputs[0], x, axes, keep);
  return [where(equal(x, y), expandReduced(dy as Tensor, x, axes, keep), 0), null];
});
