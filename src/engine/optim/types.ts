/** A trainable tensor: its name (HF-style, e.g. `encoder.block.0.layer.0.SelfAttention.q.weight`), shape and values. */
export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Gradients by parameter name; each array has the size of its parameter. */
export type Gradients = ReadonlyMap<string, Float32Array>;

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}
