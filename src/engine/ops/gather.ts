import { ONNX_DATA_TYPE, allocate } from '../dtype.js';
import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { reshape } from './reshape.js';
import { shapeOf } from './shape-of.js';
import { axisOrFail, emit1, expectDType } from './util.js';

/**
 * Rows of `table` picked by integer `indices` along `axis` (embedding lookup with axis 0):
 * output shape = table.shape[:axis] + indices.shape + table.shape[axis+1:].
 */
export function gather(table: Tensor, indices: Tensor, axis = 0): Tensor {
  expectDType('gather', indices, ['int64', 'int32']);
  const a = axisOrFail('gather', axis, table.rank);
  const shape = [...table.shape.slice(0, a), ...indices.shape, ...table.shape.slice(a + 1)];
  return emit1(table.graph, 'Gather', [table, indices], { axis: a }, table.dtype, shape);
}

/** A run-time zero tensor shaped like x (ConstantOfShape, so no V×D constant is stored). */
export function zerosLike(x: Tensor): Tensor {
  const value = { tensor: { dtype: x.dtype, dims: [1], data: allocate(x.dtype, 1) } };
  return emit1(x.graph, 'ConstantOfShape', [shapeOf(x)], { value }, x.dtype, x.shape);
}

/**
 * Embedding gradient: the rows of dY are added into a zero table at their indices with
 * ScatterND(reduction = add), which handles repeated ids (see docs/engine.md for the timing
 * against ScatterElements).
 */
registerGradient('Gather', ({ node, outputGrads: [dy] }) => {
  const [table, indices] = node.inputs as Tensor[];
  if (node.attrs.axis !== 0) throw new Error('Gather gradient: only axis 0 (embedding lookup) is differentiable');
  const rowShape = table.shape.slice(1);
  const flatIndices = reshape(
    indices.dtype === 'int64' ? indices : emit1(indices.graph, 'Cast', [indices], { to: ONNX_DATA_TYPE.int64 }, 'int64', indices.shape),
    [-1, 1],
  );
  const flatGrad = reshape(dy as Tensor, [-1, ...rowShape]);
  const grad = emit1(table.graph, 'ScatterND', [zerosLike(table), flatIndices, flatGrad], { reduction: 'add' }, table.dtype, table.shape);
  return [grad, null];
});

registerGradient('ConstantOfShape', () => [null]);
