import type { RunEntry } from '../data/types.js';
import { analyzerFromSpec } from '../text/analyzers/index.js';
import type { Analyzer } from '../text/analyzers/types.js';
import { termFrontiers, type TermFrontiers } from './bounds.js';
import { PackedKeySorter } from './radix-sort.js';
import { LENGTH_TABLE } from './small-float.js';
import { DEFAULT_BM25_PARAMS, type Bm25Params, type FieldPostings, type IndexData, type SearchHits, type SearchQuery } from './types.js';

const fround = Math.fround;

/**
 * Whether a float64's high 32-bit word follows its low word in memory. The packed keys write
 * the two words through a Uint32Array view, so they need it; other machines use the heap.
 */
const LOW_WORD_FIRST = new Uint32Array(new Float64Array([1]).buffer)[1] === 0x3ff00000;

/**
 * How a searcher finds the top k: `exhaustive` scores every posting of every query term;
 * `always` prunes with MaxScore whenever that is exact (tests); `auto` prunes where the
 * query's postings are long against k (see gatherPruned). Every mode returns the same hits.
 */
export type PruningMode = 'auto' | 'exhaustive' | 'always';

/** Counts of work done (they do not depend on the machine's load), summed over queries. */
export interface SearchStats {
  queries: number;
  /** Queries whose non-essential terms were only looked up for candidates. */
  pruned: number;
  /** Postings scored by scanning a term's list. */
  postingsScored: number;
  /** Candidate look-ups in the lists of non-essential terms. */
  lookups: number;
}

/**
 * The auto mode only considers pruning when the query's postings number at least this many
 * per hit asked for, plus a floor: below it the exhaustive scan is already cheap and the
 * passes over the touched documents that pruning needs cost as much as they save (see
 * docs/benchmarks.md, session 10).
 */
export const AUTO_PRUNE_POSTINGS_PER_HIT = 8;
export const AUTO_PRUNE_MIN_POSTINGS = 4096;

/**
 * Relative margins on the pruning tests. Scores are summed exactly (gatherPruned checks it), so
 * these only absorb the final rounding to float32 (2^-24 relative) with room to spare; they
 * make a bound that equals a score, or a tie at the k-th score, always count as "may enter".
 */
const SWITCH_MARGIN = 1 + 2 ** -20;
const DROP_MARGIN = 1 + 2 ** -18;
const KTH_SCORE_DOWN = 1 - 2 ** -22;
const SMALLEST_NORMAL_FLOAT32 = 2 ** -126;

/** The BM25 score of one posting, in Lucene's float32 steps (see Bm25Searcher). */
function postingScore(weight: number, freqTimesNorm: number): number {
  return fround(weight - fround(weight / fround(1 + freqTimesNorm)));
}

/**
 * The highest score a posting of `termId` gets with this clause weight and norm cache: the
 * formula on the term's frontier, so the maximum is attained by some posting, not a margin.
 */
export function maxPostingScore(frontier: TermFrontiers, termId: number, weight: number, normCache: Float32Array): number {
  let best = 0;
  for (let i = frontier.offsets[termId]; i < frontier.offsets[termId + 1]; i++) {
    const score = postingScore(weight, fround(frontier.freqs[i] * normCache[frontier.norms[i]]));
    if (score > best) best = score;
  }
  return best;
}

/**
 * Whether every partial sum of these scores is exact in float64, so that any summation
 * order gives the exhaustive path's sum bit for bit. Every score is a float32 no smaller
 * than `smallest`, hence an integer multiple of the unit in the last place of `smallest`'s
 * binade, 2^(e − 23); all partial sums are multiples of it, no larger than `boundSum`, and
 * exactly representable while boundSum < 2^53 units.
 */
export function sumsAreExact(smallest: number, boundSum: number): boolean {
  if (!(smallest >= SMALLEST_NORMAL_FLOAT32) || !Number.isFinite(boundSum)) return false;
  let exponent = Math.floor(Math.log2(smallest));
  if (2 ** exponent > smallest) exponent--;
  else if (2 ** (exponent + 1) <= smallest) exponent++;
  return boundSum < 2 ** (exponent - 23 + 52);
}

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
 * accumulator, then a sort of packed keys or a bounded heap). One searcher owns scratch
 * buffers sized to the corpus: use one per thread.
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
  /** Document index by id rank; undefined when the keys are not packed (see collectTopK). */
  private readonly rankToDoc: Uint32Array | undefined;
  private readonly keys: Float64Array;
  /** The keys' 32-bit words: [2i] the id rank, [2i + 1] the float32 score's bits. */
  private readonly keyWords: Uint32Array;
  private readonly sorter: PackedKeySorter;
  // One float32 seen as its bits, to turn a key's high word back into a score.
  private readonly scoreSlot = new Float32Array(1);
  private readonly bitsSlot = new Uint32Array(this.scoreSlot.buffer);
  // searchEntries's hit buffers, reused and grown on demand.
  private scratchDocs = new Uint32Array(0);
  private scratchScores = new Float32Array(0);
  readonly pruning: PruningMode;
  /** Per field, the terms' score frontiers (bounds.ts); undefined when pruning is off. */
  private readonly frontiers: TermFrontiers[] | undefined;
  // One query's clauses (a term in a field) for the pruned path, grown on demand.
  private clauseStart = new Uint32Array(16);
  private clauseEnd = new Uint32Array(16);
  private clauseField = new Uint32Array(16);
  private clauseTerm = new Uint32Array(16);
  private clauseWeight = new Float64Array(16);
  private clauseBound = new Float64Array(16);
  private clauseOrder = new Uint32Array(16);
  private radixScratch = new Uint32Array(0);
  private topScores = new Float64Array(0);
  private readonly radixCounts = new Uint32Array((1 << 11) + 1);
  readonly stats: SearchStats = { queries: 0, pruned: 0, postingsScored: 0, lookups: 0 };

  /**
   * `options.packedKeys: false` forces the heap selection (used where the keys cannot be
   * packed; for tests; it also turns pruning off, which selects with the packed keys);
   * `options.pruning` picks exhaustive or pruned top-k (default `auto`). Results are the same.
   */
  constructor(
    readonly data: IndexData,
    params: Partial<Bm25Params> = {},
    analyzer?: Analyzer,
    options: { packedKeys?: boolean; pruning?: PruningMode } = {},
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
    if (LOW_WORD_FIRST && options.packedKeys !== false) {
      this.rankToDoc = new Uint32Array(docCount);
      for (let doc = 0; doc < docCount; doc++) this.rankToDoc[data.docIdOrder[doc]] = doc;
      this.keys = new Float64Array(docCount);
    } else {
      this.rankToDoc = undefined;
      this.keys = new Float64Array(0);
    }
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.sorter = new PackedKeySorter(docCount);
    this.pruning = this.rankToDoc === undefined ? 'exhaustive' : (options.pruning ?? 'auto');
    this.frontiers = this.pruning === 'exhaustive' ? undefined : data.fields.map(termFrontiers);
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
    checkK(k);
    const touchedCount = this.gather(termCounts, k);
    const size = Math.min(k, touchedCount);
    const docs = new Uint32Array(size);
    const scores = new Float32Array(size);
    this.collectTopK(touchedCount, size, docs, scores, 0);
    return { docs, scores };
  }

  /**
   * Writes a query's top-k hits into `docs` and `scores` from `offset` and returns how many
   * there are; both arrays must have room for min(k, documents) hits from `offset`. Batch
   * search uses it to fill one buffer for many queries without a pair of arrays per query.
   */
  searchInto(query: SearchQuery | string, k: number, docs: Uint32Array, scores: Float32Array, offset: number): number {
    checkK(k);
    const room = Math.min(k, this.accumulator.length);
    if (offset < 0 || offset + room > docs.length || offset + room > scores.length) {
      throw new RangeError(`searchInto needs room for ${room} hits from offset ${offset}`);
    }
    const touchedCount = this.gather(this.queryTerms(query), k);
    const size = Math.min(k, touchedCount);
    this.collectTopK(touchedCount, size, docs, scores, offset);
    return size;
  }

  /**
   * The top-k hits as run entries (document id and score, best first), built straight from
   * reused buffers: the one-query path that materialises a run pays for the entries only.
   */
  searchEntries(query: SearchQuery | string, k = 1000): RunEntry[] {
    checkK(k);
    const touchedCount = this.gather(this.queryTerms(query), k);
    const size = Math.min(k, touchedCount);
    if (this.scratchDocs.length < size) {
      this.scratchDocs = new Uint32Array(size);
      this.scratchScores = new Float32Array(size);
    }
    const docs = this.scratchDocs;
    const scores = this.scratchScores;
    this.collectTopK(touchedCount, size, docs, scores, 0);
    const docIds = this.data.docIds;
    const entries = new Array<RunEntry>(size);
    for (let i = 0; i < size; i++) entries[i] = { docId: docIds[docs[i]], score: scores[i] };
    return entries;
  }

  /**
   * Leaves in `touched` the documents the top k is chosen from, with their exact scores in the
   * accumulator, and returns how many there are: every matching document (exhaustive), or a
   * subset that provably holds the top k (pruned).
   */
  private gather(termCounts: ReadonlyMap<number, number>, k: number): number {
    this.stats.queries++;
    const clauses = this.gatherClauses(termCounts);
    if (this.frontiers !== undefined) {
      const gathered = this.gatherPruned(clauses, k, this.frontiers);
      if (gathered >= 0) return gathered;
    }
    // Exhaustive: every clause in full, in the query's term order (the order of the float64 sums).
    let touchedCount = 0;
    for (let c = 0; c < clauses; c++) touchedCount = this.scanClause(c, touchedCount);
    return touchedCount;
  }

  /**
   * Writes the query's clauses (a term in a field, with a positive weight) into the clause
   * arrays, term by term and field by field, and returns how many there are.
   */
  private gatherClauses(termCounts: ReadonlyMap<number, number>): number {
    const fields = this.data.fields;
    let clauses = 0;
    for (const [termId, count] of termCounts) {
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f];
        const start = field.offsets[termId];
        const end = field.offsets[termId + 1];
        if (end === start) continue;
        const weight = this.weightOf(count, f, end - start);
        if (!(weight > 0)) continue;
        if (clauses === this.clauseStart.length) this.growClauses();
        this.clauseStart[clauses] = start;
        this.clauseEnd[clauses] = end;
        this.clauseField[clauses] = f;
        this.clauseTerm[clauses] = termId;
        this.clauseWeight[clauses] = weight;
        clauses++;
      }
    }
    return clauses;
  }

  /**
   * MaxScore, term at a time. Each clause (a term in a field) has an exact upper bound on its
   * posting scores (from the term's frontier). Clauses are scanned in full, highest bound
   * first, into the accumulator; once k documents already score above the sum R of the bounds
   * of the clauses left, no unseen document can reach the top k, so the rest are non-essential:
   * the documents seen so far whose partial score plus R can still reach the k-th best partial
   * score become the candidates, sorted by id, and each remaining list is only searched
   * (galloping) for them. Returns −1, touching nothing, where it declines: fewer than two
   * clauses, postings too few for pruning to pay (auto), or scores whose float64 sums might
   * depend on their order (then only the exhaustive order is exact).
   */
  private gatherPruned(clauses: number, k: number, frontiers: TermFrontiers[]): number {
    let totalPostings = 0;
    for (let c = 0; c < clauses; c++) totalPostings += this.clauseEnd[c] - this.clauseStart[c];
    // The gate first, from the postings' lengths alone: a declined query pays for little more.
    if (this.pruning === 'auto' && totalPostings < AUTO_PRUNE_POSTINGS_PER_HIT * k + AUTO_PRUNE_MIN_POSTINGS) return -1;
    if (clauses < 2) return -1;
    const bound = this.clauseBound;
    let boundSum = 0;
    let smallest = Infinity;
    for (let c = 0; c < clauses; c++) {
      const f = this.clauseField[c];
      const frontier = frontiers[f];
      const normCache = this.normCaches[f];
      const weight = this.clauseWeight[c];
      const termId = this.clauseTerm[c];
      const best = maxPostingScore(frontier, termId, weight, normCache);
      bound[c] = best;
      boundSum += best;
      // The lowest score a posting can have: frequency 1 in the field's longest document.
      const lowest = postingScore(weight, normCache[frontier.maxNorm]);
      if (lowest < smallest) smallest = lowest;
    }
    if (!sumsAreExact(smallest, boundSum)) return -1;
    // Highest bound first (insertion sort: a handful of clauses); shorter list first on ties.
    const order = this.clauseOrder;
    for (let c = 0; c < clauses; c++) {
      let at = c;
      const length = this.clauseEnd[c] - this.clauseStart[c];
      while (at > 0) {
        const before = order[at - 1];
        const beforeLength = this.clauseEnd[before] - this.clauseStart[before];
        if (bound[before] > bound[c] || (bound[before] === bound[c] && beforeLength <= length)) break;
        order[at] = before;
        at--;
      }
      order[at] = c;
    }
    // Scan clauses in full while they are essential.
    let touchedCount = 0;
    let scannedBound = 0;
    let rest = boundSum;
    let restPostings = totalPostings;
    let scanned = 0;
    while (scanned < clauses) {
      const c = order[scanned++];
      touchedCount = this.scanClause(c, touchedCount);
      scannedBound += bound[c];
      rest -= bound[c];
      restPostings -= this.clauseEnd[c] - this.clauseStart[c];
      if (scanned === clauses || touchedCount < k) continue;
      const level = rest * SWITCH_MARGIN;
      // No document can be above `level` yet.
      if (!(scannedBound > level)) continue;
      // Auto: looking the rest up for candidates would cost about as much as scanning it.
      if (this.pruning === 'auto' && restPostings < touchedCount) continue;
      if (this.countAbove(touchedCount, level, k)) break;
    }
    if (scanned === clauses) return touchedCount;
    this.stats.pruned++;
    return this.lookUpCandidates(touchedCount, k, order, scanned, clauses, rest);
  }

  private growClauses(): void {
    const grow = <T extends Uint32Array | Float64Array>(array: T): T => {
      const grown = new (array.constructor as new (length: number) => T)(2 * array.length);
      grown.set(array);
      return grown;
    };
    this.clauseStart = grow(this.clauseStart);
    this.clauseEnd = grow(this.clauseEnd);
    this.clauseField = grow(this.clauseField);
    this.clauseTerm = grow(this.clauseTerm);
    this.clauseWeight = grow(this.clauseWeight);
    this.clauseBound = grow(this.clauseBound);
    this.clauseOrder = grow(this.clauseOrder);
  }

  /** Scores every posting of clause c into the accumulator; returns the new touched count. */
  private scanClause(c: number, touchedCount: number): number {
    const accumulator = this.accumulator;
    const touched = this.touched;
    const f = this.clauseField[c];
    const field = this.data.fields[f];
    const normCache = this.normCaches[f];
    const weight = this.clauseWeight[c];
    const docs = field.docs;
    const freqs = field.freqs;
    const norms = field.norms;
    const end = this.clauseEnd[c];
    for (let p = this.clauseStart[c]; p < end; p++) {
      const doc = docs[p];
      const score = fround(weight - fround(weight / fround(1 + fround(freqs[p] * normCache[norms[doc]]))));
      if (accumulator[doc] === 0) touched[touchedCount++] = doc;
      accumulator[doc] += score;
    }
    this.stats.postingsScored += end - this.clauseStart[c];
    return touchedCount;
  }

  /** Whether at least k touched documents have partial scores above `level`. */
  private countAbove(touchedCount: number, level: number, k: number): boolean {
    const accumulator = this.accumulator;
    const touched = this.touched;
    let above = 0;
    for (let i = 0; i < touchedCount; i++) {
      if (accumulator[touched[i]] > level && ++above === k) return true;
    }
    return false;
  }

  /**
   * The non-essential phase (MaxScore over the candidates). The touched documents whose
   * partial score plus `rest` can reach the k-th best partial score are the candidates; in
   * ascending id order, each one's remaining clauses are looked up, highest bound first, by
   * galloping a cursor through each list, and dropped as soon as its score so far plus the
   * bounds still to come falls below the threshold; the threshold rises to the k-th best
   * complete score seen. Survivors stay in `touched` (their accumulators hold their exact
   * scores; the dropped ones' are cleared); returns how many there are.
   */
  private lookUpCandidates(touchedCount: number, k: number, order: Uint32Array, from: number, clauses: number, rest: number): number {
    const accumulator = this.accumulator;
    const touched = this.touched;
    // The k-th best partial score, from packed keys (float32 score bits, touched position):
    // distinct keys keep the quickselect linear however many partial scores tie.
    const keyWords = this.keyWords;
    const scoreSlot = this.scoreSlot;
    const bitsSlot = this.bitsSlot;
    for (let i = 0; i < touchedCount; i++) {
      scoreSlot[0] = accumulator[touched[i]];
      keyWords[2 * i] = i;
      keyWords[2 * i + 1] = bitsSlot[0];
    }
    selectLargest(this.keys, touchedCount, k);
    let kth = Infinity;
    for (let i = 0; i < k; i++) {
      bitsSlot[0] = keyWords[2 * i + 1];
      if (scoreSlot[0] < kth) kth = scoreSlot[0];
    }
    // The float32 rounding may have lifted it: k partial scores are at least this.
    let threshold = kth * KTH_SCORE_DOWN;
    const candidates = this.keepCandidates(touchedCount, rest, threshold);
    this.sortCandidates(candidates);

    const late = clauses - from;
    const lateDocs: Uint32Array[] = [];
    const lateFreqs: (Uint16Array | Uint32Array)[] = [];
    const lateNorms: Uint8Array[] = [];
    const lateCaches: Float32Array[] = [];
    const lateWeights: number[] = [];
    const lateEnds: number[] = [];
    const cursors: number[] = [];
    // lateRest[j]: the bounds of late clauses j, j + 1, …; lateRest[late] = 0.
    const lateRest: number[] = new Array<number>(late + 1).fill(0);
    for (let j = 0; j < late; j++) {
      const c = order[from + j];
      const field = this.data.fields[this.clauseField[c]];
      lateDocs.push(field.docs);
      lateFreqs.push(field.freqs);
      lateNorms.push(field.norms);
      lateCaches.push(this.normCaches[this.clauseField[c]]);
      lateWeights.push(this.clauseWeight[c]);
      lateEnds.push(this.clauseEnd[c]);
      cursors.push(this.clauseStart[c]);
    }
    for (let j = late - 1; j >= 0; j--) lateRest[j] = lateRest[j + 1] + this.clauseBound[order[from + j]];
    if (this.topScores.length < k) this.topScores = new Float64Array(Math.max(k, 2 * this.topScores.length));
    const heap = this.topScores;
    let heapSize = 0;
    let kept = 0;
    let lookups = 0;
    for (let i = 0; i < candidates; i++) {
      const doc = touched[i];
      let score = accumulator[doc];
      let dropped = false;
      for (let j = 0; ; j++) {
        if ((score + lateRest[j]) * DROP_MARGIN < threshold) {
          dropped = true;
          break;
        }
        if (j === late) break;
        const docs = lateDocs[j];
        const end = lateEnds[j];
        let p = cursors[j];
        if (p < end && docs[p] < doc) {
          // Gallop to a position at or past doc, then binary-search the last step.
          let low = p;
          let step = 1;
          let high = p + 1;
          while (high < end && docs[high] < doc) {
            low = high;
            step *= 2;
            high = low + step;
          }
          if (high > end) high = end;
          // docs[low] < doc, and docs[high] >= doc or high = end.
          while (high - low > 1) {
            const mid = (low + high) >>> 1;
            if (docs[mid] < doc) low = mid;
            else high = mid;
          }
          p = high;
        }
        lookups++;
        if (p < end && docs[p] === doc) {
          const weight = lateWeights[j];
          score += postingScore(weight, fround(lateFreqs[j][p] * lateCaches[j][lateNorms[j][doc]]));
          p++;
        }
        cursors[j] = p;
      }
      if (dropped) {
        accumulator[doc] = 0;
        continue;
      }
      accumulator[doc] = score;
      touched[kept++] = doc;
      // A min-heap of the k best complete scores: its root bounds the final k-th score from below.
      if (heapSize < k) {
        let child = heapSize++;
        while (child > 0) {
          const parent = (child - 1) >> 1;
          if (heap[parent] <= score) break;
          heap[child] = heap[parent];
          child = parent;
        }
        heap[child] = score;
      } else if (score > heap[0]) {
        let parent = 0;
        while (true) {
          let child = 2 * parent + 1;
          if (child >= heapSize) break;
          if (child + 1 < heapSize && heap[child + 1] < heap[child]) child++;
          if (heap[child] >= score) break;
          heap[parent] = heap[child];
          parent = child;
        }
        heap[parent] = score;
      } else continue;
      if (heapSize === k && heap[0] * KTH_SCORE_DOWN > threshold) threshold = heap[0] * KTH_SCORE_DOWN;
    }
    this.stats.lookups += lookups;
    return kept;
  }

  /**
   * Sorts the first `count` touched documents ascending: a least-significant-digit radix sort
   * (passes of up to 11 bits over the bits a document index needs), several times faster than
   * the typed-array sort at the thousands of candidates a query has.
   */
  private sortCandidates(count: number): void {
    if (this.radixScratch.length < count) this.radixScratch = new Uint32Array(Math.max(count, 2 * this.radixScratch.length));
    let from: Uint32Array = this.touched;
    let to: Uint32Array = this.radixScratch;
    const bits = 32 - Math.clz32(Math.max(1, this.accumulator.length - 1));
    const passes = Math.ceil(bits / 11);
    const digitBits = Math.ceil(bits / passes);
    const buckets = this.radixCounts;
    const mask = (1 << digitBits) - 1;
    for (let pass = 0, shift = 0; pass < passes; pass++, shift += digitBits) {
      buckets.fill(0, 0, mask + 2);
      for (let i = 0; i < count; i++) buckets[((from[i] >>> shift) & mask) + 1]++;
      for (let d = 1; d <= mask + 1; d++) buckets[d] += buckets[d - 1];
      for (let i = 0; i < count; i++) {
        const id = from[i];
        to[buckets[(id >>> shift) & mask]++] = id;
      }
      [from, to] = [to, from];
    }
    if (from !== this.touched) this.touched.set(from.subarray(0, count));
  }

  /** Keeps (in order) the first `count` touched documents whose score plus `rest` may reach `threshold`. */
  private keepCandidates(count: number, rest: number, threshold: number): number {
    const accumulator = this.accumulator;
    const touched = this.touched;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const doc = touched[i];
      if ((accumulator[doc] + rest) * DROP_MARGIN >= threshold) touched[kept++] = doc;
      else accumulator[doc] = 0;
    }
    return kept;
  }

  /** A clause's weight as Lucene computes it in float32: the term's count × field weight, times its idf. */
  private weightOf(count: number, field: number, docFreq: number): number {
    const boost = fround(count * this.fieldWeights[field]);
    return fround(boost * bm25Idf(docFreq, this.data.fields[field].docCount));
  }

  /**
   * Writes the `size` best touched documents (score, then higher id first) into docs/scores
   * from `offset`, and clears the accumulator. Each candidate becomes one float64 key whose
   * high word is its float32 score's bits and whose low word is its id rank: scores are
   * non-negative, so their bits order like their values, and a float64 with a clear sign
   * bit and an exponent below all ones (a float32's bits shifted up cannot reach it) orders
   * like its 64 bits. The candidates are then distinct numbers in ranking order: a
   * quickselect and a radix sort of the keys (radix-sort.ts; the native typed-array sort for
   * few keys) replace a comparator-driven heap, and unpacking reads the two words back without
   * arithmetic.
   */
  private collectTopK(touchedCount: number, size: number, outDocs: Uint32Array, outScores: Float32Array, offset: number): void {
    const rankToDoc = this.rankToDoc;
    if (rankToDoc === undefined) {
      this.collectTopKWithHeap(touchedCount, size, outDocs, outScores, offset);
      return;
    }
    const accumulator = this.accumulator;
    const touched = this.touched;
    const order = this.data.docIdOrder;
    const keyWords = this.keyWords;
    const scoreSlot = this.scoreSlot;
    const bitsSlot = this.bitsSlot;
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      scoreSlot[0] = accumulator[doc];
      accumulator[doc] = 0;
      keyWords[2 * i] = order[doc];
      keyWords[2 * i + 1] = bitsSlot[0];
    }
    if (size === 0) return;
    const keys = this.keys;
    if (touchedCount > size) selectLargest(keys, touchedCount, size);
    this.sorter.sort(keys, keyWords, size);
    for (let i = 0; i < size; i++) {
      const at = 2 * (size - 1 - i);
      outDocs[offset + i] = rankToDoc[keyWords[at]];
      bitsSlot[0] = keyWords[at + 1];
      outScores[offset + i] = scoreSlot[0];
    }
  }

  /**
   * The same selection with a bounded min-heap kept in the output range itself, then sorted
   * in place by popping the weakest to the back (heapsort).
   */
  private collectTopKWithHeap(touchedCount: number, capacity: number, heapDocs: Uint32Array, heapScores: Float32Array, base: number): void {
    const accumulator = this.accumulator;
    const touched = this.touched;
    const order = this.data.docIdOrder;
    // Min-heap on (score, id order): the root is the weakest of the best `capacity` so far.
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
          const parentDoc = heapDocs[base + parent];
          const parentScore = heapScores[base + parent];
          if (parentScore < score || (parentScore === score && order[parentDoc] < order[doc])) break;
          heapDocs[base + child] = parentDoc;
          heapScores[base + child] = parentScore;
          child = parent;
        }
        heapDocs[base + child] = doc;
        heapScores[base + child] = score;
      } else {
        const rootScore = heapScores[base];
        if (score < rootScore || (score === rootScore && order[doc] < order[heapDocs[base]])) continue;
        siftDown(heapDocs, heapScores, base, size, order, doc, score);
      }
    }
    // Pop the weakest repeatedly to the back, leaving the range best first.
    for (let last = size - 1; last > 0; last--) {
      const doc = heapDocs[base + last];
      const score = heapScores[base + last];
      heapDocs[base + last] = heapDocs[base];
      heapScores[base + last] = heapScores[base];
      siftDown(heapDocs, heapScores, base, last, order, doc, score);
    }
  }
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
}

/** Places (doc, score) at the root of the min-heap of `size` entries from `base` and sifts it down. */
function siftDown(
  heapDocs: Uint32Array,
  heapScores: Float32Array,
  base: number,
  size: number,
  order: Uint32Array,
  doc: number,
  score: number,
): void {
  let parent = 0;
  while (true) {
    let child = 2 * parent + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size) {
      const cs = heapScores[base + child];
      const rs = heapScores[base + right];
      if (rs < cs || (rs === cs && order[heapDocs[base + right]] < order[heapDocs[base + child]])) child = right;
    }
    const childScore = heapScores[base + child];
    const childDoc = heapDocs[base + child];
    if (score < childScore || (score === childScore && order[doc] < order[childDoc])) break;
    heapDocs[base + parent] = childDoc;
    heapScores[base + parent] = childScore;
    parent = child;
  }
  heapDocs[base + parent] = doc;
  heapScores[base + parent] = score;
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
