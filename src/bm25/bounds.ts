import type { FieldPostings } from './types.js';

/**
 * Per-term score bounds for dynamic pruning, independent of k1, b and the query.
 *
 * A posting's BM25 score only grows with its term frequency and shrinks with its document's
 * norm byte (every float32 step of the formula is monotone in both, for any k1 ≥ 0 and b in
 * [0, 1]). So a term's best posting score is reached on its Pareto frontier: the (frequency,
 * norm) pairs that no other posting of the term beats on both counts. Evaluating the searcher's
 * own float32 formula on those few pairs gives the term's exact maximum score (a bound that is
 * attained, not a margin), for whatever parameters a searcher uses; the frontier is computed
 * once per field from the postings, not stored in the index file.
 */
export interface TermFrontiers {
  /** Term t's frontier is [offsets[t], offsets[t + 1]), by ascending norm and frequency. */
  readonly offsets: Uint32Array;
  readonly freqs: Uint32Array;
  readonly norms: Uint8Array;
  /** The field's largest norm byte over documents with postings: its shortest-scoring length. */
  readonly maxNorm: number;
}

const cache = new WeakMap<FieldPostings, TermFrontiers>();

/** The frontiers of a field's terms (computed on first use and cached per field object). */
export function termFrontiers(field: FieldPostings): TermFrontiers {
  let frontiers = cache.get(field);
  if (frontiers === undefined) {
    frontiers = computeFrontiers(field);
    cache.set(field, frontiers);
  }
  return frontiers;
}

/** Lets a worker thread adopt frontiers its parent computed (shared, not recomputed). */
export function rememberTermFrontiers(field: FieldPostings, frontiers: TermFrontiers): void {
  cache.set(field, frontiers);
}

function sharedArray<T extends Uint8Array | Uint32Array>(ctor: new (buffer: SharedArrayBuffer) => T, bytesPer: number, length: number): T {
  return new ctor(new SharedArrayBuffer(length * bytesPer));
}

function computeFrontiers(field: FieldPostings): TermFrontiers {
  const { offsets, docs, freqs, norms } = field;
  const termCount = offsets.length - 1;
  // Highest frequency seen at each norm byte for the current term, and which bytes were seen.
  const bestAtNorm = new Uint32Array(256);
  const seen = new Uint8Array(256);
  const seenList = new Uint8Array(256);
  const frontierOffsets = sharedArray(Uint32Array, 4, termCount + 1);
  let frontierFreqs = new Uint32Array(Math.max(16, termCount * 2));
  let frontierNorms = new Uint8Array(frontierFreqs.length);
  let size = 0;
  let maxNorm = 0;
  for (let term = 0; term < termCount; term++) {
    let seenCount = 0;
    for (let p = offsets[term]; p < offsets[term + 1]; p++) {
      const norm = norms[docs[p]];
      const freq = freqs[p];
      if (seen[norm] === 0) {
        seen[norm] = 1;
        seenList[seenCount++] = norm;
        bestAtNorm[norm] = freq;
      } else if (freq > bestAtNorm[norm]) bestAtNorm[norm] = freq;
    }
    const bytes = seenList.subarray(0, seenCount).sort();
    if (size + seenCount > frontierFreqs.length) {
      const grownFreqs = new Uint32Array(2 * (size + seenCount));
      const grownNorms = new Uint8Array(grownFreqs.length);
      grownFreqs.set(frontierFreqs.subarray(0, size));
      grownNorms.set(frontierNorms.subarray(0, size));
      frontierFreqs = grownFreqs;
      frontierNorms = grownNorms;
    }
    // Ascending norm: a pair joins the frontier only if its frequency beats every shorter one's.
    let bestFreq = 0;
    for (let i = 0; i < seenCount; i++) {
      const norm = bytes[i];
      seen[norm] = 0;
      if (bestAtNorm[norm] > bestFreq) {
        bestFreq = bestAtNorm[norm];
        frontierFreqs[size] = bestFreq;
        frontierNorms[size++] = norm;
      }
    }
    if (seenCount > 0 && bytes[seenCount - 1] > maxNorm) maxNorm = bytes[seenCount - 1];
    frontierOffsets[term + 1] = size;
  }
  const sharedFreqs = sharedArray(Uint32Array, 4, size);
  sharedFreqs.set(frontierFreqs.subarray(0, size));
  const sharedNorms = sharedArray(Uint8Array, 1, size);
  sharedNorms.set(frontierNorms.subarray(0, size));
  return { offsets: frontierOffsets, freqs: sharedFreqs, norms: sharedNorms, maxNorm };
}
