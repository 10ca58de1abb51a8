/**
 * How an RLGF list is built and ordered. The order is what ListMLE teaches the retriever: the
 * generator's order of every passage (the paper's); the query's source document pinned first and the
 * generator's order of the mined passages after it (a span query's own document is known to be
 * relevant); or the source document first and the retriever's own order after it (a self-training
 * control that takes the generator's ranking out of RLGF).
 */
export type RlgfOrder = 'generator' | 'source-first' | 'retriever';
export const RLGF_ORDERS: readonly RlgfOrder[] = ['generator', 'source-first', 'retriever'];

/**
 * `docs` is a list with the source document first; `generatorScores` the generator's score of each
 * (higher preferred) and `retrieverScores` the retriever's (used by the `retriever` order only).
 * Returns the documents in training order, and whether the generator itself put the source
 * document first. Ties go to the lower document row, so the order does not depend on the list's.
 */
export function orderRlgfList(
  docs: readonly number[],
  generatorScores: readonly number[],
  order: RlgfOrder,
  retrieverScores?: readonly number[],
): { ranked: number[]; generatorPutSourceFirst: boolean } {
  if (docs.length !== generatorScores.length || docs.length === 0)
    throw new RangeError(`orderRlgfList: ${docs.length} documents and ${generatorScores.length} scores`);
  if (order === 'retriever' && retrieverScores?.length !== docs.length)
    throw new RangeError(
      `orderRlgfList: the retriever order needs ${docs.length} retriever scores, got ${retrieverScores?.length ?? 'none'}`,
    );
  const by = (scores: readonly number[]): number[] =>
    docs
      .map((doc, j) => ({ doc, score: scores[j] }))
      .sort((a, b) => b.score - a.score || a.doc - b.doc)
      .map((r) => r.doc);
  const byGenerator = by(generatorScores);
  const source = docs[0];
  const sourceFirst = (ranking: number[]): number[] => [source, ...ranking.filter((doc) => doc !== source)];
  const ranked =
    order === 'generator' ? byGenerator : order === 'source-first' ? sourceFirst(byGenerator) : sourceFirst(by(retrieverScores!));
  return { ranked, generatorPutSourceFirst: byGenerator[0] === source };
}

/**
 * The score above which a mined passage is skipped as a likely false negative: within `margin`
 * (5 %) of the positive's score, measured on the score's magnitude. The reference code's
 * `0.95 × positive` is the same rule for a positive score, but for a negative one it lies *above*
 * the positive, so passages that outscore the positive would pass as negatives; this keeps the cut
 * below the positive on both sides of zero.
 */
export function falseNegativeThreshold(positiveScore: number, margin = 0.05): number {
  return positiveScore - margin * Math.abs(positiveScore);
}

/**
 * Where RLGF's mined negatives come from. `below-positive` (the paper's): passages scoring within 5 %
 * of the positive or above it are skipped as likely false negatives, and the negatives are the next
 * ones below. `top`: the retriever's highest-scoring passages other than the source document, the
 * ones that outrank it included. A span query is cut from its source document, so the passages
 * above that document are the retriever's mistakes on it, which the paper's cut never shows to the
 * loss; the cut exists for LLM-written queries, which other documents may answer as well.
 */
export type RlgfNegatives = 'below-positive' | 'top';
export const RLGF_NEGATIVES: readonly RlgfNegatives[] = ['below-positive', 'top'];

/**
 * Candidate negatives of one list: `rows` and `scores` are the retriever's ranking (best first) of
 * the mined depth, `source` the query's source-document row and `positiveScore` its score. Returns
 * up to `count` rows in ranking order, never the source document.
 */
export function mineNegativeCandidates(
  rows: ArrayLike<number>,
  scores: ArrayLike<number>,
  source: number,
  positiveScore: number,
  count: number,
  negatives: RlgfNegatives,
): number[] {
  if (rows.length !== scores.length) throw new RangeError(`mineNegativeCandidates: ${rows.length} rows and ${scores.length} scores`);
  const cut = negatives === 'top' ? Infinity : falseNegativeThreshold(positiveScore);
  const candidates: number[] = [];
  for (let j = 0; j < rows.length && candidates.length < count; j++) {
    if (rows[j] === source || scores[j] > cut) continue;
    candidates.push(rows[j]);
  }
  return candidates;
}
