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

/** An append-only Int32 buffer that doubles as it fills. */
class GrowableInt32 {
  values = new Int32Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/**
 * Rows are documents, L2-normalized, weighted by `tfidfWeight`.
 *
 * The counts of every document are kept as typed arrays (term id and frequency per entry,
 * 8 bytes) until the document frequencies are known, not as one Map per document: at a
 * million documents the Maps took several GB, and an ordinary array of the matrix's entries
 * would pass V8's limit on an array's length (2^27 elements) before the matrix is done.
 */
export function tfidfMatrix(texts: readonly string[], options: TfidfOptions = {}): TfidfMatrix {
  const { analyze = multilingualAnalyze(), langs, minDocFreq = 1, maxTerms = 100_000 } = options;
  const n = texts.length;
  const termIds = new Map<string, number>();
  const docFreq: number[] = [];
  // Document i's distinct terms (first-seen order) and their frequencies are entries [rowStart[i], rowStart[i+1]).
  const rowStart = new Int32Array(n + 1);
  const entryTerm = new GrowableInt32();
  const entryFreq = new GrowableInt32();
  // Scratch frequency per term id, zero between documents.
  let frequency = new Int32Array(1 << 12);
  for (let row = 0; row < n; row++) {
    const first = entryTerm.length;
    for (const term of analyze(texts[row], langs?.[row])) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = termIds.size;
        termIds.set(term, id);
        docFreq.push(0);
        if (id >= frequency.length) {
          const grown = new Int32Array(frequency.length * 2);
          grown.set(frequency);
          frequency = grown;
        }
      }
      if (frequency[id]++ === 0) entryTerm.push(id);
    }
    for (let e = first; e < entryTerm.length; e++) {
      const id = entryTerm.values[e];
      entryFreq.push(frequency[id]);
      frequency[id] = 0;
      docFreq[id]++;
    }
    rowStart[row + 1] = entryTerm.length;
  }
  const allTerms = [...termIds.keys()];
  const kept = allTerms
    .map((term, id) => ({ term, id }))
    .filter(({ id }) => docFreq[id] >= minDocFreq)
    .sort((a, b) => docFreq[b.id] - docFreq[a.id] || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
    .slice(0, maxTerms)
    .sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
  const column = new Int32Array(allTerms.length).fill(-1);
  kept.forEach(({ id }, col) => (column[id] = col));
  let nonZeros = 0;
  for (let e = 0; e < entryTerm.length; e++) if (column[entryTerm.values[e]] >= 0) nonZeros++;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nonZeros);
  const values = new Float64Array(nonZeros);
  let out = 0;
  for (let row = 0; row < n; row++) {
    const entries: [number, number][] = [];
    for (let e = rowStart[row]; e < rowStart[row + 1]; e++) {
      const id = entryTerm.values[e];
      const col = column[id];
      if (col >= 0) entries.push([col, tfidfWeight(entryFreq.values[e], docFreq[id], n)]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, w] of entries) norm += w * w;
    norm = Math.sqrt(norm) || 1;
    for (const [col, w] of entries) {
      indices[out] = col;
      values[out++] = w / norm;
    }
    indptr[row + 1] = out;
  }
  return {
    matrix: { rows: n, cols: kept.length, indptr, indices, values },
    terms: kept.map(({ term }) => term),
  };
}
