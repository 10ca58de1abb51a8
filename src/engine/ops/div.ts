import { Tensor, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastBinary } from './util.js';

/** a / b with numpy broadcasting (integer division truncates, as in ONNX). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return broadcastBinary('div', 'Div', a, b);
}

// d(a/b)/db = -a/b² = -y/b, so the output is reused instead of squaring b.
registerGradient('Div', ({ node, outputGrads: [dy], needs }) => {
  const [a, b] = node.inputs as Tensor[];
  const dA = needs[0] || needs[1] ? div(dy as Tensor, b) : null;
  return [
    needs[0] ? sumToShape(dA as Tensor, a.shape) : null,
    needs[1] ? neg(sumToShape(mul(dA as Tensor, node.outputs[0]), b.shape)) : null,
  ];
});
