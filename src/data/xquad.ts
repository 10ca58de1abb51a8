import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { Memo, fromArray } from './corpus.js';
import {
  QUESTION_SPLITS,
  pickSplit,
  readSquadJson,
  splitQuestions,
  type QuestionSplit,
  type QuestionSplitSet,
  type SquadParagraph,
} from './squad.js';
import type { Dataset, Document, Qrels, Query } from './types.js';

/** The 12 XQuAD languages, in the order of the official release. */
export const XQUAD_LANGUAGES = ['ar', 'de', 'el', 'en', 'es', 'hi', 'ro', 'ru', 'th', 'tr', 'vi', 'zh'] as const;
export type XquadLanguage = (typeof XQUAD_LANGUAGES)[number];

export function xquadFileName(lang: string): string {
  return `xquad.${lang}.json`;
}

function checkLanguage(lang: string, option: string, allowAll: boolean): void {
  if (allowAll && lang === 'all') return;
  if (!(XQUAD_LANGUAGES as readonly string[]).includes(lang)) {
    throw new UserError(`xquad: unknown ${option} '${lang}' (one of ${XQUAD_LANGUAGES.join(' ')}${allowAll ? ', or all' : ''})`);
  }
}

/**
 * XQuAD as (cross-lingual) passage retrieval. Queries are the questions of `lang`; the
 * corpus is the 240 paragraphs in `corpusLang`, or with `all` the 12 translations pooled
 * (2,880 documents with ids `${lang}/${paragraphId}` that share the relevance id
 * `paragraphId`, so a run must be collapsed with `collapseRun` before evaluation).
 * Questions are split by `questionSplit` on their ids, which are the same in every
 * language, so the split is identical across languages and agrees with squad-dev's.
 */
export class XquadDataset implements Dataset {
  readonly id = 'xquad';
  readonly splits = QUESTION_SPLITS;
  readonly defaultSplit = 'test';
  readonly relevanceIds?: () => Promise<Map<string, string>>;
  private readonly files = new Memo<SquadParagraph[]>();
  private readonly sets = new Memo<Map<QuestionSplit, QuestionSplitSet>>();

  constructor(
    readonly folder: string,
    readonly lang: string = 'en',
    readonly corpusLang: string = lang,
  ) {
    checkLanguage(lang, 'query language (--lang)', false);
    checkLanguage(corpusLang, 'corpus language (--corpus-lang)', true);
    if (corpusLang === 'all') this.relevanceIds = () => this.pooledRelevanceIds();
  }

  /** The corpus languages, in release order. */
  get corpusLanguages(): readonly string[] {
    return this.corpusLang === 'all' ? XQUAD_LANGUAGES : [this.corpusLang];
  }

  paragraphs(lang: string): Promise<SquadParagraph[]> {
    return this.files.get(lang, async () => {
      const paragraphs = await readSquadJson(join(this.folder, xquadFileName(lang)));
      if (lang !== 'en') await this.checkAligned(lang, paragraphs);
      return paragraphs;
    });
  }

  /** Judgments and pooling rely on every translation keeping paragraph order and question ids. */
  private async checkAligned(lang: string, paragraphs: readonly SquadParagraph[]): Promise<void> {
    const english = await this.paragraphs('en');
    const path = join(this.folder, xquadFileName(lang));
    if (english.length !== paragraphs.length) {
      throw new UserError(
        `${path}: ${paragraphs.length} paragraphs, but ${xquadFileName('en')} has ${english.length}; the translations must be aligned`,
      );
    }
    paragraphs.forEach((paragraph, index) => {
      const reference = english[index];
      const sameQuestions =
        paragraph.id === reference.id &&
        paragraph.questions.length === reference.questions.length &&
        paragraph.questions.every((q, i) => q.id === reference.questions[i].id);
      if (!sameQuestions)
        throw new UserError(
          `${path}: paragraph ${paragraph.id} does not match ${xquadFileName('en')} (different question ids); the translations must be aligned`,
        );
    });
  }

  async *docs(): AsyncGenerator<Document> {
    const pooled = this.corpusLang === 'all';
    for (const lang of this.corpusLanguages) {
      const paragraphs = await this.paragraphs(lang);
      yield* fromArray(
        paragraphs.map((p): Document =>
          pooled
            ? { id: `${lang}/${p.id}`, title: p.title, text: p.context, lang, relevanceId: p.id }
            : { id: p.id, title: p.title, text: p.context, lang },
        ),
      );
    }
  }

  private async pooledRelevanceIds(): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for await (const doc of this.docs()) map.set(doc.id, doc.relevanceId ?? doc.id);
    return map;
  }

  private splitSets(): Promise<Map<QuestionSplit, QuestionSplitSet>> {
    return this.sets.get(this.lang, async () => splitQuestions(await this.paragraphs(this.lang), this.lang));
  }

  async queries(split: string): Promise<Query[]> {
    return [...pickSplit(await this.splitSets(), this.id, split).queries];
  }

  /** Judgments name paragraph ids, which are the documents' relevance ids in every corpus language. */
  async qrels(split: string): Promise<Qrels> {
    return new Map(pickSplit(await this.splitSets(), this.id, split).qrels);
  }
}
