/**
 * Compares two systems' top-10 lists query by query (bench:lucene): identical when the same
 * documents come at the same ranks with scores within a tolerance, and "identical up to
 * ties" when the only differences are the order of documents with equal scores.
 */

export interface Hit {
  docId: string;
  score: number;
}

export interface Top10Comparison {
  queries: number;
  /** Same documents at the same ranks, scores within the tolerance. */
  identical: number;
  /** Differ only in the order (or, at rank 10, the choice) of equally scored documents. */
  tieOrderOnly: number;
  /** Differ in a document or a score beyond ties: the queries, with the first difference. */
  different: { queryId: string; rank: number; a: Hit | null; b: Hit | null }[];
  /** Largest score difference over the positions where both lists hold the same document. */
  maxScoreDiff: number;
}

/**
 * `a` and `b`: query id → hits best first (only the first 10 are read). Queries missing
 * from one side count as empty lists. Scores are "equal" within `tolerance`.
 */
export function compareTop10(
  a: ReadonlyMap<string, readonly Hit[]>,
  b: ReadonlyMap<string, readonly Hit[]>,
  tolerance = 1e-4,
): Top10Comparison {
  const result: Top10Comparison = { queries: 0, identical: 0, tieOrderOnly: 0, different: [], maxScoreDiff: 0 };
  const ids = new Set([...a.keys(), ...b.keys()]);
  for (const queryId of ids) {
    result.queries++;
    const left = (a.get(queryId) ?? []).slice(0, 10);
    const right = (b.get(queryId) ?? []).slice(0, 10);
    let firstDifference = -1;
    for (let rank = 0; rank < Math.max(left.length, right.length); rank++) {
      const x = left[rank];
      const y = right[rank];
      if (x !== undefined && y !== undefined && x.docId === y.docId) {
        result.maxScoreDiff = Math.max(result.maxScoreDiff, Math.abs(x.score - y.score));
        if (Math.abs(x.score - y.score) <= tolerance) continue;
      }
      if (firstDifference < 0) firstDifference = rank;
    }
    if (firstDifference < 0) {
      result.identical++;
    } else if (sameUpToTies(left, right, tolerance)) {
      result.tieOrderOnly++;
    } else {
      result.different.push({ queryId, rank: firstDifference + 1, a: left[firstDifference] ?? null, b: right[firstDifference] ?? null });
    }
  }
  return result;
}

/**
 * Equal lengths, equal scores rank by rank, and within each run of equal scores the same
 * documents, except for the run that reaches rank 10, which may be cut differently.
 */
function sameUpToTies(left: readonly Hit[], right: readonly Hit[], tolerance: number): boolean {
  if (left.length !== right.length) return false;
  for (let rank = 0; rank < left.length; rank++) if (Math.abs(left[rank].score - right[rank].score) > tolerance) return false;
  let start = 0;
  while (start < left.length) {
    let end = start + 1;
    while (end < left.length && Math.abs(left[end].score - left[start].score) <= tolerance) end++;
    const reachesCut = end === left.length;
    if (!reachesCut) {
      const group = new Set(left.slice(start, end).map((hit) => hit.docId));
      if (!right.slice(start, end).every((hit) => group.has(hit.docId))) return false;
    }
    start = end;
  }
  return true;
}
