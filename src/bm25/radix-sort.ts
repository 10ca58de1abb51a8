/**
 * Ascending sort of the searcher's packed top-k keys (searcher.ts, collectTopK): float64 values
 * whose low word is a document's id rank (below 2^idBits) and whose high word is the float32 bits
 * of a non-negative score. Such a float64 orders like its 64 bits read as an unsigned integer.
 * So a least-significant-digit radix sort over bytes gives the order of the native
 * `Float64Array.prototype.sort`:
 *   - it reads only the id rank's bytes that can be non-zero;
 *   - it skips a byte that every key shares;
 *   - it counts every byte's digits in one read of the keys.
 * It is ours because the native sort costs about 47 ns per key at the ~600 candidates of a short
 * squad-dev question; this sort takes about 24 ns (bench/radix-sort.ts; docs/benchmarks.md, "BM25's
 * top-k order by radix sort" and "session 13").
 */

/** Below this many keys the native sort is used: each radix pass has a fixed cost (summing 256 counts) that few keys do not repay. */
export const RADIX_MIN_KEYS = 128;

export class PackedKeySorter {
  private scratch: Float64Array;
  private scratchWords: Uint32Array;
  /** 256 counts per byte of the key (bytes 0-3: the low word, 4-7: the high word). */
  private readonly counts = new Uint32Array(256 * 8);
  /** Bytes of the low word that an id rank can occupy. */
  private readonly idBytes: number;

  /** For id ranks below `documents`. */
  constructor(documents: number) {
    const idBits = documents <= 1 ? 0 : Math.ceil(Math.log2(documents));
    this.idBytes = Math.ceil(idBits / 8);
    this.scratch = new Float64Array(0);
    this.scratchWords = new Uint32Array(0);
  }

  /** Sorts keys[0, n) ascending in place; `words` is the keys' Uint32Array view (little-endian words). */
  sort(keys: Float64Array, words: Uint32Array, n: number): void {
    if (n < RADIX_MIN_KEYS) {
      keys.subarray(0, n).sort();
      return;
    }
    if (this.scratch.length < n) {
      this.scratch = new Float64Array(Math.max(n, 2 * this.scratch.length));
      this.scratchWords = new Uint32Array(this.scratch.buffer);
    }
    // Every pass's byte counts in one read of the keys: a count does not depend on the order the
    // earlier passes leave, and one read instead of one per pass saves about a third of the sort.
    const counts = this.counts;
    counts.fill(0);
    const idBytes = this.idBytes;
    for (let i = 0; i < n; i++) {
      const low = words[2 * i];
      const high = words[2 * i + 1];
      counts[1024 + (high & 255)]++;
      counts[1280 + ((high >>> 8) & 255)]++;
      counts[1536 + ((high >>> 16) & 255)]++;
      counts[1792 + (high >>> 24)]++;
      if (idBytes > 0) {
        counts[low & 255]++;
        if (idBytes > 1) {
          counts[256 + ((low >>> 8) & 255)]++;
          if (idBytes > 2) {
            counts[512 + ((low >>> 16) & 255)]++;
            if (idBytes > 3) counts[768 + (low >>> 24)]++;
          }
        }
      }
    }
    let from = keys;
    let fromWords = words;
    let to = this.scratch;
    let toWords = this.scratchWords;
    for (let pass = 0; pass < 8; pass++) {
      const word = pass < 4 ? 0 : 1;
      if (word === 0 && pass >= idBytes) continue;
      const shift = (pass & 3) * 8;
      const base = pass * 256;
      // Every key has the same byte here: this pass would not move anything.
      if (counts[base + ((fromWords[word] >>> shift) & 255)] === n) continue;
      let start = 0;
      for (let digit = base; digit < base + 256; digit++) {
        const count = counts[digit];
        counts[digit] = start;
        start += count;
      }
      for (let i = 0; i < n; i++) to[counts[base + ((fromWords[2 * i + word] >>> shift) & 255)]++] = from[i];
      const keysBefore = from;
      from = to;
      to = keysBefore;
      const wordsBefore = fromWords;
      fromWords = toWords;
      toWords = wordsBefore;
    }
    if (from !== keys) keys.set(from.subarray(0, n));
  }
}
