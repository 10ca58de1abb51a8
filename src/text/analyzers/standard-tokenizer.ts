/**
 * Word tokenization with the semantics of Lucene's StandardTokenizer: Unicode word
 * segmentation (UAX #29), keeping only segments that contain a letter or a digit.
 *
 * Intl.Segmenter implements UAX #29 but costs about a microsecond per call and far more
 * per character than a hand-written scanner, so ASCII text — nearly all of an English
 * corpus — goes through a scanner that applies the UAX #29 rules restricted to ASCII.
 * Only a stretch of text that holds a non-ASCII character (bounded by ASCII characters
 * that always break on both sides) is handed to Intl.Segmenter. The two paths give the
 * same tokens on ASCII text; standard-tokenizer.test.ts checks that on real corpora.
 *
 * Where Lucene and ICU's segmenter differ on non-ASCII text, Lucene is followed:
 * - each Han ideograph and each Hiragana character is its own token (ICU would group
 *   them into dictionary words);
 * - segments made only of connector punctuation (`___`) are dropped.
 * Known remaining differences: runs of Thai/Lao/Khmer/Myanmar letters are split into
 * dictionary words (Lucene keeps the whole run), and emoji are dropped (Lucene 8+ emits
 * them as tokens).
 */

/** Lucene's StandardTokenizer default `maxTokenLength`; longer tokens are split at this length. */
export const MAX_TOKEN_LENGTH = 255;

// UAX #29 Word_Break classes of the ASCII characters.
const OTHER = 0; // breaks on both sides and joins nothing
const LETTER = 1; // ALetter
const DIGIT = 2; // Numeric
const CONNECTOR = 3; // ExtendNumLet: '_'
const MID_LETTER = 4; // ':' joins letters only
const MID_NUM_LET = 5; // '.' and '\'' (Single_Quote) join letters, and digits
const MID_NUM = 6; // ',' and ';' join digits only
const SOFT = 7; // '"' (Double_Quote) joins Hebrew letters; never a safe cut point

const ASCII_CLASS = new Uint8Array(128);
for (let c = 0x41; c <= 0x5a; c++) ASCII_CLASS[c] = LETTER;
for (let c = 0x61; c <= 0x7a; c++) ASCII_CLASS[c] = LETTER;
for (let c = 0x30; c <= 0x39; c++) ASCII_CLASS[c] = DIGIT;
ASCII_CLASS[0x5f] = CONNECTOR;
ASCII_CLASS[0x3a] = MID_LETTER;
ASCII_CLASS[0x2e] = MID_NUM_LET;
ASCII_CLASS[0x27] = MID_NUM_LET;
ASCII_CLASS[0x2c] = MID_NUM;
ASCII_CLASS[0x3b] = MID_NUM;
ASCII_CLASS[0x22] = SOFT;

const segmenters = new Map<string, Intl.Segmenter>();

/** One cached word segmenter per locale (constructing one costs tens of microseconds). */
export function wordSegmenter(locale: string): Intl.Segmenter {
  let segmenter = segmenters.get(locale);
  if (segmenter === undefined) {
    segmenter = new Intl.Segmenter(locale, { granularity: 'word' });
    segmenters.set(locale, segmenter);
  }
  return segmenter;
}

const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const HAN_OR_HIRAGANA = /[\p{Script=Han}\p{Script=Hiragana}]/u;
const HAN_OR_HIRAGANA_CHAR = /^[\p{Script=Han}\p{Script=Hiragana}]$/u;

function pushLimited(token: string, out: string[]): void {
  if (token.length <= MAX_TOKEN_LENGTH) {
    out.push(token);
    return;
  }
  for (let start = 0; start < token.length; start += MAX_TOKEN_LENGTH) out.push(token.slice(start, start + MAX_TOKEN_LENGTH));
}

/** Splits a word-like ICU segment the way Lucene does: Han and Hiragana one character per token. */
function pushLuceneSegment(segment: string, out: string[]): void {
  if (!HAN_OR_HIRAGANA.test(segment)) {
    pushLimited(segment, out);
    return;
  }
  let run = '';
  for (const char of segment) {
    if (HAN_OR_HIRAGANA_CHAR.test(char)) {
      if (run !== '') pushLimited(run, out);
      run = '';
      out.push(char);
    } else {
      run += char;
    }
  }
  if (run !== '' && HAS_LETTER_OR_DIGIT.test(run)) pushLimited(run, out);
}

export interface TokenizeOptions {
  /** Locale for Intl.Segmenter (dictionary segmentation of Thai, Chinese, Japanese, …). Default `en`. */
  locale?: string;
  /**
   * Split Han and Hiragana into one token per character as Lucene's StandardTokenizer does
   * (default true). The multilingual analyzer turns this off to keep ICU's dictionary words.
   */
  splitHan?: boolean;
}

/**
 * V8's segment iterator slows down quadratically with the length of the string (40,000
 * characters take ~40× as long as 10,000), so long text is segmented in pieces of about
 * this many characters, cut where a word boundary is certain.
 */
const SEGMENT_PIECE = 2048;

/**
 * Characters after which UAX #29 always breaks and that join nothing: white space (not
 * U+FEFF, which is a Format character and ignored between letters) and CJK punctuation
 * of Word_Break class Other (not the fullwidth ：；，． which join letters or digits).
 */
const CERTAIN_BREAK =
  /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u3001\u3002\u3008-\u3011\uff01\uff08\uff09\uff1f]/;

/** Where to end the piece of `text` that starts at `start`. */
function pieceEnd(text: string, start: number): number {
  const limit = start + SEGMENT_PIECE;
  if (limit >= text.length) return text.length;
  for (let i = limit; i > start + SEGMENT_PIECE / 2; i--) if (CERTAIN_BREAK.test(text[i - 1])) return i;
  for (let i = limit + 1; i <= Math.min(text.length, start + 4 * SEGMENT_PIECE); i++) if (CERTAIN_BREAK.test(text[i - 1])) return i;
  // No certain boundary within reach (a very long run of Thai or Chinese): cut, avoiding a surrogate pair.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit + 1 : limit;
}

/** Tokenizes text (of any script) with Intl.Segmenter alone, appending tokens to `out`. */
export function segmentWords(text: string, out: string[], options: TokenizeOptions = {}): void {
  const splitHan = options.splitHan ?? true;
  const segmenter = wordSegmenter(options.locale ?? 'en');
  for (let start = 0; start < text.length;) {
    const end = pieceEnd(text, start);
    for (const part of segmenter.segment(start === 0 && end === text.length ? text : text.slice(start, end))) {
      if (!part.isWordLike) continue;
      const segment = part.segment;
      if (!HAS_LETTER_OR_DIGIT.test(segment)) continue;
      if (splitHan) pushLuceneSegment(segment, out);
      else pushLimited(segment, out);
    }
    start = end;
  }
}

function isWordClass(cls: number): boolean {
  return cls === LETTER || cls === DIGIT || cls === CONNECTOR;
}

/**
 * Appends the StandardTokenizer tokens of `text` to `out` (original case) and returns `out`.
 */
export function standardTokenize(text: string, out: string[] = [], options: TokenizeOptions = {}): string[] {
  const n = text.length;
  // Start of the current stretch between two hard breaks, and how many tokens it has produced.
  let stretchStart = 0;
  let stretchMark = out.length;
  let i = 0;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (code >= 128) {
      i = segmentStretch(text, stretchStart, i, stretchMark, out, options);
      stretchStart = i;
      stretchMark = out.length;
      continue;
    }
    const cls = ASCII_CLASS[code];
    if (!isWordClass(cls)) {
      i++;
      if (cls === OTHER) {
        stretchStart = i;
        stretchMark = out.length;
      }
      continue;
    }
    // Scan one word starting at i.
    let j = i + 1;
    let hasAlnum = cls !== CONNECTOR;
    let prevCls = cls;
    let sawNonAscii = false;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c >= 128) {
        sawNonAscii = true;
        break;
      }
      const k = ASCII_CLASS[c];
      if (isWordClass(k)) {
        if (k !== CONNECTOR) hasAlnum = true;
        prevCls = k;
        j++;
        continue;
      }
      if (k === MID_LETTER || k === MID_NUM_LET || k === MID_NUM) {
        if (j + 1 >= n) break;
        const next = text.charCodeAt(j + 1);
        if (next >= 128) {
          sawNonAscii = true;
          break;
        }
        const nextCls = ASCII_CLASS[next];
        const joinsLetters = prevCls === LETTER && nextCls === LETTER && k !== MID_NUM;
        const joinsDigits = prevCls === DIGIT && nextCls === DIGIT && k !== MID_LETTER;
        if (joinsLetters || joinsDigits) {
          j++;
          continue;
        }
      }
      break;
    }
    if (sawNonAscii) {
      i = segmentStretch(text, stretchStart, j, stretchMark, out, options);
      stretchStart = i;
      stretchMark = out.length;
      continue;
    }
    if (hasAlnum) pushLimited(text.slice(i, j), out);
    i = j;
  }
  return out;
}

/**
 * Re-tokenizes the stretch around a non-ASCII character with Intl.Segmenter: drops the
 * tokens the fast path already emitted for it, and returns where the stretch ends.
 */
function segmentStretch(
  text: string,
  stretchStart: number,
  nonAsciiAt: number,
  stretchMark: number,
  out: string[],
  options: TokenizeOptions,
): number {
  let end = nonAsciiAt + 1;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c < 128 && ASCII_CLASS[c] === OTHER) break;
    end++;
  }
  out.length = stretchMark;
  segmentWords(text.slice(stretchStart, end), out, options);
  return end;
}
