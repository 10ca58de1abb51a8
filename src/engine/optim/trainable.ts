import type { AdamW } from './adamw.js';
import type { Gradients, Parameter } from './types.js';

export interface LossAndGradients {
  /** Mean loss of the micro-batch (e.g. per target token). */
  loss: number;
  gradients: Gradients;
}

/** What the loop trains: parameters updated in place, and a function giving loss and gradients. */
export interface TrainableModel<Batch> {
  readonly parameters: readonly Parameter[];
  /** `dropoutSeed` is a uint32 that fixes every dropout mask of this micro-batch. */
  lossAndGradients(batch: Batch, dropoutSeed: number): Promise<LossAndGradients>;
  /**
   * Optional: a whole update (gradients, global-norm clipping, AdamW) computed inside the
   * model's graph, with the moments of `optimizer`; must count the update on the optimizer
   * (commitExternalUpdate) unless the gradient norm is not finite.
   */
  adamWStep?(
    batch: Batch,
    dropoutSeed: number,
    optimizer: AdamW,
    lr: number,
    clipNorm: number,
  ): Promise<{ loss: number; gradNorm: number }>;
}
