/**
 * LTRGR's rank losses on sequence scores S(d|q) = log π(d|q) (summed docid token
 * log-probabilities), as graph builders: the pairwise margin (hinge) loss and the list-wise
 * softmax cross-entropy (ListNet with a one-hot target).
 */
import {
  type Tensor,
  add,
  gather,
  gemm,
  logSoftmax,
  mul,
  neg,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  shapeOf,
  slice,
  sub,
} from '../../../engine/index.js';
import type { RowPairs } from './loss.js';

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

/**
 * RIPOR's prefix-oriented ranking loss: the margin loss on the scores of docid prefixes as
 * well as of whole docids, so a relevant document already leads after its first tokens and
 * beam search does not prune it. `tokenLogProbs` [rows, tgt] holds each target token's
 * log-probability (0 at padding); `prefixMask` [prefixes, tgt] is 1 on the first p_i
 * positions of prefix i (the last prefix is the whole docid); `margins` [prefixes] grow with
 * the prefix. Loss: Σ_pairs w · mean_i max(0, S⁻_i − S⁺_i + m_i), with S_i the summed
 * log-probability of the prefix. With one prefix covering the whole docid this is
 * marginRankLoss.
 */
export function prefixMarginRankLoss(tokenLogProbs: Tensor, prefixMask: Tensor, pairs: RowPairs, margins: Tensor): Tensor {
  const prefixScores = gemm(tokenLogProbs, prefixMask, { transB: true });
  const violation = add(sub(gather(prefixScores, pairs.negative), gather(prefixScores, pairs.positive)), margins);
  return reduceSum(mul(reduceMean(relu(violation), [1]), pairs.weight));
}

/**
 * RIPOR's relevance-based rank loss, MarginMSE (Hofstätter et al.): the student's margin
 * S⁺ − S⁻ between a positive and a negative regresses onto a teacher's margin for the same
 * pair, so documents the teacher finds nearly as relevant as the positive are pushed down
 * less than clear misses. `targets` [pairs] holds the teacher's margins in nats.
 * Loss: Σ_pairs w · (S⁺ − S⁻ − t)².
 */
export function marginMseLoss(scores: Tensor, pairs: RowPairs, targets: Tensor): Tensor {
  const error = sub(sub(gather(scores, pairs.positive), gather(scores, pairs.negative)), targets);
  return reduceSum(mul(mul(error, error), pairs.weight));
}

/**
 * MarginMSE on docid prefixes as well as whole docids (RIPOR's prefix-oriented form): on
 * prefix i the target is the teacher's margin times `prefixScale`[i] (the prefix's share of
 * the docid, 1 for the whole), as the hinge's margin grows with the prefix in
 * prefixMarginRankLoss. Loss: Σ_pairs w · mean_i (S⁺_i − S⁻_i − f_i·t)². With one prefix
 * covering the whole docid and f = 1 this is marginMseLoss.
 */
export function prefixMarginMseLoss(
  tokenLogProbs: Tensor,
  prefixMask: Tensor,
  pairs: RowPairs,
  targets: Tensor,
  prefixScale: Tensor,
): Tensor {
  const prefixScores = gemm(tokenLogProbs, prefixMask, { transB: true });
  const margins = sub(gather(prefixScores, pairs.positive), gather(prefixScores, pairs.negative));
  const error = sub(margins, mul(reshape(targets, [-1, 1]), prefixScale));
  return reduceSum(mul(reduceMean(mul(error, error), [1]), pairs.weight));
}
