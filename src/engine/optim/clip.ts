import type { Gradients } from './types.js';

/** The L2 norm of all gradients taken together, accumulated in float64. */
export function globalGradNorm(grads: Gradients): number {
  let sumSquares = 0;
  for (const grad of grads.values()) {
    for (let i = 0; i < grad.length; i++) sumSquares += grad[i] * grad[i];
  }
  return Math.sqrt(sumSquares);
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
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) {
    for (const grad of grads.values()) {
      for (let i = 0; i < grad.length; i++) grad[i] *= factor;
    }
  }
  return norm;
}
