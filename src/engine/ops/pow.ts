import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { log } from './log.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';

/** a ** b elementwise with numpy broadcasting. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('pow', 'Pow', a, b);
}

registerGradient('Pow', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  const y = node.outputs[0];
  return [
    needs[0] ? sumToShape(mul(mul(dy as Tensor, b), pow(a, sub(b, 1))), a.shape) : null,
    needs[1] ? sumToShape(mul(mul(dy as Tensor, y), log(a)), b.shape) : null,
  ];
});
