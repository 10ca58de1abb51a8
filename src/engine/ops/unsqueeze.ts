import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import type { Dim } from '../shape.js';
import { axesOrFail, emit1, int64s } from './util.js';
import { squeeze } from './squeeze.js';

/** Inserts size-1 axes; `axes` index the output (rank + axes.length). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const outRank = x.rank + axes.length;
  const resolved = axesOrFail('unsqueeze', axes, outRank);
  const shape: Dim[] = [];
  let next = 0;
  for (let i = 0; i < outRank; i++) shape.push(resolved.includes(i) ? 1 : x.shape[next++]);
  return emit1(x.graph, 'Unsqueeze', [x, int64s(x.graph, resolved)], {}, x.dtype, shape);
}

registerGradient('Unsqueeze', ({ node, outputGrads: [dy] }) => {
  const axesTensor = node.inputs[1] as Tensor;
  const axes = Array.from(axesTensor.source.kind === 'constant' ? (axesTensor.source.data as BigInt64Array) : [], Number);
  return [squeeze(dy as Tensor, axes), null];
});
