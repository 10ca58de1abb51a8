import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { div } from './div.js';
import { unaryFloat } from './util.js';

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unaryFloat('log', 'Log', x);
}

registerGradient('Log', ({ node, outputGrads: [dy] }) => [div(dy as Tensor, node.inputs[0] as Tensor)]);
