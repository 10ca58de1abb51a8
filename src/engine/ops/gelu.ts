import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { add } from './add.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { tanh } from './tanh.js';
import { unaryFloat } from './util.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

/** GELU with the tanh approximation (T5's gated-gelu, HF `gelu_new`): ONNX Gelu, opset 20. */
export function gelu(x: Tensor): Tensor {
  return unaryFloat('gelu', 'Gelu', x, { approximate: 'tanh' });
}

// y = x/2 (1 + tanh u), u = c (x + k x³); dy/dx = (1 + t)/2 + x/2 (1 - t²) c (1 + 3k x²).
registerGradient('Gelu', ({ node, outputGrads: [dy] }) => {
  if (node.attrs.approximate !== 'tanh') throw new Error('Gelu gradient: only approximate="tanh" is implemented');
  const x = node.inputs[0] as Tensor;
  const x2 = mul(x, x);
  const t = tanh(mul(mul(x, add(mul(x2, CUBIC), 1)), SQRT_2_OVER_PI));
  const halfX = mul(x, 0.5);
  const inner = mul(add(mul(x2, 3 * CUBIC), 1), SQRT_2_OVER_PI);
  const slope = add(mul(add(t, 1), 0.5), mul(mul(halfX, sub(1, mul(t, t))), inner));
  return [mul(dy as Tensor, slope)];
});
