import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { exp } from './exp.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { sub } from './sub.js';
import { axisOrFail, unaryFloat } from './util.js';

/** log(softmax(x)) along `axis`, computed stably by one kernel. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return unaryFloat('logSoftmax', 'LogSoftmax', x, { axis: axisOrFail('logSoftmax', axis, x.rank) });
}

// dx = dy − softmax ⊙ Σ dy over the axis, softmax = exp(y).
registerGradient('LogSoftmax', ({ node, outputGrads: [dy] }) => {
  const y = node.outputs[0];
  const axis = node.attrs.axis as number;
  const g = dy as Tensor;
  return [sub(g, mul(exp(y), reduceSum(g, [axis], true)))];
});
