import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { dimEq, formatShape, isUnknown } from '../shape.js';
import { expectDType, fail } from './util.js';

/**
 * x [m, k] (float32) times an int8 weight [k, n] with one float32 scale per output column:
 * ONNX Runtime's com.microsoft DynamicQuantizeMatMul, which quantizes x to uint8 per call
 * (one scale and zero point over the whole tensor) and runs an integer GEMM (AVX-512 VNNI /
 * AMX on CPUs that have them). Inference only: it carries no gradient.
 */
export function dynamicQuantizeMatMul(x: Tensor, weight: Tensor, scale: Tensor): Tensor {
  expectDType('dynamicQuantizeMatMul', x, ['float32']);
  expectDType('dynamicQuantizeMatMul', weight, ['int8']);
  expectDType('dynamicQuantizeMatMul', scale, ['float32']);
  if (x.rank !== 2 || weight.rank !== 2 || scale.rank !== 1) {
    fail(
      'dynamicQuantizeMatMul',
      `needs x [m, k], weight [k, n] and scale [n], got ${formatShape(x.shape)}, ${formatShape(weight.shape)}, ${formatShape(scale.shape)}`,
    );
  }
  const [m, k] = x.shape;
  const [kWeight, n] = weight.shape;
  if (!isUnknown(k) && !isUnknown(kWeight) && !dimEq(k, kWeight)) {
    fail('dynamicQuantizeMatMul', `inner dims differ: ${formatShape(x.shape)} @ ${formatShape(weight.shape)}`);
  }
  if (!isUnknown(n) && !isUnknown(scale.shape[0]) && !dimEq(n, scale.shape[0])) {
    fail('dynamicQuantizeMatMul', `scale ${formatShape(scale.shape)} needs one value per output column of ${formatShape(weight.shape)}`);
  }
  return x.graph.emit('DynamicQuantizeMatMul', [x, weight, scale], {}, [{ dtype: 'float32', shape: [m, n] }], 'com.microsoft')[0];
}

registerNonDifferentiable('DynamicQuantizeMatMul', 'com.microsoft');

/**
 * Symmetric int8 quantization of an HF weight [rows, columns] ([out, in], row-major) for
 * `dynamicQuantizeMatMul`: the transposed int8 weight [columns, rows] and each output row's
 * scale (its largest magnitude / 127, so that value maps to ±127 and zero stays exactly zero).
 */
export function quantizeWeightInt8(weight: Float32Array, rows: number, columns: number): { weight: Int8Array; scale: Float32Array } {
  if (weight.length !== rows * columns) throw new RangeError(`quantizeWeightInt8: ${weight.length} values for [${rows}, ${columns}]`);
  const quantized = new Int8Array(rows * columns);
  const scale = new Float32Array(rows);
  for (let out = 0; out < rows; out++) {
    let largest = 0;
    const base = out * columns;
    for (let i = 0; i < columns; i++) largest = Math.max(largest, Math.abs(weight[base + i]));
    // An all-zero row keeps scale 1 so that dequantizing never divides by zero.
    const step = largest > 0 ? largest / 127 : 1;
    scale[out] = step;
    for (let i = 0; i < columns; i++) quantized[i * rows + out] = Math.round(weight[base + i] / step);
  }
  return { weight: quantized, scale };
}
