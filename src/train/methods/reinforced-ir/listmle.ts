/**
 * ListMLE (the Plackett–Luce likelihood of a given order) as a graph builder: RLGF trains the
 * retriever to reproduce the order in which the generator ranks a query's passages.
 */
import { type Tensor, add, logSoftmax, mul, neg, reduceMean, reduceSum, unsqueeze } from '../../../engine/index.js';
import { MASKED } from '../../../model/t5-graph.js';

/**
 * −log P(order | s) averaged over lists, for scores [lists, size] whose columns are already in
 * the target order (column 0 the most preferred):
 *   Σ_i [ log Σ_{j ≥ i} exp(s_j) − s_i ].
 * Each term is a log-softmax over the suffix i…size−1, written as a softmax over the whole
 * row with the prefix masked, so it needs no new op and its gradient comes from logSoftmax.
 *
 * `depth` keeps only the first `depth` positions' terms (the top-k Plackett–Luce likelihood): the
 * order below position `depth` is not taught. Depth 1 is the softmax cross-entropy of the first
 * column against the whole list (InfoNCE with the others as negatives); depth `size` (the
 * default) is the full ListMLE.
 */
export function listMleLoss(scores: Tensor, size: number, depth = size): Tensor {
  if (!Number.isInteger(depth) || depth < 1 || depth > size) throw new RangeError(`listMleLoss: depth ${depth} outside 1…${size}`);
  const g = scores.graph;
  const suffixBias = new Array<number>(size * size).fill(0);
  const diagonal = new Array<number>(size * size).fill(0);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < i; j++) suffixBias[i * size + j] = MASKED;
    if (i < depth) diagonal[i * size + i] = 1;
  }
  // [lists, size (position i), size (candidate j)]: row i sees only the candidates from i on.
  const perPosition = logSoftmax(add(unsqueeze(scores, [1]), g.constant(suffixBias, [size, size], scores.dtype)), -1);
  const own = reduceSum(mul(perPosition, g.constant(diagonal, [size, size], scores.dtype)), [2]);
  return neg(reduceMean(reduceSum(own, [1])));
}
