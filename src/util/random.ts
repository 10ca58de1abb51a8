/**
 * Seeded randomness and stable hashing. Every random choice in genir goes through
 * these so that the same command gives the same numbers on any machine.
 */

/** FNV-1a 64-bit hash of a UTF-8 string, as a bigint; stable across runs and platforms. */
export function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

const MASK64 = 0xffffffffffffffffn;

/**
 * MurmurHash3's 64-bit finalizer: every input bit affects every output bit. FNV-1a alone
 * leaves its high bits poorly mixed for keys that differ only near the end (`q1`, `q2`, …
 * or SQuAD's hex ids), which skewed hash-based splits by several standard deviations.
 */
export function mix64(hash: bigint): bigint {
  let h = hash & MASK64;
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & MASK64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & MASK64;
  h ^= h >> 33n;
  return h;
}

/** A value in [0, 1) derived from `seed` and `key` only, uniform across keys. */
export function hashUnit(seed: number, key: string): number {
  const h = mix64(fnv1a64(`${seed}\u0000${key}`));
  return Number(h >> 11n) / 2 ** 53;
}

/** Small fast PRNG (mulberry32) with a 32-bit seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** Internal state, for bit-exact resume. */
  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }
}
