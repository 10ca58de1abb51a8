import { ONNX_DATA_TYPE, isFloat, type DType } from '../dtype.js';
import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { emit1 } from './util.js';

/** Converts the element type (bool → 0/1, float → int truncates toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return emit1(x.graph, 'Cast', [x], { to: ONNX_DATA_TYPE[dtype] }, dtype, x.shape);
}

// Float-to-float casts pass the gradient back in the input's precision; others carry none.
registerGradient('Cast', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  return [isFloat(x.dtype) && dy && isFloat(dy.dtype) ? cast(dy, x.dtype) : null];
});
