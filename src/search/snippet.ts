/**
 * A short excerpt of a document for a result list: the passage that shares the most words
 * with the query, so a reader sees why the document came up (and something at all for a
 * corpus without titles, such as MED).
 */

/** Characters of an excerpt, before the ellipses. */
export const SNIPPET_CHARS = 200;

/** Lower-cased words of at least two letters or digits, any script (Intl word segmentation). */
function words(text: string): string[] {
  const out: string[] = [];
  for (const part of new Intl.Segmenter(undefined, { granularity: 'word' }).segment(text.toLowerCase())) {
    if (part.isWordLike && [...part.segment].length >= 2) out.push(part.segment);
  }
  return out;
}

/**
 * The excerpt of `text` best matching `query`: the window of about `chars` characters, starting
 * at a sentence start, that holds the most distinct query words (ties: the one whose first
 * sentence holds more, then the earliest);
 * the document's start when none matches. Whitespace is collapsed; `…` marks a cut.
 */
export function snippet(text: string, query: string, chars = SNIPPET_CHARS): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= chars) return clean;
  const wanted = new Set(words(query));
  // Candidate starts: the text's start and each sentence start.
  const starts = [0];
  for (const match of clean.matchAll(/[.!?。！？]\s*/g)) {
    const at = match.index + match[0].length;
    if (at < clean.length) starts.push(at);
  }
  const hitsIn = (part: string) => {
    const present = new Set(words(part));
    let hits = 0;
    for (const word of wanted) if (present.has(word)) hits++;
    return hits;
  };
  let bestStart = 0;
  let best = [0, 0];
  if (wanted.size > 0) {
    starts.forEach((start, i) => {
      // Most query words in the window; between equals, the window whose first sentence holds more.
      const score = [hitsIn(clean.slice(start, start + chars)), hitsIn(clean.slice(start, starts[i + 1] ?? clean.length))];
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
