/**
 * The order of an RLGF list that ListMLE teaches the retriever: the generator's order of every
 * passage (the paper's), or the query's source document pinned first and the generator's order of
 * the mined passages after it (a span query's own document is known to be relevant).
 */
export type RlgfOrder = 'generator' | 'source-first';
export const RLGF_ORDERS: readonly RlgfOrder[] = ['generator', 'source-first'];

/**
 * `docs` is a list with the source document first; `scores` the generator's score of each (higher
 * preferred). Returns the documents in training order, and whether the generator itself put the
 * source document first. Ties go to the lower document row, so the order does not depend on the list's.
 */
export function orderRlgfList(
  docs: readonly number[],
  scores: readonly number[],
  order: RlgfOrder,
): { ranked: number[]; generatorPutSourceFirst: boolean } {
  if (docs.length !== scores.length || docs.length === 0)
    throw new RangeError(`orderRlgfList: ${docs.length} documents and ${scores.length} scores`);
  const byGenerator = docs
    .map((doc, j) => ({ doc, score: scores[j] }))
    .sort((a, b) => b.score - a.score || a.doc - b.doc)
    .map((r) => r.doc);
  const source = docs[0];
  return {
    ranked: order === 'generator' ? byGenerator : [source, ...byGenerator.filter((doc) => doc !== source)],
    generatorPutSourceFirst: byGenerator[0] === source,
  };
}
