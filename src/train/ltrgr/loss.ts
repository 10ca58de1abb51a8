/**
 * LTRGR's rank losses on sequence scores S(d|q) = log π(d|q) (summed docid token
 * log-probabilities), as graph builders: the pairwise margin (hinge) loss and the list-wise
 * softmax cross-entropy (ListNet with a one-hot target).
 */
import { type Tensor, add, gather, logSoftmax, mul, neg, reduceSum, relu, reshape, shapeOf, slice, sub } from '../../engine/index.js';
import type { RowPairs } from '../ddro/loss.js';

/**
 * Σ_pairs w · max(0, S⁻ − S⁺ + margin): zero once the positive is ahead of the negative by
 * `margin` nats. LTRGR weighs its top pair and its random pair ½ each.
 */
export function marginRankLoss(scores: Tensor, pairs: RowPairs, margin: number): Tensor {
  const violation = add(sub(gather(scores, pairs.negative), gather(scores, pairs.positive)), margin);
  return reduceSum(mul(relu(violation), pairs.weight));
}

/**
 * List-wise loss over groups of consecutive rows, the first row of each group its positive:
 * −Σ_q w_q · log softmax(S_q / τ + bias_q)[0]. `bias` [queries, group] fixes the grouping
 * (scores [queries·group] are read row-major into its shape); an entry is 0, or a large
 * negative number to leave out a padded row. `queryWeight` [queries] sums to 1 for a mean.
 * With τ = 1 the softmax is p(d|q) renormalised over the listed documents, so the loss is
 * the negative log-probability that the model, restricted to the list, picks the positive.
 */
export function listwiseLoss(scores: Tensor, bias: Tensor, queryWeight: Tensor, temperature = 1): Tensor {
  const grouped = add(mul(reshape(scores, shapeOf(bias), bias.shape), 1 / temperature), bias);
  const positive = reshape(slice(logSoftmax(grouped, -1), 1, 0, 1), [-1]);
  return neg(reduceSum(mul(positive, queryWeight)));
}
