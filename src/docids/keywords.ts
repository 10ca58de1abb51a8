/**
 * Keyword docids ("title + distinctive terms"): a document's title followed by its
 * highest-weighted TF-IDF words that are not in the title, as plain text. The words a
 * question shares with its paragraph are then tokens the decoder can produce, so the part
 * of the docid that tells the paragraphs of one article apart is lexical, not an arbitrary
 * position number as in the title scheme. Shares its word statistics with SFT's `terms`
 * examples (topTfidfTerms).
 */
import type { Document } from '../data/types.js';

const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });

/** Lower-cased word-like segments (ICU word boundaries), numbers skipped. */
export function tfidfWords(text: string): string[] {
  const out: string[] = [];
  for (const s of wordSegmenter.segment(text.toLowerCase())) {
    if (s.isWordLike && !/^\d+$/.test(s.segment)) out.push(s.segment);
  }
  return out;
}

/**
 * The `count` highest-weighted words of each document by TF-IDF over `docs`
 * (tf · ln(N / df); words seen in every document weigh nothing), ties in first-seen order.
 */
export function topTfidfTerms(docs: readonly Document[], count = 20): string[][] {
  const tfs = docs.map((doc) => {
    const tf = new Map<string, number>();
    for (const w of tfidfWords(`${doc.title} ${doc.text}`)) tf.set(w, (tf.get(w) ?? 0) + 1);
    return tf;
  });
  const df = new Map<string, number>();
  for (const tf of tfs) for (const w of tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  return tfs.map((tf) =>
    [...tf]
      .map(([w, n], order) => ({ w, weight: n * Math.log(docs.length / df.get(w)!), order }))
      .filter((t) => t.weight > 0)
      .sort((a, b) => b.weight - a.weight || a.order - b.order)
      .slice(0, count)
      .map((t) => t.w),
  );
}

/**
 * Docid text of every document: title (underscores as spaces) + up to `count` keywords. A
 * keyword is one of the document's top TF-IDF words that is not in the title and, when
 * other documents share the title (paragraphs of one article), occurs in at most half of
 * them: words common to the whole article do not tell its paragraphs apart.
 */
export function keywordTexts(docs: readonly Document[], count: number): string[] {
  const ranked = topTfidfTerms(docs, count + 40);
  const titleOf = (doc: Document) => doc.title.replace(/_/g, ' ').trim();
  const articles = new Map<string, { size: number; df: Map<string, number> }>();
  for (const doc of docs) {
    const title = titleOf(doc);
    const article = articles.get(title) ?? { size: 0, df: new Map<string, number>() };
    article.size += 1;
    for (const w of new Set(tfidfWords(`${doc.title} ${doc.text}`))) article.df.set(w, (article.df.get(w) ?? 0) + 1);
    articles.set(title, article);
  }
  return docs.map((doc, i) => {
    const title = titleOf(doc);
    const article = articles.get(title)!;
    const inTitle = new Set(tfidfWords(title));
    const distinctive = (w: string) => title === '' || article.size < 3 || article.df.get(w)! * 2 <= article.size;
    const keywords = ranked[i].filter((w) => !inTitle.has(w) && distinctive(w)).slice(0, count);
    return [title, ...keywords].filter((part) => part !== '').join(' ');
  });
}
