/**
 * The teacher of RIPOR's relevance-based loss (MarginMSE), read from a TREC run over the
 * training queries: any retriever's scores (BM25, a dense model, a fused hybrid, a
 * cross-encoder run made elsewhere) become target margins for the generative model.
 *
 * A docid key's teacher score is the best score of the documents it names (pooled XQuAD keys
 * name one paragraph in several languages). A key the run does not list for a query scored
 * below the run's depth, so it gets that query's lowest listed score.
 */
import { readRun } from '../../../data/trec.js';
import type { Document } from '../../../data/types.js';
import { UserError } from '../../../util/errors.js';

export interface TeacherRun {
  /** The teacher's score of a docid key for a training query, times the scale (nats per unit of the run's score). */
  score(query: string, key: string): number;
  /** Look-ups so far, and how many found the key in the query's ranking (the rest took its lowest score). */
  lookups(): { total: number; listed: number };
}

/**
 * `languages`: the XQuAD languages the model was trained on, whose training query ids read
 * `lang/qid`. With one language a run of that language's queries (`genir bm25 --dataset xquad
 * --lang de --split train`, ids `qid`) is accepted as it is; with several, the run must name
 * each query `lang/qid`, as one question differs by language.
 */
export async function readTeacherRun(
  path: string,
  corpus: { docs: readonly Document[]; keyOf(doc: Document): string; languages?: readonly string[] },
  scale: number,
): Promise<TeacherRun> {
  const run = await readRun(path);
  const keyOfDoc = new Map(corpus.docs.map((doc) => [doc.id, corpus.keyOf(doc)]));
  const byQuery = new Map<string, { keys: Map<string, number>; lowest: number }>();
  for (const [query, entries] of run) {
    const keys = new Map<string, number>();
    let lowest = Infinity;
    for (const { docId, score } of entries) {
      const key = keyOfDoc.get(docId);
      if (key === undefined) throw new UserError(`${path}: query '${query}' lists document '${docId}', which the dataset does not have`);
      keys.set(key, Math.max(keys.get(key) ?? -Infinity, score));
      lowest = Math.min(lowest, score);
    }
    byQuery.set(query, { keys, lowest });
  }
  // One trained language: its training query ids carry a `lang/` prefix the run's ids lack.
  const onlyLanguage = corpus.languages?.length === 1 ? `${corpus.languages[0]}/` : undefined;
  let total = 0;
  let listed = 0;
  return {
    score(query, key) {
      const ranking =
        byQuery.get(query) ??
        (onlyLanguage !== undefined && query.startsWith(onlyLanguage) ? byQuery.get(query.slice(onlyLanguage.length)) : undefined);
      if (ranking === undefined)
        throw new UserError(
          `${path}: no ranking for training query '${query}'; the teacher run must cover the training split (e.g. genir bm25 --split train --run-out <file>${(corpus.languages?.length ?? 0) > 1 ? ', its query ids written lang/qid for a model trained on several languages' : ''})`,
        );
      total++;
      const score = ranking.keys.get(key);
      if (score !== undefined) listed++;
      return (score ?? ranking.lowest) * scale;
    },
    lookups: () => ({ total, listed }),
  };
}
