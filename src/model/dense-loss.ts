/**
 * The dense retriever's contrastive objective as graph builders: InfoNCE (a softmax
 * cross-entropy of each query over a set of candidate passages, its positive the target),
 * as DPR and Tevatron train with in-batch and hard negatives.
 */
import {
  type Tensor,
  add,
  cast,
  crossEntropy,
  exp,
  gatherElements,
  gemm,
  less,
  minimum,
  mul,
  not,
  reduceMax,
  reduceMean,
  squeeze,
  unsqueeze,
} from '../engine/index.js';

/** The largest logit scale a learned temperature may reach (CLIP's clamp: temperature ≥ 0.01). */
export const MAX_LOGIT_SCALE = 100;

/** How similarities become logits: a fixed scale (1 / temperature), or exp of a learned log scale (clamped at MAX_LOGIT_SCALE). */
export type LogitScale = { scale: number } | { logScale: Tensor };

/** The logit scale as a tensor or number for mul(). */
export function logitScale(option: LogitScale): Tensor | number {
  return 'scale' in option ? option.scale : minimum(exp(option.logScale), MAX_LOGIT_SCALE);
}

/**
 * InfoNCE: with s = scale · Q Pᵀ + bias ([queries, passages]), the loss is the mean over
 * queries of −log softmax(s)[target]. `queries` [B, d] and `passages` [N, d] are the
 * (unit-length) vectors, `targets` int64 [B] the positive's row, `bias` [B, N] 0 or MASKED
 * (a passage that must not count as a negative for that query). `accuracy` is the share of
 * queries whose positive has the highest logit (no gradient).
 */
export function infoNceLoss(
  queries: Tensor,
  passages: Tensor,
  targets: Tensor,
  bias: Tensor,
  scale: LogitScale,
): { loss: Tensor; accuracy: Tensor } {
  const logits = add(mul(gemm(queries, passages, { transB: true }), logitScale(scale)), bias);
  const loss = crossEntropy(logits, targets);
  const targetLogit = squeeze(gatherElements(logits, unsqueeze(targets, [1]), 1), [1]);
  const accuracy = reduceMean(cast(not(less(targetLogit, reduceMax(logits, [1]))), logits.dtype));
  return { loss, accuracy };
}
