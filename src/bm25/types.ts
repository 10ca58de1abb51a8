import type { AnalyzerSpec } from '../text/analyzers/types.js';

/** How title and text are indexed: one concatenated field (Anserini's BEIR "flat") or one field each. */
export type FieldMode = 'flat' | 'multi';

/** Field names per mode, in the order a document's field texts are given. */
export const FIELD_NAMES: Readonly<Record<FieldMode, readonly string[]>> = {
  flat: ['contents'],
  multi: ['title', 'text'],
};

/** The postings of one field in CSR layout: term t's postings are [offsets[t], offsets[t+1]). */
export interface FieldPostings {
  readonly name: string;
  /** Length vocabularySize + 1. */
  readonly offsets: Uint32Array;
  /** Document indices, ascending within each term. */
  readonly docs: Uint32Array;
  /** Term frequency of each posting (Uint16Array unless some frequency exceeds 65,535). */
  readonly freqs: Uint16Array | Uint32Array;
  /** Lucene-encoded field length per document (SmallFloat.intToByte4). */
  readonly norms: Uint8Array;
  /** Documents with at least one token in this field (Lucene's docCount). */
  readonly docCount: number;
  /** Tokens in this field over all documents (Lucene's sumTotalTermFreq). */
  readonly sumTotalTermFreq: number;
}

/** Everything a BM25 index holds; typed arrays are backed by SharedArrayBuffers so worker threads can share them. */
export interface IndexData {
  readonly analyzer: AnalyzerSpec;
  readonly fieldMode: FieldMode;
  /** External document ids by document index. */
  readonly docIds: readonly string[];
  /**
   * Rank of each document's id in UTF-8 byte order. Ties in score are broken by this
   * (higher id first), which is the order trec_eval gives tied documents.
   */
  readonly docIdOrder: Uint32Array;
  /** Terms by term id. */
  readonly terms: readonly string[];
  readonly fields: readonly FieldPostings[];
}

/** BM25 parameters; Anserini's defaults are k1 = 0.9, b = 0.4. */
export interface Bm25Params {
  k1: number;
  b: number;
  /** Per-field weights in multi-field mode (default 1 each), by field name. */
  fieldWeights?: Readonly<Record<string, number>>;
}

export const DEFAULT_BM25_PARAMS: Readonly<Bm25Params> = { k1: 0.9, b: 0.4 };

/** Top-k results of one query: parallel arrays, best first. */
export interface SearchHits {
  /** Document indices (look ids up in IndexData.docIds). */
  docs: Uint32Array;
  /** Scores (float32 values, as Lucene computes them). */
  scores: Float32Array;
}

/** A query to run: its text, and its language for the multilingual analyzer. */
export interface SearchQuery {
  text: string;
  lang?: string;
}
