/**
 * DDRO's stratified hard-negative sampling: from a ranking of the corpus for a training
 * query (BM25 top 1000), draw 10 documents from ranks 1–100, 10 from 101–500 and 12 from
 * 501–1000, never a relevant one.
 *
 * Smaller corpora: when the corpus has N < 1000 documents, the ranking holds L = N documents
 * and every band boundary is scaled by L / 1000 (band [a, b] becomes
 * [⌊(a − 1)·L/1000⌋ + 1, ⌊b·L/1000⌋]), so the bands keep their share of the ranking:
 * the top 10 %, the next 40 % and the bottom half. The counts stay 10 / 10 / 12, capped by
 * the non-relevant documents a band holds; a band that scales to nothing is dropped. On
 * XQuAD's 240 paragraphs the bands are ranks 1–24, 25–120 and 121–240.
 */
import { Rng, fnv1a64, mix64 } from '../../../util/random.js';

/** Ranks `from` … `to` (1-based, inclusive) and how many negatives to draw from them. */
export interface NegativeBand {
  from: number;
  to: number;
  count: number;
}

export const DDRO_DEPTH = 1000;

export const DDRO_BANDS: readonly NegativeBand[] = [
  { from: 1, to: 100, count: 10 },
  { from: 101, to: 500, count: 10 },
  { from: 501, to: 1000, count: 12 },
];

/** The bands for a ranking of `length` documents (the rule in the header); unchanged when length ≥ depth. */
export function scaleBands(bands: readonly NegativeBand[], depth: number, length: number): NegativeBand[] {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`scaleBands: length must be a non-negative integer, got ${length}`);
  if (length >= depth) return bands.map((band) => ({ ...band }));
  const scaled: NegativeBand[] = [];
  for (const band of bands) {
    const from = Math.floor(((band.from - 1) * length) / depth) + 1;
    const to = Math.floor((band.to * length) / depth);
    if (to >= from) scaled.push({ from, to, count: band.count });
  }
  return scaled;
}

/** A sampled negative: its key and its 1-based rank in the ranking it came from. */
export interface RankedNegative {
  key: string;
  rank: number;
}

/** A generator seeded by (seed, name) only, so one query's draws do not depend on the others. */
export function keyedRng(seed: number, name: string): Rng {
  return new Rng(Number(mix64(fnv1a64(`${seed}\u0000${name}`)) & 0xffffffffn));
}

/**
 * Draws each band's count of non-relevant documents uniformly from the band (all of them
 * when it holds fewer), returned in rank order. `ranking` is best first.
 */
export function sampleStratified(
  ranking: readonly string[],
  positives: ReadonlySet<string>,
  bands: readonly NegativeBand[],
  rng: Rng,
): RankedNegative[] {
  const out: RankedNegative[] = [];
  for (const band of bands) {
    const candidates: number[] = [];
    for (let rank = band.from; rank <= Math.min(band.to, ranking.length); rank++) {
      if (!positives.has(ranking[rank - 1])) candidates.push(rank);
    }
    const take = Math.min(band.count, candidates.length);
    // Partial Fisher–Yates: the first `take` slots become a uniform random subset.
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(candidates.length - i);
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    for (const rank of candidates.slice(0, take).sort((a, b) => a - b)) out.push({ key: ranking[rank - 1], rank });
  }
  return out;
}
