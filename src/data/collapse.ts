import type { Run, RunEntry } from './types.js';
import { compareTrecOrder } from './ranking.js';

/**
 * Maps a run's document ids to relevance ids, keeping only the best-ranked document per
 * relevance id (with its score). Needed for the pooled 12-language XQuAD corpus, where the
 * translations of one paragraph are distinct documents judged under one id: without it,
 * one relevant paragraph could be counted up to 12 times. Ids missing from the map are
 * their own relevance id. "Best-ranked" follows trec_eval's order (score, then id, both
 * descending). Each query's entries come back in that order.
 */
export function collapseRun(run: Run, relevanceIdOf: ReadonlyMap<string, string> | ((docId: string) => string)): Run {
  const lookup = typeof relevanceIdOf === 'function' ? relevanceIdOf : (docId: string) => relevanceIdOf.get(docId) ?? docId;
  const collapsed: Run = new Map();
  for (const [queryId, entries] of run) {
    const seen = new Set<string>();
    const kept: RunEntry[] = [];
    for (const entry of [...entries].sort(compareTrecOrder)) {
      const relevanceId = lookup(entry.docId);
      if (seen.has(relevanceId)) continue;
      seen.add(relevanceId);
      kept.push({ docId: relevanceId, score: entry.score });
    }
    collapsed.set(queryId, kept);
  }
  return collapsed;
}
