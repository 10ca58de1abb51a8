/**
 * TF-IDF document vectors as a sparse matrix, the input of the built-in LSA
 * embeddings. Terms come from the project's BM25 analyzers (src/text/analyzers).
 */
import { getAnalyzer } from '../text/analyzers/index.js';
import type { CsrMatrix } from './sparse.js';

/** Text → terms; `lang` is the document's language when known. */
export type Analyze = (text: string, lang?: string) => string[];

/** The `multilingual` analyzer: ICU word segmentation, lower case, Snowball stemming per language. */
export function multilingualAnalyze(): Analyze {
  const analyzer = getAnalyzer('multilingual');
  return (text, lang) => analyzer.analyze(text, lang);
}

export interface TfidfOptions {
  analyze?: Analyze;
  /** Language of each text, passed to `analyze`. */
  langs?: readonly (string | undefined)[];
  /** Drop terms in fewer documents than this (default 1: keep all). */
  minDocFreq?: number;
  /** Keep at most this many terms, those in the most documents (default 100,000). */
  maxTerms?: number;
}

export interface TfidfMatrix {
  matrix: CsrMatrix;
  terms: string[];
}

/**
 * The TF-IDF weight of a term seen `tf` times in a document and in `docFreq` of `documents`:
 * (1 + ln tf) · (ln((1 + N) / (1 + df)) + 1), the sublinear-tf, smoothed-idf variant, so one
 * repeated word cannot dominate a document.
 */
export function tfidfWeight(tf: number, docFreq: number, documents: number): number {
  return (1 + Math.log(tf)) * (Math.log((1 + documents) / (1 + docFreq)) + 1);
}

/** Rows are documents, L2-normalized, weighted by `tfidfWeight`. */
export function tfidfMatrix(texts: readonly string[], options: TfidfOptions = {}): TfidfMatrix {
  const { analyze = multilingualAnalyze(), langs, minDocFreq = 1, maxTerms = 100_000 } = options;
  const termIds = new Map<string, number>();
  const docFreq: number[] = [];
  const counted: Map<number, number>[] = texts.map((text, index) => {
    const counts = new Map<number, number>();
    for (const term of analyze(text, langs?.[index])) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = termIds.size;
        termIds.set(term, id);
        docFreq.push(0);
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of counts.keys()) docFreq[id]++;
    return counts;
  });
  const allTerms = [...termIds.keys()];
  const kept = allTerms
    .map((term, id) => ({ term, id }))
    .filter(({ id }) => docFreq[id] >= minDocFreq)
    .sort((a, b) => docFreq[b.id] - docFreq[a.id] || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
    .slice(0, maxTerms)
    .sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
  const column = new Int32Array(allTerms.length).fill(-1);
  kept.forEach(({ id }, col) => (column[id] = col));
  const n = texts.length;
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  const values: number[] = [];
  counted.forEach((counts, row) => {
    const entries: [number, number][] = [];
    for (const [id, tf] of counts) {
      const col = column[id];
      if (col < 0) continue;
      entries.push([col, tfidfWeight(tf, docFreq[id], n)]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, w] of entries) norm += w * w;
    norm = Math.sqrt(norm) || 1;
    for (const [col, w] of entries) {
      indices.push(col);
      values.push(w / norm);
    }
    indptr[row + 1] = indices.length;
  });
  return {
    matrix: { rows: n, cols: kept.length, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) },
    terms: kept.map(({ term }) => term),
  };
}
