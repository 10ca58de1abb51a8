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

// y = x/2 (1 + tanh u), u = c (x + k x³);
// dy/dx = (1 + t)/2 + (1 − t²) · x (c/2 + 3ck/2 · x²), written to need 15 elementwise nodes.
registerGradient('Gelu', ({ node, outputGrads: [dy] }) => {
  if (node.attrs.approximate !== 'tanh') throw new Error('Gelu gradient: only approximate="tanh" is implemented');
  const x = node.inputs[0] as Tensor;
  const x2 = mul(x, x);
  const t = tanh(mul(x, add(mul(x2, SQRT_2_OVER_PI * CUBIC), SQRT_2_OVER_PI)));
  const half = add(mul(t, 0.5), 0.5);
  const slopeOfU = mul(x, add(mul(x2, 1.5 * SQRT_2_OVER_PI * CUBIC), 0.5 * SQRT_2_OVER_PI));
  return [mul(dy as Tensor, add(half, mul(sub(1, mul(t, t)), slopeOfU)))];
});
