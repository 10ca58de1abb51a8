/**
 * BPE training over Metaspace words. Words are counted once each (a Map from word to
 * frequency), laid out in one flat array of symbols linked per word, and every pair keeps
 * its count and the positions where it occurs, so a merge only touches the occurrences of
 * the merged pair and their neighbours (no recounting of the corpus).
 */
import { UserError } from '../../util/errors.js';
import { AddedTokenSplitter, forEachWord, METASPACE } from './pretokenize.js';
import { byteToken, docidToken, SPECIAL_TOKENS, type TokenizerModelSpec } from './spec.js';

export interface TrainTokenizerOptions {
  /** Ids for specials, the 256 byte tokens, characters and merges; docid tokens come on top. */
  vocabSize: number;
  /** Number of `<docid_i>` tokens appended after the subword vocabulary (default 0). */
  reservedDocidTokens?: number;
  /**
   * Share of character occurrences the base alphabet must cover (default 0.9995, as
   * SentencePiece); rarer characters are encoded as UTF-8 byte tokens.
   */
  characterCoverage?: number;
  /** Longest merged token, in code points (default 16, as SentencePiece). */
  maxPieceLength?: number;
  /** Pairs seen fewer times than this are never merged (default 2). */
  minFrequency?: number;
  /**
   * Let merges join letters, digits, punctuation/symbols and other characters (default
   * false). Kept apart as in SentencePiece, so `word,` is `word` + `,` and `3rd` is `3` + `rd`.
   */
  mergeAcrossCharClasses?: boolean;
}

/** Ids are below 2^21, so (left, right) packs exactly into one double. */
const ID_LIMIT = 1 << 21;
const NO_SYMBOL = -1;

/** Character classes that merges keep apart; `▁` joins any of them. */
const enum CharClass {
  Metaspace = 0,
  Letter = 1,
  Digit = 2,
  Punctuation = 3,
  Other = 4,
}

function charClass(char: string): CharClass {
  if (char === METASPACE) return CharClass.Metaspace;
  if (/\p{N}/u.test(char)) return CharClass.Digit;
  if (/[\p{P}\p{S}]/u.test(char)) return CharClass.Punctuation;
  if (/[\p{L}\p{M}]/u.test(char)) return CharClass.Letter;
  return CharClass.Other;
}

/** Counts Metaspace words of all texts (added tokens in a text are cut out, as when encoding). */
function countWords(texts: Iterable<string>, splitter: AddedTokenSplitter): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (word: string): void => {
    counts.set(word, (counts.get(word) ?? 0) + 1);
  };
  for (const text of texts) {
    if (splitter.mayContainToken(text)) {
      for (const section of splitter.split(text)) if (section.addedIndex < 0) forEachWord(section.text, add);
    } else {
      forEachWord(text, add);
    }
  }
  return counts;
}

/** Most frequent characters first (ties by code point) until `coverage` of all occurrences. */
function chooseAlphabet(words: Map<string, number>, coverage: number, room: number): string[] {
  const charCounts = new Map<string, number>();
  let total = 0;
  for (const [word, count] of words) {
    for (const char of word) {
      charCounts.set(char, (charCounts.get(char) ?? 0) + count);
      total += count;
    }
  }
  const ranked = [...charCounts].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!);
  const alphabet: string[] = [];
  let covered = 0;
  for (const [char, count] of ranked) {
    if (alphabet.length >= room) break;
    if (alphabet.length > 0 && covered >= coverage * total) break;
    alphabet.push(char);
    covered += count;
  }
  // The word separator must be a token, or every word would start with byte tokens.
  if (!alphabet.includes(METASPACE)) {
    if (alphabet.length >= room) alphabet.pop();
    alphabet.push(METASPACE);
  }
  return alphabet;
}

/** Growable list of symbol positions for one pair. */
interface Occurrences {
  positions: Int32Array;
  length: number;
}

class PairStats {
  readonly index = new Map<number, number>();
  readonly lefts: number[] = [];
  readonly rights: number[] = [];
  readonly counts: number[] = [];
  readonly occurrences: Occurrences[] = [];
  /** Last merge step that changed each pair's count, to queue each changed pair once. */
  readonly touched: number[] = [];

  id(left: number, right: number): number {
    const key = left * ID_LIMIT + right;
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.lefts.length;
      this.index.set(key, id);
      this.lefts.push(left);
      this.rights.push(right);
      this.counts.push(0);
      this.occurrences.push({ positions: new Int32Array(2), length: 0 });
      this.touched.push(-1);
    }
    return id;
  }

  addPosition(pair: number, position: number): void {
    const occ = this.occurrences[pair];
    if (occ.length === occ.positions.length) {
      const grown = new Int32Array(occ.positions.length * 2);
      grown.set(occ.positions);
      occ.positions = grown;
    }
    occ.positions[occ.length++] = position;
  }
}

/** Max-heap of (count, pair) with lazy deletion: entries whose count is stale are skipped. */
class CountHeap {
  private counts: number[] = [];
  private pairs: number[] = [];

  constructor(private readonly stats: PairStats) {}

  get size(): number {
    return this.counts.length;
  }

  /** Higher count first; ties go to the smaller (left id, right id), so training is deterministic. */
  private before(a: number, b: number): boolean {
    const ca = this.counts[a];
    const cb = this.counts[b];
    if (ca !== cb) return ca > cb;
    const pa = this.pairs[a];
    const pb = this.pairs[b];
    const la = this.stats.lefts[pa];
    const lb = this.stats.lefts[pb];
    if (la !== lb) return la < lb;
    return this.stats.rights[pa] < this.stats.rights[pb];
  }

  private swap(a: number, b: number): void {
    const c = this.counts[a];
    this.counts[a] = this.counts[b];
    this.counts[b] = c;
    const p = this.pairs[a];
    this.pairs[a] = this.pairs[b];
    this.pairs[b] = p;
  }

  push(count: number, pair: number): void {
    let i = this.counts.length;
    this.counts.push(count);
    this.pairs.push(pair);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the top entry and returns [count, pair]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.pairs[0]];
    const lastCount = this.counts.pop()!;
    const lastPair = this.pairs.pop()!;
    const n = this.counts.length;
    if (n > 0) {
      this.counts[0] = lastCount;
      this.pairs[0] = lastPair;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < n && this.before(l, best)) best = l;
        if (r < n && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/** The vocabulary sizes trainBpe accepts: room for the specials, the 256 byte tokens and at least one more token. */
export function vocabSizeLimits(reservedDocidTokens = 0): { min: number; max: number } {
  return { min: SPECIAL_TOKENS.length + 256 + 1, max: ID_LIMIT - 1 - reservedDocidTokens };
}

/**
 * Learns a byte-fallback BPE vocabulary from `texts`. The result is deterministic for the
 * same texts and options (no random choices: ties go to the smaller token ids).
 */
export function trainBpe(texts: Iterable<string>, options: TrainTokenizerOptions): TokenizerModelSpec {
  const docidCount = options.reservedDocidTokens ?? 0;
  const coverage = options.characterCoverage ?? 0.9995;
  const maxPieceLength = options.maxPieceLength ?? 16;
  const minFrequency = options.minFrequency ?? 2;
  const baseSize = SPECIAL_TOKENS.length + 256;
  const limits = vocabSizeLimits(docidCount);
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < limits.min || options.vocabSize > limits.max) {
    throw new UserError(`tokenizer: vocabSize must be an integer from ${limits.min} to ${limits.max}, got ${options.vocabSize}`);
  }
  if (!Number.isInteger(docidCount) || docidCount < 0)
    throw new UserError(`tokenizer: reservedDocidTokens must be a non-negative integer, got ${docidCount}`);
  if (!(coverage > 0 && coverage <= 1)) throw new UserError(`tokenizer: characterCoverage must be in (0, 1], got ${coverage}`);
  if (!Number.isInteger(maxPieceLength) || maxPieceLength < 2)
    throw new UserError(`tokenizer: maxPieceLength must be an integer ≥ 2, got ${maxPieceLength}`);
  if (!(minFrequency >= 1)) throw new UserError(`tokenizer: minFrequency must be ≥ 1, got ${minFrequency}`);

  const docidTokens = Array.from({ length: docidCount }, (_, i) => docidToken(i));
  const reservedTokens = [...SPECIAL_TOKENS, ...docidTokens];
  const words = countWords(texts, new AddedTokenSplitter(reservedTokens));

  const vocab: string[] = [...SPECIAL_TOKENS];
  for (let byte = 0; byte < 256; byte++) vocab.push(byteToken(byte));
  const alphabet = chooseAlphabet(words, coverage, options.vocabSize - baseSize);
  vocab.push(...alphabet);
  const idOf = new Map<string, number>();
  vocab.forEach((token, id) => idOf.set(token, id));
  // Merges must never produce a string that already names a special, byte or docid token.
  const forbidden = new Set<string>([...vocab.slice(0, baseSize), ...docidTokens]);
  const pieceLength: number[] = vocab.map((token, id) => (id < baseSize ? maxPieceLength + 1 : [...token].length));
  const mixClasses = options.mergeAcrossCharClasses ?? false;
  const tokenClass: CharClass[] = vocab.map((token, id) => (id < baseSize ? CharClass.Other : charClass(token)));

  // Flat symbol array: words one after another, linked by prev/next within a word.
  let totalSymbols = 0;
  for (const word of words.keys()) totalSymbols += word.length;
  const symbols = new Int32Array(totalSymbols);
  const prev = new Int32Array(totalSymbols);
  const next = new Int32Array(totalSymbols);
  const weight = new Float64Array(totalSymbols);
  let used = 0;
  for (const [word, count] of words) {
    const start = used;
    for (const char of word) {
      symbols[used] = idOf.get(char) ?? NO_SYMBOL;
      weight[used] = count;
      prev[used] = used === start ? -1 : used - 1;
      next[used] = used + 1;
      used++;
    }
    next[used - 1] = -1;
  }

  const stats = new PairStats();
  // `▁` only ever starts a word, so it is only ever on the left of a pair.
  const canPair = (left: number, right: number): boolean =>
    left >= 0 &&
    right >= 0 &&
    pieceLength[left] + pieceLength[right] <= maxPieceLength &&
    (mixClasses || tokenClass[left] === CharClass.Metaspace || tokenClass[left] === tokenClass[right]);
  for (let pos = 0; pos < used; pos++) {
    const after = next[pos];
    if (after < 0 || !canPair(symbols[pos], symbols[after])) continue;
    const pair = stats.id(symbols[pos], symbols[after]);
    stats.counts[pair] += weight[pos];
    stats.addPosition(pair, pos);
  }
  const heap = new CountHeap(stats);
  for (let pair = 0; pair < stats.counts.length; pair++) heap.push(stats.counts[pair], pair);

  const merges: Array<[number, number]> = [];
  const changed: number[] = [];
  let step = 0;
  const adjust = (left: number, right: number, delta: number, position: number): void => {
    if (!canPair(left, right)) return;
    const pair = stats.id(left, right);
    stats.counts[pair] += delta;
    if (delta > 0) stats.addPosition(pair, position);
    if (stats.touched[pair] !== step) {
      stats.touched[pair] = step;
      changed.push(pair);
    }
  };

  while (vocab.length < options.vocabSize && heap.size > 0) {
    const [count, pair] = heap.pop();
    if (count !== stats.counts[pair] || count <= 0) continue;
    if (count < minFrequency) break;
    const left = stats.lefts[pair];
    const right = stats.rights[pair];
    const mergedText = vocab[left] + vocab[right];
    if (forbidden.has(mergedText)) {
      stats.counts[pair] = -Infinity;
      continue;
    }
    let merged = idOf.get(mergedText);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(mergedText);
      idOf.set(mergedText, merged);
      pieceLength.push(pieceLength[left] + pieceLength[right]);
      tokenClass.push(tokenClass[left] === CharClass.Metaspace ? tokenClass[right] : tokenClass[left]);
    }
    merges.push([left, right]);
    step++;
    changed.length = 0;
    const occ = stats.occurrences[pair];
    // Left to right, so overlapping pairs (a a a) merge as the encoder merges them.
    const positions = occ.positions.subarray(0, occ.length).sort();
    for (const pos of positions) {
      const after = next[pos];
      if (symbols[pos] !== left || after < 0 || symbols[after] !== right) continue;
      const w = weight[pos];
      const before = prev[pos];
      const afterNext = next[after];
      if (before >= 0) {
        adjust(symbols[before], left, -w, before);
        adjust(symbols[before], merged, w, before);
      }
      if (afterNext >= 0) {
        adjust(right, symbols[afterNext], -w, pos);
        adjust(merged, symbols[afterNext], w, pos);
        prev[afterNext] = pos;
      }
      symbols[pos] = merged;
      next[pos] = afterNext;
      symbols[after] = -2;
    }
    stats.counts[pair] = 0;
    stats.occurrences[pair] = { positions: new Int32Array(0), length: 0 };
    for (const changedPair of changed) {
      if (changedPair !== pair && stats.counts[changedPair] > 0) heap.push(stats.counts[changedPair], changedPair);
    }
  }

  return { vocab, merges, docidCount };
}
