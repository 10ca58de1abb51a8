import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { abs } from './abs.js';
import { add } from './add.js';
import { exp } from './exp.js';
import { log } from './log.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { sigmoid } from './sigmoid.js';
import { sub } from './sub.js';
import { unaryFloat } from './util.js';

/** log(1 + e^x) as the ONNX Softplus kernel (ORT has it for float32 only). */
export function softplus(x: Tensor): Tensor {
  return unaryFloat('softplus', 'Softplus', x);
}

/**
 * log(sigmoid(x)) = (x - |x|)/2 - log(1 + e^-|x|): stable for large |x| and built from ops
 * that run in float64 too (the DPO loss is -logSigmoid of a margin). min(x, 0) is written as
 * (x - |x|)/2 so the gradient at exactly 0 is the true 1/2: Min would hand all of it to one
 * operand, and DPO starts there (policy equals reference).
 */
export function logSigmoid(x: Tensor): Tensor {
  return sub(mul(sub(x, abs(x)), 0.5), log(add(exp(neg(abs(x))), 1)));
}

registerGradient('Softplus', ({ node, outputGrads: [dy] }) => [mul(dy as Tensor, sigmoid(node.inputs[0] as Tensor))]);
