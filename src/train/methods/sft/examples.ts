/**
 * The text → docid pairs of SFT, by source (DDRO's stages):
 *   chunks   indexing: title + consecutive sentences of the document, at most `maxTokens`
 *            tokens each, at most `maxChunks` per document;
 *   terms    indexing: the document's top TF-IDF words, highest weight first;
 *   pseudo   pseudo-queries (doc2query samples or sampled spans);
 *   queries  the labelled training queries.
 */
import type { Document } from '../../../data/types.js';
import type { DocidTable } from '../../../docids/table.js';
import type { Seq2SeqExample } from '../../loop/batching.js';

export { topTfidfTerms } from '../../../docids/keywords.js';

export type SftSource = 'chunks' | 'terms' | 'pseudo' | 'queries';
export const SFT_SOURCES: readonly SftSource[] = ['chunks', 'terms', 'pseudo', 'queries'];

export interface TextPair {
  text: string;
  /** Docid key. */
  key: string;
}

export interface ChunkOptions {
  /** Tokens per chunk, title included (DDRO: 127). */
  maxTokens?: number;
  /** Chunks per document (DDRO: 10). */
  maxChunks?: number;
}

const sentenceSegmenter = new Intl.Segmenter('und', { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });

/** Pieces of `text` that each encode to at most `budget` tokens: sentences, long ones cut between words. */
function pieces(text: string, budget: number, count: (text: string) => number): { text: string; tokens: number }[] {
  const out: { text: string; tokens: number }[] = [];
  for (const { segment } of sentenceSegmenter.segment(text)) {
    const sentence = segment.trim();
    if (sentence === '') continue;
    const tokens = count(sentence);
    if (tokens <= budget) {
      out.push({ text: sentence, tokens });
      continue;
    }
    // A sentence longer than a chunk (or a language without sentence marks): cut between words.
    let current = '';
    let currentTokens = 0;
    for (const { segment: word } of wordSegmenter.segment(sentence)) {
      const wordTokens = count(word);
      if (currentTokens > 0 && currentTokens + wordTokens > budget) {
        out.push({ text: current.trim(), tokens: currentTokens });
        current = '';
        currentTokens = 0;
      }
      current += word;
      currentTokens += wordTokens;
    }
    if (current.trim() !== '') out.push({ text: current.trim(), tokens: currentTokens });
  }
  return out;
}

/**
 * Splits a document into chunks of title + consecutive sentences, each at most
 * `maxTokens` tokens by `count` (token counts of pieces are added, so a chunk may come
 * out a token or two longer; batches truncate it). The first chunks are kept.
 */
export function passageChunks(doc: Document, count: (text: string) => number, options: ChunkOptions = {}): string[] {
  const maxTokens = options.maxTokens ?? 127;
  const maxChunks = options.maxChunks ?? 10;
  const title = doc.title.trim();
  const titleTokens = title === '' ? 0 : count(title);
  const budget = Math.max(8, maxTokens - titleTokens);
  const chunks: string[] = [];
  let current: string[] = [];
  let used = 0;
  const flush = () => {
    if (current.length > 0) chunks.push(title === '' ? current.join(' ') : `${title} ${current.join(' ')}`);
    current = [];
    used = 0;
  };
  for (const piece of pieces(doc.text, budget, count)) {
    if (used > 0 && used + piece.tokens > budget) flush();
    if (chunks.length >= maxChunks) break;
    current.push(piece.text);
    used += piece.tokens;
  }
  if (chunks.length < maxChunks) flush();
  if (chunks.length === 0 && title !== '') chunks.push(title);
  return chunks;
}

/** Tokenized examples of one source, each pointing at its docid. */
export interface SourceExamples {
  source: SftSource;
  examples: Seq2SeqExample[];
  /** Docid index of each example. */
  docIndex: number[];
}

/**
 * Tokenizes pairs into seq2seq examples: source = the text's ids (no EOS), target = the
 * docid without its final EOS (the batch appends it). Pairs whose key has no docid are
 * counted in `skipped`.
 */
export function tokenizePairs(
  source: SftSource,
  pairs: readonly TextPair[],
  docids: DocidTable,
  encode: (text: string) => ArrayLike<number>,
  maxSourceTokens: number,
): SourceExamples & { skipped: number } {
  const examples: Seq2SeqExample[] = [];
  const docIndex: number[] = [];
  let skipped = 0;
  for (const pair of pairs) {
    const index = docids.indexOf(pair.key);
    if (index < 0) {
      skipped++;
      continue;
    }
    const ids = encode(pair.text);
    const sequence = docids.sequence(index);
    examples.push({
      source: ids.length > maxSourceTokens ? (Array.prototype.slice.call(ids, 0, maxSourceTokens) as number[]) : ids,
      target: sequence.subarray(0, sequence.length - 1),
    });
    docIndex.push(index);
  }
  return { source, examples, docIndex, skipped };
}
