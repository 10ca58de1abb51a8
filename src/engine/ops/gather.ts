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
 * ScatterElements(reduction = add), each id repeated across its row. ScatterND(reduction = add)
 * was faster (docs/engine.md), but ONNX Runtime's CPU kernel splits the updates over the
 * intra-op threads without guarding rows that two threads add to at once: with 2 threads and
 * repeated ids it loses updates (errors of the size of a whole update) and makes training
 * non-deterministic (docs/engine.md has the measurement; gather.test.ts checks this path on 2
 * threads). ScatterElements adds serially.
 */
registerGradient('Gather', ({ node, outputGrads: [dy] }) => {
  const [table, indices] = node.inputs as Tensor[];
  if (node.attrs.axis !== 0) throw new Error('Gather gradient: only axis 0 (embedding lookup) is differentiable');
  const rowShape = table.shape.slice(1);
  const ids =
    indices.dtype === 'int64' ? indices : emit1(indices.graph, 'Cast', [indices], { to: ONNX_DATA_TYPE.int64 }, 'int64', indices.shape);
  const flatGrad = reshape(dy as Tensor, [-1, ...rowShape]);
  // ScatterElements takes one index per updated element: each id, repeated over its row.
  const rowIds = emit1(
    table.graph,
    'Expand',
    [reshape(ids, [-1, ...rowShape.map(() => 1)]), shapeOf(flatGrad)],
    {},
    'int64',
    flatGrad.shape,
  );
  const grad = emit1(
    table.graph,
    'ScatterElements',
    [zerosLike(table), rowIds, flatGrad],
    { axis: 0, reduction: 'add' },
    table.dtype,
    table.shape,
  );
  return [grad, null];
});

registerGradient('ConstantOfShape', () => [null]);
