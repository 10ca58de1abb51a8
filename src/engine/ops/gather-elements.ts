import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { dimEq, isUnknown } from '../shape.js';
import { zerosLike } from './zeros-like.js';
import { axisOrFail, emit1, expectDType, fail } from './util.js';

/** out[i][j] = x[index[i][j]][j] along `axis` (ONNX GatherElements); output has the indices' shape. */
export function gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
  expectDType('gatherElements', indices, ['int64', 'int32']);
  if (indices.rank !== x.rank) fail('gatherElements', `indices ${indices.toString()} must have the rank of ${x.toString()}`);
  const a = axisOrFail('gatherElements', axis, x.rank);
  indices.shape.forEach((d, i) => {
    if (i !== a && !isUnknown(d) && !isUnknown(x.shape[i]) && !dimEq(d, x.shape[i]) && d !== 1) {
      fail('gatherElements', `axis ${i} of indices ${indices.toString()} does not match ${x.toString()}`);
    }
  });
  return emit1(x.graph, 'GatherElements', [x, indices], { axis: a }, x.dtype, indices.shape);
}

/** data with `updates` added at `indices` along `axis` (ONNX ScatterElements, reduction add). */
export function scatterAddElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  const a = axisOrFail('scatterAddElements', axis, data.rank);
  return emit1(data.graph, 'ScatterElements', [data, indices, updates], { axis: a, reduction: 'add' }, data.dtype, data.shape);
}

registerGradient('GatherElements', ({ node, outputGrads: [dy] }) => {
  const [x, indices] = node.inputs as Tensor[];
  return [scatterAddElements(zerosLike(x), indices, dy as Tensor, node.attrs.axis as number), null];
});
