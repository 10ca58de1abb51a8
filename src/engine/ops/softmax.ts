import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { sub } from './sub.js';
import { axisOrFail, unaryFloat } from './util.js';

/** Softmax along `axis` (ONNX 13+ semantics: one axis, not the flattened tail). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return unaryFloat('softmax', 'Softmax', x, { axis: axisOrFail('softmax', axis, x.rank) });
}

// dx = y ⊙ (dy − Σ dy ⊙ y) over the axis.
registerGradient('Softmax', ({ node, outputGrads: [dy] }) => {
  const y = node.outputs[0];
  const axis = node.attrs.axis as number;
  const g = dy as Tensor;
  return [mul(y, sub(g, reduceSum(mul(g, y), [axis], true)))];
});
