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
 */
export function listMleLoss(scores: Tensor, size: number): Tensor {
  const g = scores.graph;
  const suffixBias = new Array<number>(size * size).fill(0);
  const diagonal = new Array<number>(size * size).fill(0);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < i; j++) suffixBias[i * size + j] = MASKED;
    diagonal[i * size + i] = 1;
  }
  // [lists, size (position i), size (candidate j)]: row i sees only the candidates from i on.
  const perPosition = logSoftmax(add(unsqueeze(scores, [1]), g.constant(suffixBias, [size, size], scores.dtype)), -1);
  const own = reduceSum(mul(perPosition, g.constant(diagonal, [size, size], scores.dtype)), [2]);
  return neg(reduceMean(reduceSum(own, [1])));
}
