import type { Gradients } from './types.js';

/** The L2 norm of all gradients taken together, accumulated in float64. */
export function globalGradNorm(grads: Gradients): number {
  let sumSquares = 0;
  for (const grad of grads.values()) sumSquares += sumOfSquares(grad);
  return Math.sqrt(sumSquares);
}

/** A separate function per array so V8 optimises the hot loop on its own (3-4x faster than inlined in the Map loop). */
function sumOfSquares(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    sum += x * x;
  }
  return sum;
}

/**
 * The factor clipGradNorm would scale by: min(1, maxNorm / (norm + 1e-6)); for callers
 * that fold the scaling into the optimizer update instead of writing the gradients.
 */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipFactor: maxNorm must be > 0, got ${maxNorm}`);
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Scales all gradients in place so that their global L2 norm is at most `maxNorm`
 * (the rule of torch.nn.utils.clip_grad_norm_: factor maxNorm / (norm + 1e-6), applied
 * only when below 1). Returns the norm before clipping, for logging; a non-finite norm
 * is returned as is and nothing is scaled, so the caller can skip the update.
 */
export function clipGradNorm(grads: Gradients, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalGradNorm(grads);
  if (!Number.isFinite(norm)) return norm;
  const factor = clipFactor(norm, maxNorm);
  if (factor < 1) {
    for (const grad of grads.values()) scaleInPlace(grad, factor);
  }
  return norm;
}

function scaleInPlace(values: Float32Array, factor: number): void {
  for (let i = 0; i < values.length; i++) values[i] *= factor;
}
