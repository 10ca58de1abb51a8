import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { isUnknown } from '../shape.js';
import { axesOrFail, emit1, fail, int64s } from './util.js';
import { unsqueeze } from './unsqueeze.js';

/** Removes the given size-1 axes. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const resolved = axesOrFail('squeeze', axes, x.rank);
  for (const a of resolved) {
    if (x.shape[a] !== 1 && !isUnknown(x.shape[a])) fail('squeeze', `axis ${a} of ${x.toString()} has size ${x.shape[a]}, not 1`);
  }
  const shape = x.shape.filter((_, i) => !resolved.includes(i));
  return emit1(x.graph, 'Squeeze', [x, int64s(x.graph, resolved)], {}, x.dtype, shape);
}

registerGradient('Squeeze', ({ node, outputGrads: [dy] }) => {
  const axesTensor = node.inputs[1] as Tensor;
  const axes = Array.from(axesTensor.source.kind === 'constant' ? (axesTensor.source.data as BigInt64Array) : [], Number);
  return [unsqueeze(dy as Tensor, axes), null];
});
