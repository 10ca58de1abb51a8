import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastOrFail, emit1, fail } from './util.js';

/** Elementwise sum of any number of tensors (ONNX Sum); autodiff uses it to add up gradients. */
export function sum(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) fail('sum', 'needs at least one tensor');
  if (xs.length === 1) return xs[0];
  for (const x of xs) if (x.dtype !== xs[0].dtype) fail('sum', `dtypes differ: ${xs.map((t) => t.toString()).join(', ')}`);
  const shape = broadcastOrFail('sum', ...xs.map((x) => x.shape));
  return emit1(xs[0].graph, 'Sum', xs, {}, xs[0].dtype, shape);
}

registerGradient('Sum', ({ node, outputGrads: [dy], needs }) =>
  node.inputs.map((x, i) => (needs[i] ? sumToShape(dy as Tensor, (x as Tensor).shape) : null)),
);
