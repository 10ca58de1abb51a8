/** Element types a graph tensor can have, named as onnxruntime-common names them. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint32' | 'uint8' | 'int8' | 'bool';

/** TensorProto.DataType numbers from onnx.proto. */
export const ONNX_DATA_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
  uint32: 12,
};

/** Host arrays that hold tensor data; the runtime hands them to ORT without copying. */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'uint32'
          ? Uint32Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

export type HostArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint32Array | Uint8Array | Int8Array;

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function isInteger(dtype: DType): boolean {
  return dtype === 'int64' || dtype === 'int32' || dtype === 'uint32' || dtype === 'uint8' || dtype === 'int8';
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'uint8':
    case 'int8':
    case 'bool':
      return 1;
  }
}

/** A zero-filled host array of `size` elements of `dtype`. */
export function allocate(dtype: DType, size: number): HostArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'uint32':
      return new Uint32Array(size);
    case 'int8':
      return new Int8Array(size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(size);
  }
}

/** Host array of `dtype` holding `values` (numbers; bigint conversion for int64). */
export function fromNumbers(dtype: DType, values: readonly number[]): HostArray {
  if (dtype === 'int64') return BigInt64Array.from(values, (v) => BigInt(v));
  const out = allocate(dtype, values.length);
  (out as Float64Array).set(values);
  return out;
}

/** The dtype a host array stores, for inputs given without one. */
export function dtypeOfArray(data: HostArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}
