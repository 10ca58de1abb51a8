import { Tensor } from '../graph.js';
import { add } from './add.js';
import { cast } from './cast.js';
import { div } from './div.js';
import { equal } from './equal.js';
import { gatherElements } from './gather-elements.js';
import { logSoftmax } from './log-softmax.js';
import { not } from './logical.js';
import { maximum } from './maximum.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { reduceMean } from './reduce-mean.js';
import { reduceSum } from './reduce-sum.js';
import { squeeze, unsqueeze } from './squeeze.js';
import { expectDType, expectFloat, fail } from './util.js';
import { where } from './where.js';

export interface CrossEntropyOptions {
  /** Label value that marks padding: it adds no loss and does not count in the mean. Default -100. */
  ignoreIndex?: number;
  /** 'mean' over non-ignored labels (default), 'sum', or 'none' (per-position loss, 0 at ignored). */
  reduction?: 'mean' | 'sum' | 'none';
  /**
   * Label smoothing ε in [0, 1): the target is (1 − ε)·one-hot + ε·uniform over the V classes,
   * so each position's loss is (1 − ε)·(−log p(label)) + ε·mean over classes of −log p. Default 0.
   */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy of `logits` [..., V] against integer `labels` [...], as
 * LogSoftmax + GatherElements: the gradient (softmax − one-hot) comes out of the two op rules.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  expectFloat('crossEntropy', logits);
  expectDType('crossEntropy', labels, ['int64']);
  if (labels.rank !== logits.rank - 1)
    fail('crossEntropy', `labels ${labels.toString()} must have one axis less than logits ${logits.toString()}`);
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) fail('crossEntropy', `labelSmoothing must be in [0, 1), got ${smoothing}`);
  const valid = not(equal(labels, options.ignoreIndex ?? -100));
  const safeLabels = where(valid, labels, 0);
  const logProbs = logSoftmax(logits, -1);
  const picked = squeeze(gatherElements(logProbs, unsqueeze(safeLabels, [-1]), -1), [-1]);
  // ε = 0 builds exactly the graph without smoothing, so unsmoothed training is unchanged bit for bit.
  const target = smoothing === 0 ? picked : add(mul(picked, 1 - smoothing), mul(reduceMean(logProbs, [-1]), smoothing));
  const weight = cast(valid, logits.dtype);
  const losses = mul(neg(target), weight);
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'none') return losses;
  const total = reduceSum(losses);
  if (reduction === 'sum') return total;
  return div(total, maximum(reduceSum(weight), 1));
}

/** Sum over the last axis of log p(label) for each sequence: [..., T, V] logits → [...]. Ignored labels add 0. */
export function sequenceLogProb(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  return neg(reduceSum(crossEntropy(logits, labels, { ignoreIndex, reduction: 'none' }), [-1]));
}
