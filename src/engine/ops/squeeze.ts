// Squeeze and Unsqueeze are each other's gradient, so they share a file (no import cycle).
import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { isUnknown, type Dim } from '../shape.js';
import { axesOrFail, emit1, fail, int64s } from './util.js';

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
