import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { cast } from './cast.js';
import { scatterAddElements } from './gather-elements.js';
import { expand } from './reduce-sum.js';
import { reshape } from './reshape.js';
import { shapeOf } from './shape-of.js';
import { axisOrFail, emit1, expectDType } from './util.js';
import { zerosLike } from './zeros-like.js';

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
  const flatGrad = reshape(dy as Tensor, [-1, ...rowShape]);
  // ScatterElements takes one index per updated element: each id, repeated over its row.
  const rowIds = expand(reshape(cast(indices, 'int64'), [-1, ...rowShape.map(() => 1)]), shapeOf(flatGrad), flatGrad.shape);
  return [scatterAddElements(zerosLike(table), rowIds, flatGrad, 0), null];
});
