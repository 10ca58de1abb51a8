/**
 * Reinforced-IR's two small decisions on embeddings, kept apart from the training code so
 * they can be tested by hand: the mixed query embedding (query plus the generator's
 * augmentation) and the RLRF filter that turns five scored augmentations into a preference
 * pair or rejects them.
 */

/** Share of the query's own embedding in the mixed one (the reference code's 0.8). */
export const QUERY_SHARE = 0.8;

/**
 * The query embedding used for retrieval: `share·q + (1 − share)·a` for each of `rows`
 * queries ([rows, dim] row-major). Not renormalised: the reference code scores the raw mix.
 */
export function mixQueryEmbedding(query: Float32Array, augmentation: Float32Array, dim: number, share = QUERY_SHARE): Float32Array {
  if (query.length !== augmentation.length || query.length % dim !== 0)
    throw new RangeError(`mixQueryEmbedding: ${query.length} and ${augmentation.length} values are not rows of ${dim}`);
  const out = new Float32Array(query.length);
  for (let i = 0; i < query.length; i++) out[i] = share * query[i] + (1 - share) * augmentation[i];
  return out;
}

/** Inner product of row `a` of `left` and row `b` of `right`, both [*, dim]. */
export function rowDot(left: Float32Array, a: number, right: Float32Array, b: number, dim: number): number {
  let sum = 0;
  for (let j = 0; j < dim; j++) sum += left[a * dim + j] * right[b * dim + j];
  return sum;
}

/** ⟨share·q + (1 − share)·a, d⟩ for query row `q`, augmentation row `a` and document row `d`: the mixed score without building the mix. */
export function mixedScore(
  query: Float32Array,
  q: number,
  augmentation: Float32Array,
  a: number,
  docs: Float32Array,
  d: number,
  dim: number,
  share = QUERY_SHARE,
): number {
  return share * rowDot(query, q, docs, d, dim) + (1 - share) * rowDot(augmentation, a, docs, d, dim);
}

export interface PreferencePairRule {
  /** The query's share in the mixed score (0.8). */
  share: number;
  /** The worst augmentation's gain over share·raw must stay below this fraction of the best one's (0.95). */
  separation: number;
}

export const REFERENCE_PAIR_RULE: PreferencePairRule = { share: QUERY_SHARE, separation: 0.95 };

/**
 * RLRF's choice among the sampled augmentations of one query. `mixed[k]` is
 * ⟨share·E(q) + (1 − share)·E(a_k), E(d⁺)⟩ and `raw` is ⟨E(q), E(d⁺)⟩. The best augmentation is
 * chosen and the worst rejected, and the pair is kept only when the best one helps
 * (max > raw) and the two are far enough apart:
 * (max − share·raw)·separation ≥ (min − share·raw). Ties pick the first index;
 * all-equal scores give no pair.
 */
export function preferencePair(
  mixed: readonly number[],
  raw: number,
  rule: PreferencePairRule = REFERENCE_PAIR_RULE,
): { chosen: number; rejected: number } | null {
  if (mixed.length < 2) return null;
  let chosen = 0;
  let rejected = 0;
  for (let k = 1; k < mixed.length; k++) {
    if (mixed[k] > mixed[chosen]) chosen = k;
    if (mixed[k] < mixed[rejected]) rejected = k;
  }
  const max = mixed[chosen];
  const min = mixed[rejected];
  if (chosen === rejected || !(max > raw)) return null;
  const floor = rule.share * raw;
  if (!((max - floor) * rule.separation >= min - floor)) return null;
  return { chosen, rejected };
}

/**
 * 1-based rank of each query's own document among all documents: one plus the number of
 * documents that score strictly higher (ties go the positive's way). `queries` is [n, dim],
 * `docs` [docCount, dim], and `positives[i]` the row of query i's document. Used to measure
 * whether a round made the retriever better at finding the documents its queries came from.
 */
export function positiveRanks(queries: Float32Array, docs: Float32Array, positives: readonly number[], dim: number): number[] {
  const docCount = docs.length / dim;
  if (queries.length !== positives.length * dim || !Number.isInteger(docCount))
    throw new RangeError(`positiveRanks: ${queries.length} query and ${docs.length} document values are not rows of ${dim}`);
  return positives.map((positive, i) => {
    const own = rowDot(queries, i, docs, positive, dim);
    let above = 0;
    for (let d = 0; d < docCount; d++) if (d !== positive && rowDot(queries, i, docs, d, dim) > own) above++;
    return above + 1;
  });
}
