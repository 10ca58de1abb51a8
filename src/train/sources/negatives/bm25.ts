/**
 * BM25 hard negatives for training queries: rank the corpus with Lucene's BM25 (genir's
 * src/bm25), then sample DDRO's stratified bands (bands.ts).
 *
 * Rankings are over docid keys: in a pooled corpus (the 12 translations of an XQuAD
 * paragraph share a key) a key takes the rank of its best document. BM25 returns only
 * documents that share a term with the query; the keys it never returns follow the
 * retrieved ones in a seeded random order (seed and query id), so every ranking holds
 * L = min(depth, keys) keys and the bands always refer to the same share of the corpus.
 */
import { Bm25Index } from '../../../bm25/bm25-index.js';
import type { SearchQuery } from '../../../bm25/types.js';
import type { Document } from '../../../data/types.js';
import { getAnalyzer } from '../../../text/analyzers/index.js';
import { DDRO_BANDS, DDRO_DEPTH, keyedRng, sampleStratified, scaleBands, type NegativeBand, type RankedNegative } from './bands.js';

/** A training query and the docid keys relevant to it. */
export interface TrainingQuery {
  id: string;
  text: string;
  lang?: string;
  /** Relevant docid keys. */
  keys: readonly string[];
}

export interface Bm25NegativeOptions {
  /** Ranking depth (default 1000, DDRO's). */
  depth?: number;
  /** Bands at full depth (default DDRO's 10/10/12). */
  bands?: readonly NegativeBand[];
  seed: number;
  /** BM25 parameters (default Anserini's k1 0.9, b 0.4; DDRO mined with Pyserini's 0.82 / 0.68). */
  k1?: number;
  b?: number;
  threads?: number;
  /**
   * Fill a ranking that BM25 leaves short with the unretrieved keys in seeded random order
   * (default true, so DDRO's bands refer to the same share of the corpus); false keeps only
   * what BM25 retrieved.
   */
  fill?: boolean;
}

/** `english` when every document and query is English (or unlabelled), else `multilingual`. */
function analyzerFor(docs: readonly Document[], queries: readonly TrainingQuery[]) {
  const english =
    docs.every((d) => d.lang === undefined || d.lang === 'en') && queries.every((q) => q.lang === undefined || q.lang === 'en');
  if (english) return getAnalyzer('english');
  return getAnalyzer('multilingual', docs.find((d) => d.lang !== undefined)?.lang ?? 'en');
}

/**
 * BM25 rankings of docid keys, best first, L = min(depth, keys) per query (the unretrieved
 * keys in seeded random order after the retrieved ones).
 */
export async function bm25KeyRankings(
  docs: readonly Document[],
  keyOf: (doc: Document) => string,
  queries: readonly TrainingQuery[],
  options: Bm25NegativeOptions,
): Promise<string[][]> {
  const depth = options.depth ?? DDRO_DEPTH;
  const index = await Bm25Index.build(docs, { analyzer: analyzerFor(docs, queries) });
  const docKeys = docs.map(keyOf);
  const allKeys = [...new Set(docKeys)];
  const length = Math.min(depth, allKeys.length);
  const docsPerKey = Math.ceil(docs.length / allKeys.length);
  const k = Math.min(docs.length, length * docsPerKey);
  const searchQueries: SearchQuery[] = queries.map((q) => ({ text: q.text, lang: q.lang }));
  const params = { k1: options.k1 ?? 0.9, b: options.b ?? 0.4 };
  const hits = queries.length === 0 ? [] : await index.searchBatch(searchQueries, k, { params, threads: options.threads });
  const position = new Map(docs.map((d, i) => [d.id, i]));
  return queries.map((query, qi) => {
    const ranking: string[] = [];
    const seen = new Set<string>();
    const retrieved = hits[qi];
    for (let i = 0; i < retrieved.docs.length && ranking.length < length; i++) {
      const key = docKeys[position.get(index.data.docIds[retrieved.docs[i]])!];
      if (!seen.has(key)) {
        seen.add(key);
        ranking.push(key);
      }
    }
    if (ranking.length < length && options.fill !== false) {
      const rest = keyedRng(options.seed, `bm25-fill\u0000${query.id}`).shuffle(allKeys.filter((key) => !seen.has(key)));
      ranking.push(...rest.slice(0, length - ranking.length));
    }
    return ranking;
  });
}

/** Stratified BM25 negatives per query (same order as `queries`), positives excluded. */
export async function mineBm25Negatives(
  docs: readonly Document[],
  keyOf: (doc: Document) => string,
  queries: readonly TrainingQuery[],
  options: Bm25NegativeOptions,
): Promise<RankedNegative[][]> {
  const depth = options.depth ?? DDRO_DEPTH;
  const rankings = await bm25KeyRankings(docs, keyOf, queries, options);
  return queries.map((query, qi) => {
    const ranking = rankings[qi];
    const bands = scaleBands(options.bands ?? DDRO_BANDS, depth, ranking.length);
    return sampleStratified(ranking, new Set(query.keys), bands, keyedRng(options.seed, `bm25-negatives\u0000${query.id}`));
  });
}
