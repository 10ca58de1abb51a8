/**
 * A short excerpt of a document for a result list: the passage that shares the most words
 * with the query, so a reader sees why the document came up (and something at all for a
 * corpus without titles, such as MED).
 */

/** Characters of an excerpt, before the ellipses. */
export const SNIPPET_CHARS = 200;

/** One segmenter for every call: constructing one costs far more than segmenting a passage. */
const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** Lower-cased words of at least two letters or digits, any script, with their offsets. */
function words(text: string): { word: string; at: number }[] {
  const out: { word: string; at: number }[] = [];
  const lower = text.toLowerCase();
  if (UNSPACED_SCRIPT.test(lower)) {
    for (const part of segmenter.segment(lower)) {
      if (part.isWordLike && [...part.segment].length >= 2) out.push({ word: part.segment, at: part.index });
    }
  } else {
    // Scripts that separate words: a regular expression finds the same words several times faster.
    for (const match of lower.matchAll(/[\p{L}\p{M}\p{N}]{2,}/gu)) out.push({ word: match[0], at: match.index });
  }
  return out;
}

/** Scripts written without spaces between words, which need dictionary-based segmentation. */
const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/**
 * The excerpt of `text` best matching `query`: the window of about `chars` characters, starting
 * at a sentence start, that holds the most distinct query words (ties: the one whose first
 * sentence holds more, then the earliest); the document's start when none matches. Whitespace
 * is collapsed; `…` marks a cut. The text is segmented once, whatever the number of windows.
 */
export function snippet(text: string, query: string, chars = SNIPPET_CHARS): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= chars) return clean;
  const wanted = new Set(words(query).map((w) => w.word));
  // Candidate starts: the text's start and each sentence start.
  const starts = [0];
  for (const match of clean.matchAll(/[.!?。！？]\s*/g)) {
    const at = match.index + match[0].length;
    if (at < clean.length) starts.push(at);
  }
  let bestStart = 0;
  let best = [0, 0];
  if (wanted.size > 0) {
    // Query words of the text in order; lowercasing keeps offsets for the scripts that matter here.
    const hits = words(clean).filter((w) => wanted.has(w.word));
    const distinct = (from: number, to: number) => {
      const seen = new Set<string>();
      for (const hit of hits) if (hit.at >= from && hit.at < to) seen.add(hit.word);
      return seen.size;
    };
    starts.forEach((start, i) => {
      // Most query words in the window; between equals, the window whose first sentence holds more.
      const score = [distinct(start, start + chars), distinct(start, starts[i + 1] ?? clean.length)];
      if (score[0] > best[0] || (score[0] === best[0] && score[1] > best[1])) [bestStart, best] = [start, score];
    });
  }
  let end = Math.min(clean.length, bestStart + chars);
  // End on a word boundary where one is near, not in the middle of a word.
  if (end < clean.length) {
    const space = clean.lastIndexOf(' ', end);
    if (space > bestStart + chars / 2) end = space;
  }
  return `${bestStart > 0 ? '… ' : ''}${clean.slice(bestStart, end).trim()}${end < clean.length ? ' …' : ''}`;
}
