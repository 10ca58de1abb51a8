import { analyzerFromSpec } from '../text/analyzers/index.js';
import type { Analyzer } from '../text/analyzers/types.js';
import { LENGTH_TABLE } from './small-float.js';
import { DEFAULT_BM25_PARAMS, type Bm25Params, type FieldPostings, type IndexData, type SearchHits, type SearchQuery } from './types.js';

const fround = Math.fround;

/**
 * Positive float32 bit patterns are below 2^31 and order like their values, so
 * bits · 2^22 + rank stays an exact integer (< 2^53) for ranks below 2^22.
 */
const KEY_RANK_SPAN = 2 ** 22;

const vocabularies = new WeakMap<IndexData, Map<string, number>>();

/** term → term id for an index (built once per IndexData and cached). */
export function vocabularyOf(data: IndexData): Map<string, number> {
  let vocabulary = vocabularies.get(data);
  if (vocabulary === undefined) {
    vocabulary = new Map();
    const terms = data.terms;
    for (let id = 0; id < terms.length; id++) vocabulary.set(terms[id], id);
    vocabularies.set(data, vocabulary);
  }
  return vocabulary;
}

/** Lets a builder hand over the vocabulary it already has, so it is not rebuilt. */
export function rememberVocabulary(data: IndexData, vocabulary: Map<string, number>): void {
  vocabularies.set(data, vocabulary);
}

/**
 * Lucene's BM25Similarity norm cache for one field: 1 / (k1 · (1 − b + b · dl / avgdl))
 * for each of the 256 encoded lengths, in float32 arithmetic step by step as Java evaluates it.
 */
export function normInverseCache(field: FieldPostings, k1: number, b: number): Float32Array {
  const k1f = fround(k1);
  const bf = fround(b);
  const avgdl = fround(field.docCount === 0 ? 0 : field.sumTotalTermFreq / field.docCount);
  const cache = new Float32Array(256);
  const oneMinusB = fround(1 - bf);
  for (let i = 0; i < 256; i++) {
    cache[i] = fround(1 / fround(k1f * fround(oneMinusB + fround(fround(bf * LENGTH_TABLE[i]) / avgdl))));
  }
  return cache;
}

/** Lucene's BM25 idf, ln(1 + (N − df + 0.5) / (df + 0.5)), rounded to float32. */
export function bm25Idf(docFreq: number, docCount: number): number {
  return fround(Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5)));
}

/**
 * Scores queries against an index with Lucene's BM25 (term-at-a-time into a dense
 * accumulator, then a bounded heap). One searcher owns scratch buffers sized to the
 * corpus: use one per thread.
 *
 * Per query term t with query count q (Lucene sums duplicate clauses into a boost) and
 * field weight w_f:
 *   weight = float(q · w_f) · idf(t)
 *   score(t, d) = weight − weight / (1 + tf · normInverse[norm(d)])
 * which equals weight · tf / (tf + k1 · (1 − b + b · dl / avgdl)): Lucene 8+ has no (k1 + 1)
 * factor. Every step is rounded to float32 as in Java, term scores are summed in double
 * and the sum rounded to float32, so scores equal Lucene's.
 */
export class Bm25Searcher {
  readonly params: Readonly<Bm25Params>;
  private readonly analyzer: Analyzer;
  private readonly vocabulary: Map<string, number>;
  private readonly normCaches: Float32Array[];
  private readonly fieldWeights: Float64Array;
  private readonly accumulator: Float64Array;
  private readonly touched: Uint32Array;
  /** Document index by id rank; undefined when the corpus is too large for packed keys. */
  private readonly rankToDoc: Uint32Array | undefined;
  private readonly keys: Float64Array;
  // One float32 seen as its bits, to pack scores into keys.
  private readonly scoreSlot = new Float32Array(1);
  private readonly bitsSlot = new Uint32Array(this.scoreSlot.buffer);

  /**
   * `options.packedKeys: false` forces the heap selection that corpora of 2^22 documents or
   * more use (for tests); results are the same.
   */
  constructor(
    readonly data: IndexData,
    params: Partial<Bm25Params> = {},
    analyzer?: Analyzer,
    options: { packedKeys?: boolean } = {},
  ) {
    this.params = { ...DEFAULT_BM25_PARAMS, ...params };
    const { k1, b } = this.params;
    if (!Number.isFinite(k1) || k1 < 0) throw new RangeError(`k1 must be a non-negative finite number, got ${k1}`);
    if (!(b >= 0 && b <= 1)) throw new RangeError(`b must be in [0, 1], got ${b}`);
    this.analyzer = analyzer ?? analyzerFromSpec(data.analyzer);
    this.vocabulary = vocabularyOf(data);
    this.normCaches = data.fields.map((field) => normInverseCache(field, k1, b));
    this.fieldWeights = Float64Array.from(data.fields, (field) => fround(this.params.fieldWeights?.[field.name] ?? 1));
    const docCount = data.docIds.length;
    this.accumulator = new Float64Array(docCount);
    this.touched = new Uint32Array(docCount);
    if (docCount < KEY_RANK_SPAN && options.packedKeys !== false) {
      this.rankToDoc = new Uint32Array(docCount);
      for (let doc = 0; doc < docCount; doc++) this.rankToDoc[data.docIdOrder[doc]] = doc;
      this.keys = new Float64Array(docCount);
    } else {
      this.rankToDoc = undefined;
      this.keys = new Float64Array(0);
    }
  }

  /** Analyzes a query into (term id, count) pairs; terms absent from the index are dropped. */
  queryTerms(query: SearchQuery | string): Map<number, number> {
    const text = typeof query === 'string' ? query : query.text;
    const lang = typeof query === 'string' ? undefined : query.lang;
    const counts = new Map<number, number>();
    for (const term of this.analyzer.analyze(text, lang)) {
      const id = this.vocabulary.get(term);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  search(query: SearchQuery | string, k = 1000): SearchHits {
    return this.searchTerms(this.queryTerms(query), k);
  }

  /** Top-k for an analyzed query: term id → count (the clause boost). */
  searchTerms(termCounts: ReadonlyMap<number, number>, k = 1000): SearchHits {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    const accumulator = this.accumulator;
    const touched = this.touched;
    let touchedCount = 0;
    const fields = this.data.fields;
    for (const [termId, count] of termCounts) {
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f];
        const start = field.offsets[termId];
        const end = field.offsets[termId + 1];
        if (end === start) continue;
        const boost = fround(count * this.fieldWeights[f]);
        const weight = fround(boost * bm25Idf(end - start, field.docCount));
        if (!(weight > 0)) continue;
        const normCache = this.normCaches[f];
        const docs = field.docs;
        const freqs = field.freqs;
        const norms = field.norms;
        for (let p = start; p < end; p++) {
          const doc = docs[p];
          const score = fround(weight - fround(weight / fround(1 + fround(freqs[p] * normCache[norms[doc]]))));
          if (accumulator[doc] === 0) touched[touchedCount++] = doc;
          accumulator[doc] += score;
        }
      }
    }
    return this.collectTopK(touchedCount, k);
  }

  /**
   * Selects the k best touched documents (score, then higher id first) and clears the
   * accumulator. Each candidate becomes one float64 key, float32 score bits · 2^22 + id
   * rank, so that candidates are distinct numbers in ranking order: a quickselect and the
   * native typed-array sort then replace a comparator-driven heap (about 4× faster at
   * k = 1000). Corpora of 2^22 documents or more use the heap.
   */
  private collectTopK(touchedCount: number, k: number): SearchHits {
    if (this.rankToDoc === undefined) return this.collectTopKWithHeap(touchedCount, k);
    const accumulator = this.accumulator;
    const touched = this.touched;
    const order = this.data.docIdOrder;
    const keys = this.keys;
    const scoreSlot = this.scoreSlot;
    const bitsSlot = this.bitsSlot;
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      scoreSlot[0] = accumulator[doc];
      accumulator[doc] = 0;
      keys[i] = bitsSlot[0] * KEY_RANK_SPAN + order[doc];
    }
    const size = Math.min(k, touchedCount);
    if (touchedCount > size) selectLargest(keys, touchedCount, size);
    const best = keys.subarray(0, size).sort();
    const docs = new Uint32Array(size);
    const scores = new Float32Array(size);
    const rankToDoc = this.rankToDoc;
    for (let i = 0; i < size; i++) {
      const key = best[size - 1 - i];
      const bits = Math.floor(key / KEY_RANK_SPAN);
      docs[i] = rankToDoc[key - bits * KEY_RANK_SPAN];
      bitsSlot[0] = bits;
      scores[i] = scoreSlot[0];
    }
    return { docs, scores };
  }

  /** The same selection with a bounded min-heap, for corpora too large for packed keys. */
  private collectTopKWithHeap(touchedCount: number, k: number): SearchHits {
    const accumulator = this.accumulator;
    const touched = this.touched;
    const order = this.data.docIdOrder;
    const capacity = Math.min(k, touchedCount);
    // Min-heap on (score, id order): the root is the weakest of the best `capacity` so far.
    const heapDocs = new Uint32Array(capacity);
    const heapScores = new Float32Array(capacity);
    let size = 0;
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      const score = fround(accumulator[doc]);
      accumulator[doc] = 0;
      if (size < capacity) {
        // Sift up.
        let child = size++;
        while (child > 0) {
          const parent = (child - 1) >> 1;
          const parentDoc = heapDocs[parent];
          const parentScore = heapScores[parent];
          if (parentScore < score || (parentScore === score && order[parentDoc] < order[doc])) break;
          heapDocs[child] = parentDoc;
          heapScores[child] = parentScore;
          child = parent;
        }
        heapDocs[child] = doc;
        heapScores[child] = score;
      } else {
        const rootScore = heapScores[0];
        if (score < rootScore || (score === rootScore && order[doc] < order[heapDocs[0]])) continue;
        siftDown(heapDocs, heapScores, size, order, doc, score);
      }
    }
    // Pop the weakest repeatedly, filling the output from the back.
    const docs = new Uint32Array(size);
    const scores = new Float32Array(size);
    for (let last = size - 1; last >= 0; last--) {
      docs[last] = heapDocs[0];
      scores[last] = heapScores[0];
      if (last > 0) siftDown(heapDocs, heapScores, last, order, heapDocs[last], heapScores[last]);
    }
    return { docs, scores };
  }
}

/** Places (doc, score) at the root of a min-heap of `size` entries and sifts it down. */
function siftDown(heapDocs: Uint32Array, heapScores: Float32Array, size: number, order: Uint32Array, doc: number, score: number): void {
  let parent = 0;
  while (true) {
    let child = 2 * parent + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size) {
      const cs = heapScores[child];
      const rs = heapScores[right];
      if (rs < cs || (rs === cs && order[heapDocs[right]] < order[heapDocs[child]])) child = right;
    }
    const childScore = heapScores[child];
    const childDoc = heapDocs[child];
    if (score < childScore || (score === childScore && order[doc] < order[childDoc])) break;
    heapDocs[parent] = childDoc;
    heapScores[parent] = childScore;
    parent = child;
  }
  heapDocs[parent] = doc;
  heapScores[parent] = score;
}

/**
 * Rearranges keys[0, length) so that its `count` largest values come first (in no
 * particular order). Iterative quickselect with median-of-three pivots; keys are distinct.
 */
export function selectLargest(keys: Float64Array, length: number, count: number): void {
  let left = 0;
  let right = length - 1;
  const target = count - 1; // the position that must hold the count-th largest
  while (right > left) {
    const middle = (left + right) >>> 1;
    // Median of three as the pivot, moved to `right`.
    let a = keys[left];
    let b = keys[middle];
    const c = keys[right];
    if (a < b) [a, b] = [b, a];
    const pivot = c > a ? a : c < b ? b : c;
    const pivotAt = pivot === keys[left] ? left : pivot === keys[middle] ? middle : right;
    keys[pivotAt] = keys[right];
    keys[right] = pivot;
    // Partition descending: values greater than the pivot to the left.
    let store = left;
    for (let i = left; i < right; i++) {
      const value = keys[i];
      if (value > pivot) {
        keys[i] = keys[store];
        keys[store++] = value;
      }
    }
    keys[right] = keys[store];
    keys[store] = pivot;
    if (store === target) return;
    if (store < target) left = store + 1;
    else right = store - 1;
  }
}
