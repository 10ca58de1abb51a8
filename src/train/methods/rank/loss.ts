/**
 * DDRO's pairwise objective (DPO's sigmoid loss on whole docid sequences) as graph builders.
 * Everything works on per-row sequence log-probabilities, log π(d|q) summed over the docid's
 * tokens under teacher forcing, and on pairs of rows (positive row, negative row, weight);
 * the host decides which rows pair up and how pairs are weighted, so one builder serves any
 * grouping of rows.
 */
import { type Tensor, add, div, exp, gather, log, minimum, mul, neg, reduceSum, sub } from '../../../engine/index.js';

/** Which rows form (positive, negative) pairs: int64 row indices [pairs] and float weights [pairs]. */
export interface RowPairs {
  positive: Tensor;
  negative: Tensor;
  /** Each pair's share of the loss; the host makes them sum to 1 (a mean over pairs). */
  weight: Tensor;
}

/**
 * DPO / DDRO loss: Σ_pairs w · −log σ(β·[(π⁺ − ref⁺) − (π⁻ − ref⁻)]), where π and ref are the
 * policy's and the frozen reference model's sequence log-probabilities per row ([rows]).
 * The reference carries no gradient (it is a graph input, not a function of the params).
 */
export function dpoLoss(policy: Tensor, reference: Tensor, pairs: RowPairs, beta: number): Tensor {
  const logRatio = sub(policy, reference);
  const margin = sub(gather(logRatio, pairs.positive), gather(logRatio, pairs.negative));
  return reduceSum(mul(negLogSigmoid(mul(margin, beta)), pairs.weight));
}

/**
 * −log σ(z) = −min(z, 0) + log(1 + e^−|z|), stable for any z, with |z| written as z − 2·min(z, 0)
 * so that both terms take the same side of the kink at z = 0 and the gradient there is the
 * true −½. (The engine's logSigmoid builds |z| with Abs, whose gradient sign(0) = 0 leaves
 * only Min's tie, giving 1 instead of ½ at exactly 0; DPO starts exactly there, with the
 * policy equal to the reference.)
 */
export function negLogSigmoid(z: Tensor): Tensor {
  const negativePart = minimum(z, 0);
  const magnitude = sub(z, mul(negativePart, 2));
  return sub(log(add(exp(neg(magnitude)), 1)), negativePart);
}

/**
 * The generation (SFT) loss on the positive rows: −Σ log π(d⁺|q) / tokens, i.e. the mean
 * token cross-entropy over the positives' docid tokens (EOS included), as SFT trains it.
 * `positiveRows` is int64 [queries]; `tokenCount` a float scalar.
 */
export function generationLoss(policy: Tensor, positiveRows: Tensor, tokenCount: Tensor): Tensor {
  return neg(div(reduceSum(gather(policy, positiveRows)), tokenCount));
}
