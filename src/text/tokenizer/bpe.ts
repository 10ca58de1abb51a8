/**
 * Applying BPE merges to one word. The rule is the one HF tokenizers (Rust and JS) use:
 * repeatedly merge the adjacent pair with the lowest merge rank, the leftmost one among
 * equals, until no adjacent pair has a merge. Characters outside the vocabulary are never
 * merged and come out as their UTF-8 byte tokens (byte fallback).
 */

/** Open-addressing hash map from a (left id, right id) pair to a merge rank. */
export class MergeTable {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;

  /** `pairs[r]` is merge `r`'s (left, right); the first occurrence of a pair wins. */
  constructor(pairs: ReadonlyArray<readonly [number, number]>) {
    let capacity = 16;
    while (capacity < pairs.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.lefts = new Int32Array(capacity).fill(-1);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    pairs.forEach(([left, right], rank) => {
      let slot = MergeTable.hash(left, right) & this.mask;
      while (this.lefts[slot] !== -1) {
        if (this.lefts[slot] === left && this.rights[slot] === right) return;
        slot = (slot + 1) & this.mask;
      }
      this.lefts[slot] = left;
      this.rights[slot] = right;
      this.ranks[slot] = rank;
    });
  }

  private static hash(left: number, right: number): number {
    return Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca6b);
  }

  /** The merge rank of (left, right), or -1 when there is none (or either side is -1). */
  rank(left: number, right: number): number {
    if (left < 0 || right < 0) return -1;
    let slot = MergeTable.hash(left, right) & this.mask;
    for (;;) {
      const stored = this.lefts[slot];
      if (stored === -1) return -1;
      if (stored === left && this.rights[slot] === right) return this.ranks[slot];
      slot = (slot + 1) & this.mask;
    }
  }
}

/** A growable Int32 buffer (encode output). */
export class IdBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 256) {
    this.data = new Int32Array(capacity);
  }

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: Int32Array): void {
    if (this.length + ids.length > this.data.length) this.grow(this.length + ids.length);
    this.data.set(ids, this.length);
    this.length += ids.length;
  }

  private grow(minimum: number): void {
    let capacity = this.data.length * 2;
    while (capacity < minimum) capacity *= 2;
    const next = new Int32Array(capacity);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Words up to this many symbols use the array scan; longer ones the heap (O(n log n)). */
const SCAN_LIMIT = 48;

/** Appends the UTF-8 bytes of code point `cp` (lone surrogates as U+FFFD, like TextEncoder). */
export function utf8Bytes(cp: number, out: number[]): void {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

/** Encodes single words with a fixed vocabulary of characters and merges. */
export class WordEncoder {
  /** Token id of each BMP code point, or -1. */
  private readonly bmpIds = new Int32Array(0x10000).fill(-1);
  private readonly astralIds = new Map<number, number>();
  private symbols = new Int32Array(64);
  private codePoints = new Int32Array(64);
  private pairRanks = new Int32Array(64);
  private prev = new Int32Array(64);
  private next = new Int32Array(64);
  private readonly heap = new RankHeap();
  private readonly byteScratch: number[] = [];

  /**
   * @param charIds token id of each single-character token, by code point
   * @param merges rank → (left, right) are looked up in `table`; `mergeResults[rank]` is the merged id
   * @param byteTokenId id of the byte token `<0xNN>` is `byteTokenId + NN`
   */
  constructor(
    charIds: Map<number, number>,
    private readonly table: MergeTable,
    private readonly mergeResults: Int32Array,
    private readonly byteTokenId: number,
  ) {
    for (const [cp, id] of charIds) {
      if (cp < 0x10000) this.bmpIds[cp] = id;
      else this.astralIds.set(cp, id);
    }
  }

  /** Appends the ids of `word` to `out`. */
  encode(word: string, out: IdBuffer): void {
    const n = this.loadSymbols(word);
    if (n <= SCAN_LIMIT) this.mergeByScan(n, out);
    else this.mergeByHeap(n, out);
  }

  private loadSymbols(word: string): number {
    if (this.symbols.length < word.length) {
      const capacity = Math.max(word.length, this.symbols.length * 2);
      this.symbols = new Int32Array(capacity);
      this.codePoints = new Int32Array(capacity);
      this.pairRanks = new Int32Array(capacity);
      this.prev = new Int32Array(capacity);
      this.next = new Int32Array(capacity);
    }
    let n = 0;
    for (let i = 0; i < word.length; i++) {
      let cp = word.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < word.length) {
        const low = word.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
      this.codePoints[n] = cp;
      this.symbols[n] = cp < 0x10000 ? this.bmpIds[cp] : (this.astralIds.get(cp) ?? -1);
      n++;
    }
    return n;
  }

  private emit(symbol: number, index: number, out: IdBuffer): void {
    if (symbol >= 0) {
      out.push(symbol);
      return;
    }
    const bytes = this.byteScratch;
    bytes.length = 0;
    utf8Bytes(this.codePoints[index], bytes);
    for (const byte of bytes) out.push(this.byteTokenId + byte);
  }

  /** Short words: keep the rank of every adjacent pair in an array, merge the minimum. */
  private mergeByScan(n: number, out: IdBuffer): void {
    const symbols = this.symbols;
    const codePoints = this.codePoints;
    const ranks = this.pairRanks;
    for (let i = 0; i + 1 < n; i++) ranks[i] = this.table.rank(symbols[i], symbols[i + 1]);
    for (;;) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i + 1 < n; i++) {
        const rank = ranks[i];
        if (rank >= 0 && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      symbols[best] = this.mergeResults[bestRank];
      for (let i = best + 1; i + 1 < n; i++) {
        symbols[i] = symbols[i + 1];
        codePoints[i] = codePoints[i + 1];
        ranks[i] = ranks[i + 1];
      }
      n--;
      if (best > 0) ranks[best - 1] = this.table.rank(symbols[best - 1], symbols[best]);
      if (best + 1 < n) ranks[best] = this.table.rank(symbols[best], symbols[best + 1]);
    }
    for (let i = 0; i < n; i++) this.emit(symbols[i], i, out);
  }

  /** Long words (Thai, Chinese runs without spaces): linked list plus a heap of candidate merges. */
  private mergeByHeap(n: number, out: IdBuffer): void {
    const symbols = this.symbols;
    const prev = this.prev;
    const next = this.next;
    const heap = this.heap;
    heap.clear();
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (let i = 0; i + 1 < n; i++) {
      const rank = this.table.rank(symbols[i], symbols[i + 1]);
      if (rank >= 0) heap.push(rank, i, symbols[i], symbols[i + 1]);
    }
    while (heap.size > 0) {
      const rank = heap.topRank();
      const left = heap.topPosition();
      const leftId = heap.topLeft();
      const rightId = heap.topRight();
      heap.pop();
      // A symbol's id only ever grows into a longer token, so matching ids mean the pair is still there.
      const right = next[left];
      if (symbols[left] !== leftId || right < 0 || symbols[right] !== rightId) continue;
      const merged = this.mergeResults[rank];
      symbols[left] = merged;
      symbols[right] = -2;
      const after = next[right];
      next[left] = after;
      if (after >= 0) prev[after] = left;
      const before = prev[left];
      if (before >= 0) {
        const r = this.table.rank(symbols[before], merged);
        if (r >= 0) heap.push(r, before, symbols[before], merged);
      }
      if (after >= 0) {
        const r = this.table.rank(merged, symbols[after]);
        if (r >= 0) heap.push(r, left, merged, symbols[after]);
      }
    }
    for (let i = 0; i >= 0; i = next[i]) this.emit(symbols[i], i, out);
  }
}

/** Min-heap of candidate merges ordered by (rank, position). */
class RankHeap {
  private ranks: number[] = [];
  private positions: number[] = [];
  private lefts: number[] = [];
  private rights: number[] = [];
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topRank(): number {
    return this.ranks[0];
  }
  topPosition(): number {
    return this.positions[0];
  }
  topLeft(): number {
    return this.lefts[0];
  }
  topRight(): number {
    return this.rights[0];
  }

  private less(a: number, b: number): boolean {
    const ra = this.ranks[a];
    const rb = this.ranks[b];
    return ra < rb || (ra === rb && this.positions[a] < this.positions[b]);
  }

  private swap(a: number, b: number): void {
    const { ranks, positions, lefts, rights } = this;
    [ranks[a], ranks[b]] = [ranks[b], ranks[a]];
    [positions[a], positions[b]] = [positions[b], positions[a]];
    [lefts[a], lefts[b]] = [lefts[b], lefts[a]];
    [rights[a], rights[b]] = [rights[b], rights[a]];
  }

  push(rank: number, position: number, left: number, right: number): void {
    let i = this.size++;
    this.ranks[i] = rank;
    this.positions[i] = position;
    this.lefts[i] = left;
    this.rights[i] = right;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.ranks[0] = this.ranks[last];
    this.positions[0] = this.positions[last];
    this.lefts[0] = this.lefts[last];
    this.rights[0] = this.rights[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < last && this.less(l, smallest)) smallest = l;
      if (r < last && this.less(r, smallest)) smallest = r;
      if (smallest === i) break;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
