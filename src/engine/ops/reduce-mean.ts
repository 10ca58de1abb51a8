import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { numel } from '../shape.js';
import { cast } from './cast.js';
import { div } from './div.js';
import { expandReduced, reduce, reducedAxes } from './reduce-sum.js';

/** Mean over `axes` (all axes when empty). */
export function reduceMean(x: Tensor, axes: readonly number[] = [], keepDims = false): Tensor {
  return reduce('reduceMean', 'ReduceMean', x, axes, keepDims);
}

registerGradient('ReduceMean', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  const axes = reducedAxes(node.inputs);
  const count = numel(axes.map((a) => x.shape[a]));
  // A named count (mean over `seq`) is read at run time.
  const divisor = typeof count === 'number' ? count : cast(x.graph.dimTensor(count), x.dtype);
  return [div(expandReduced(dy as Tensor, x, axes, node.attrs.keepdims !== 0), divisor), null];
});
