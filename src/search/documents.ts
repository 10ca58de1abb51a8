/**
 * What a result list shows of a document beyond its id: its title and text (for snippets), and
 * its docid written out. The text comes from the corpus the model was trained on (the manifest
 * names the dataset); a model directory itself keeps only titles.
 */
import type { Document } from '../data/types.js';
import { isTextScheme, type DocidTable } from '../docids/table.js';
import { readModelManifest } from '../retriever/directory.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { loadSftCorpus } from '../data/training-corpus.js';

/** One docid key's document: for a key shared by translations (pooled XQuAD), each translation. */
export interface StoredDocument {
  /** The docid key (the document id, or the relevance id of pooled translations). */
  id: string;
  title: string;
  text: string;
  lang?: string;
  /** Every document under this key (one, except for pooled translations). */
  versions: Document[];
}

export class DocumentStore {
  private readonly byKey = new Map<string, Document[]>();

  /** `keyOf` maps a document to its docid key (default: its id). */
  constructor(docs: readonly Document[], keyOf: ReadonlyMap<string, string> | ((doc: Document) => string) = (doc) => doc.id) {
    const key = typeof keyOf === 'function' ? keyOf : (doc: Document) => keyOf.get(doc.id) ?? doc.id;
    for (const doc of docs) {
      const k = key(doc);
      const list = this.byKey.get(k);
      if (list === undefined) this.byKey.set(k, [doc]);
      else list.push(doc);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  /** A key's document in language `lang` when it has one, else in English, else its first. */
  get(key: string, lang?: string): StoredDocument | undefined {
    const versions = this.byKey.get(key);
    if (versions === undefined) return undefined;
    const doc = versions.find((d) => d.lang === lang) ?? versions.find((d) => d.lang === 'en') ?? versions[0];
    return { id: key, title: doc.title, text: doc.text, lang: doc.lang, versions };
  }
}

/** The documents of the corpus a model directory was trained on, by docid key. */
export async function loadModelDocuments(dir: string, dataDir?: string): Promise<DocumentStore> {
  const dataset = readModelManifest(dir).dataset;
  const languages = Array.isArray(dataset.languages) ? dataset.languages.filter((l): l is string => typeof l === 'string') : [];
  const corpus = await loadSftCorpus({
    dataset: String(dataset.id),
    dataDir,
    lang: languages.length > 0 ? languages.join(',') : undefined,
  });
  return new DocumentStore(corpus.docs, (doc) => corpus.keyOf(doc));
}

/**
 * A docid's tokens (output ids, EOS dropped) as text: the words of a title or keywords docid,
 * the codes of PQ, semantic and numeric docids joined by `-` (position is implicit), `#i` for atomic ones;
 * a disambiguator (the token after colliding codes) is written `~n`.
 */
export function docidText(table: DocidTable, tokenizer: SubwordTokenizer, tokens: ArrayLike<number>): string {
  const { textVocabSize, codeVocabSize, eosId } = table.layout;
  const radix =
    table.scheme === 'pq'
      ? Number(table.params.k)
      : table.scheme === 'semantic' || table.scheme === 'numeric'
        ? Number(table.params.radix)
        : 0;
  const parts: string[] = [];
  const text: number[] = [];
  const flushText = () => {
    if (text.length > 0) parts.push(tokenizer.decode(text).trim());
    text.length = 0;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === eosId) continue;
    if (token < textVocabSize) {
      text.push(token);
      continue;
    }
    flushText();
    const code = token - textVocabSize;
    if (code >= codeVocabSize) parts.push(`~${code - codeVocabSize}`);
    else if (table.scheme === 'atomic') parts.push(`#${code}`);
    else parts.push(String(radix > 0 ? code % radix : code));
  }
  flushText();
  return parts.join(isTextScheme(table.scheme) ? ' ' : '-');
}

/** Scripts that single out one language among those a model knows (XQuAD's twelve and a few more). */
const SCRIPT_LANGUAGES: readonly [RegExp, string][] = [
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Devanagari}/u, 'hi'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Cyrillic}/u, 'ru'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/\p{Script=Han}/u, 'zh'],
];
/** Letters that only one of the Latin-script XQuAD languages uses. */
const LATIN_MARKS: readonly [RegExp, string][] = [
  // ă and â are Romanian too: Vietnamese is told by its other vowels and its tone marks.
  [/[đêôơư]|[\u0300-\u0303\u0309\u0323]|[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/iu, 'vi'],
  // ş (s-cedilla) is Turkish and, in older typing, Romanian: Turkish wins it; ţ and the comma-below letters are Romanian.
  [/[ğışİĞŞ]/u, 'tr'],
  [/[șțȘȚţŢăâî]/iu, 'ro'],
  [/[äöüß]/iu, 'de'],
  [/[ñ¿¡]/iu, 'es'],
];

/**
 * The query's language among `languages` (a model's), from its script and a few letters only
 * one language uses; undefined when nothing singles one out (plain Latin letters).
 */
export function guessLanguage(text: string, languages: readonly string[]): string | undefined {
  for (const [pattern, lang] of [...SCRIPT_LANGUAGES, ...LATIN_MARKS]) if (languages.includes(lang) && pattern.test(text)) return lang;
  return undefined;
}
