/**
 * Pseudo-queries for corpora without labelled queries: spans sampled from the
 * document itself, either a whole sentence or a run of consecutive words. Words and
 * sentences come from ICU segmentation (Intl.Segmenter), so languages written
 * without spaces (Chinese, Thai) are cut into words too. Each document's samples
 * depend only on the seed and its id, not on corpus order.
 */
import type { Document } from '../data/types.js';
import { fnv1a64, Rng } from '../util/random.js';

export interface PseudoQuery {
  docId: string;
  text: string;
}

export interface SpanSamplingOptions {
  /** Queries per document (default 10); fewer when the document has fewer distinct spans. */
  perDoc?: number;
  seed?: number;
  /** Span length in words (defaults 4 and 16). */
  minWords?: number;
  maxWords?: number;
  /** Probability that a draw is a whole sentence rather than a random span (default 0.5). */
  sentenceProbability?: number;
}

interface Word {
  start: number;
  end: number;
}

const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });
const sentenceSegmenter = new Intl.Segmenter('und', { granularity: 'sentence' });

function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  for (const s of wordSegmenter.segment(text)) {
    if (s.isWordLike) words.push({ start: s.index, end: s.index + s.segment.length });
  }
  return words;
}

/** Word index ranges [first, last] of each sentence. */
function sentenceRanges(text: string, words: Word[]): [number, number][] {
  const ranges: [number, number][] = [];
  let w = 0;
  for (const s of sentenceSegmenter.segment(text)) {
    const end = s.index + s.segment.length;
    const first = w;
    while (w < words.length && words[w].start < end) w++;
    if (w > first) ranges.push([first, w - 1]);
  }
  return ranges;
}

/** Samples up to `perDoc` distinct pseudo-queries from one document's text. */
export function sampleSpans(doc: Document, options: SpanSamplingOptions = {}): string[] {
  const { perDoc = 10, seed = 0, minWords = 4, maxWords = 16, sentenceProbability = 0.5 } = options;
  if (minWords < 1 || maxWords < minWords)
    throw new RangeError(`span sampling: need 1 ≤ minWords ≤ maxWords, got ${minWords}, ${maxWords}`);
  const text = doc.text;
  const words = wordsOf(text);
  if (words.length === 0) return [];
  const rng = new Rng(Number(fnv1a64(`${seed}\u0000${doc.id}`) & 0xffffffffn));
  const sentences = sentenceRanges(text, words);
  const spanOf = (first: number, last: number): string => text.slice(words[first].start, words[last].end).replace(/\s+/g, ' ').trim();
  const found = new Set<string>();
  const attempts = perDoc * 8;
  for (let attempt = 0; attempt < attempts && found.size < perDoc; attempt++) {
    let first: number;
    let last: number;
    if (sentences.length > 0 && rng.next() < sentenceProbability) {
      [first, last] = sentences[rng.int(sentences.length)];
      if (last - first + 1 > maxWords) {
        first += rng.int(last - first + 2 - maxWords);
        last = first + maxWords - 1;
      }
    } else {
      const length = Math.min(words.length, minWords + rng.int(maxWords - minWords + 1));
      first = rng.int(words.length - length + 1);
      last = first + length - 1;
    }
    found.add(spanOf(first, last));
  }
  return [...found];
}

/** Pseudo-queries for every document, in corpus order. */
export async function samplePseudoQueries(
  corpus: Iterable<Document> | AsyncIterable<Document>,
  options: SpanSamplingOptions = {},
): Promise<PseudoQuery[]> {
  const queries: PseudoQuery[] = [];
  for await (const doc of corpus) {
    for (const text of sampleSpans(doc, options)) queries.push({ docId: doc.id, text });
  }
  return queries;
}

/**
 * Inverse-cloze hold-out: what becomes of a document's sentences when some of them are kept
 * back as pseudo-queries. `keep` samples the pseudo-queries from the held-out sentences and
 * leaves the indexed text whole; `remove` also takes those sentences out of the indexed text, so
 * a query never appears verbatim in what the model indexes for its document.
 */
export type SentenceHoldOut = 'none' | 'keep' | 'remove';
export const SENTENCE_HOLD_OUTS: readonly SentenceHoldOut[] = ['none', 'keep', 'remove'];

export interface HeldOutSplit {
  /** The text the document is indexed by (its sentences not held out, in order). */
  indexed: string;
  /** The held-out sentences, in order: the text pseudo-queries are sampled from. */
  heldOut: string;
}

/**
 * Splits a document's sentences into two seeded halves: ⌊n/2⌋ held out, the rest indexed. A
 * document of one sentence holds nothing out, so its text is never emptied.
 */
export function holdOutSentences(doc: Document, seed: number): HeldOutSplit {
  // Segments keep their trailing whitespace, so joining a subset in order reads as prose.
  const sentences = [...sentenceSegmenter.segment(doc.text)].map((s) => s.segment).filter((s) => /[\p{L}\p{N}]/u.test(s));
  const heldCount = Math.floor(sentences.length / 2);
  if (heldCount === 0) return { indexed: doc.text, heldOut: '' };
  const rng = new Rng(Number(fnv1a64(`${seed}\u0000hold-out\u0000${doc.id}`) & 0xffffffffn));
  const order = sentences.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const held = new Set(order.slice(0, heldCount));
  const join = (keep: (i: number) => boolean) =>
    sentences
      .filter((_, i) => keep(i))
      .join('')
      .trim();
  return { indexed: join((i) => !held.has(i)), heldOut: join((i) => held.has(i)) };
}
