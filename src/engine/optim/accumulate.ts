import type { Gradients, Parameter } from './types.js';

/**
 * Sums the gradients of several micro-batches so that one optimizer update sees the
 * gradient of the whole batch. Each micro-batch gradient is weighted (by default 1;
 * pass its token count when micro-batches hold different numbers of target tokens
 * and each gradient is a per-token mean), and `mean()` divides by the total weight.
 */
export class GradientAccumulator {
  private readonly sums = new Map<string, Float32Array>();
  private totalWeight = 0;
  private micro = 0;

  constructor(params: readonly Parameter[]) {
    for (const param of params) this.sums.set(param.name, new Float32Array(param.data.length));
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.micro;
  }

  add(grads: Gradients, weight = 1): void {
    if (!(weight > 0)) throw new RangeError(`GradientAccumulator.add: weight must be > 0, got ${weight}`);
    for (const [name, sum] of this.sums) {
      const grad = grads.get(name);
      if (grad === undefined) throw new Error(`GradientAccumulator.add: no gradient for parameter '${name}'`);
      if (grad.length !== sum.length) {
        throw new Error(`GradientAccumulator.add: gradient of '${name}' has ${grad.length} values, expected ${sum.length}`);
      }
      if (weight === 1) {
        for (let i = 0; i < sum.length; i++) sum[i] += grad[i];
      } else {
        for (let i = 0; i < sum.length; i++) sum[i] += weight * grad[i];
      }
    }
    this.totalWeight += weight;
    this.micro += 1;
  }

  /** The weighted mean of the added gradients, in buffers owned by the accumulator (valid until `reset`). */
  mean(): Gradients {
    if (this.micro === 0) throw new Error('GradientAccumulator.mean: no gradients were added');
    const scale = 1 / this.totalWeight;
    if (scale !== 1) {
      for (const sum of this.sums.values()) {
        for (let i = 0; i < sum.length; i++) sum[i] *= scale;
      }
      this.totalWeight = 1;
    }
    return this.sums;
  }

  reset(): void {
    for (const sum of this.sums.values()) sum.fill(0);
    this.totalWeight = 0;
    this.micro = 0;
  }
}
