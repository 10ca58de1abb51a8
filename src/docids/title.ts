/**
 * Text docids (DDRO's "TU", title + URL). With a URL, DDRO's rule: the lower-cased
 * URL without its scheme, `-`/`_` as spaces, split on `/`; when most path segments
 * are descriptive, the docid text is those segments in reverse order followed by the
 * domain, otherwise the title followed by the domain. Without URLs (SQuAD, XQuAD),
 * the title, plus the document's 1-based position among the documents sharing that
 * title when it is shared ("Super Bowl 50 3").
 */
import type { Document } from '../data/types.js';

const UNINFORMATIVE_SEGMENTS = new Set(['index', 'page', 'item', 'view', 'default', 'home']);

/** Whether a URL path segment says something about the page (DDRO's test). */
export function isDescriptiveSegment(segment: string): boolean {
  const bare = segment.replace(/\.(html?|php|aspx?|jsp)$/, '').trim();
  if (bare.length <= 2) return false;
  if (/^[\d\s.]+$/.test(bare)) return false;
  return !UNINFORMATIVE_SEGMENTS.has(bare);
}

/** DDRO's title/URL docid text for a document with a URL. */
export function titleUrlText(title: string, url: string): string {
  const cleaned = url
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/[?#].*$/, '')
    .replace(/[-_]/g, ' ');
  const [domain, ...rest] = cleaned.split('/');
  const segments = rest.map((s) => s.trim()).filter((s) => s.length > 0);
  const descriptive = segments.filter(isDescriptiveSegment);
  const words =
    segments.length > 0 && descriptive.length * 2 > segments.length
      ? [...descriptive.map((s) => s.replace(/\.(html?|php|aspx?|jsp)$/, '')).reverse(), domain]
      : [title.toLowerCase(), domain];
  return words.join(' ').replace(/\s+/g, ' ').trim();
}

/** Up to `count` leading words, for documents without a title. */
function leadingWords(text: string, count: number): string {
  return text.split(/\s+/).filter(Boolean).slice(0, count).join(' ');
}

/** The docid text of every document, in order. */
export function titleTexts(docs: readonly Document[], urlOf?: (doc: Document) => string | undefined): string[] {
  const titleCount = new Map<string, number>();
  // Wikipedia-style underscores ("Super_Bowl_50") read as spaces.
  const titleOf = (doc: Document): string => doc.title.replace(/_/g, ' ').trim();
  for (const doc of docs) titleCount.set(titleOf(doc), (titleCount.get(titleOf(doc)) ?? 0) + 1);
  const seen = new Map<string, number>();
  return docs.map((doc) => {
    const title = titleOf(doc);
    const url = urlOf?.(doc);
    if (url) return titleUrlText(title, url);
    if (title === '') return leadingWords(doc.text, 12);
    const position = (seen.get(title) ?? 0) + 1;
    seen.set(title, position);
    return (titleCount.get(title) ?? 0) > 1 ? `${title} ${position}` : title;
  });
}
