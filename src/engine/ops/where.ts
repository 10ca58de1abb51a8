import { Tensor, graphOf, type TensorLike } from '../graph.js';
import { registerGradient } from '../registry.js';
import { sumToShape } from './reduce-sum.js';
import { broadcastOrFail, emit1, expectDType, fail } from './util.js';

/** cond ? a : b elementwise, broadcasting all three (masking: `where(mask, scores, -1e9)`). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  expectDType('where', cond, ['bool']);
  const g = graphOf('where', cond, a, b);
  const dtype = a instanceof Tensor ? a.dtype : b instanceof Tensor ? b.dtype : fail('where', 'a or b must be a Tensor');
  const ta = g.lift(a, dtype);
  const tb = g.lift(b, dtype);
  if (ta.dtype !== tb.dtype) fail('where', `dtypes differ: ${ta.toString()} and ${tb.toString()}`);
  const shape = broadcastOrFail('where', cond.shape, ta.shape, tb.shape);
  return emit1(g, 'Where', [cond, ta, tb], {}, dtype, shape);
}

registerGradient('Where', ({ node, outputGrads: [dy], needs }) => {
  const [cond, a, b] = node.inputs as Tensor[];
  return [
    null,
    needs[1] ? sumToShape(where(cond, dy as Tensor, 0), a.shape) : null,
    needs[2] ? sumToShape(where(cond, 0, dy as Tensor), b.shape) : null,
  ];
});
