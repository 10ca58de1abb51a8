import { resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { hashUnit } from '../util/random.js';
import { Memo, fromArray, unknownSplit } from './corpus.js';
import { parseJsonDocument, readTextFile } from './lines.js';
import type { Dataset, Document, Qrels, Query } from './types.js';

/**
 * Seed of the question split. Fixed forever: changing it would move questions between
 * train and test and make every published number incomparable. SQuAD-dev and XQuAD use
 * the same seed on purpose: XQuAD's questions are SQuAD-dev questions, so each one lands
 * in the same split in both datasets and a model trained on squad-dev `train` never sees
 * an xquad `test` question.
 */
export const QUESTION_SPLIT_SEED = 2016;

/** Fractions of questions in train / dev / test. */
export const QUESTION_SPLIT_FRACTIONS = { train: 0.7, dev: 0.1, test: 0.2 } as const;

export type QuestionSplit = 'train' | 'dev' | 'test';
export const QUESTION_SPLITS: readonly QuestionSplit[] = ['train', 'dev', 'test'];

/**
 * The split of one question, from a seeded hash of its id alone: stable across runs,
 * machines and languages, and independent of which other questions exist.
 */
export function questionSplit(questionId: string, seed = QUESTION_SPLIT_SEED): QuestionSplit {
  const u = hashUnit(seed, questionId);
  if (u < QUESTION_SPLIT_FRACTIONS.train) return 'train';
  if (u < QUESTION_SPLIT_FRACTIONS.train + QUESTION_SPLIT_FRACTIONS.dev) return 'dev';
  return 'test';
}

export interface SquadQuestion {
  id: string;
  question: string;
}

/** One SQuAD paragraph: the document of passage retrieval, with the questions asked about it. */
export interface SquadParagraph {
  /** `${articleIndex}_${paragraphIndex}` (indexes from 0, paragraph index within its article). */
  id: string;
  articleIndex: number;
  paragraphIndex: number;
  /** Article title with underscores as spaces. */
  title: string;
  context: string;
  questions: SquadQuestion[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads a SQuAD-format JSON file (`data[].title`, `data[].paragraphs[].context`,
 * `.qas[].id/question`) into paragraphs. SQuAD files are one JSON document, so the file
 * is parsed whole (SQuAD train, the largest, is 30 MB). Structural problems name the
 * place, e.g. `dev.json: data[3].paragraphs[2].qas[0]: "question" must be a string`.
 */
export async function readSquadJson(path: string): Promise<SquadParagraph[]> {
  const root = parseJsonDocument(await readTextFile(path, 'SQuAD file'), path);
  if (!isRecord(root) || !Array.isArray(root.data)) throw new UserError(`${path}: not SQuAD JSON (no top-level "data" array)`);
  const paragraphs: SquadParagraph[] = [];
  const questionIds = new Set<string>();
  root.data.forEach((article: unknown, articleIndex: number) => {
    const place = `data[${articleIndex}]`;
    if (!isRecord(article) || !Array.isArray(article.paragraphs))
      throw new UserError(`${path}: ${place}: expected an object with a "paragraphs" array`);
    const title = typeof article.title === 'string' ? article.title.replace(/_/g, ' ') : '';
    article.paragraphs.forEach((paragraph: unknown, paragraphIndex: number) => {
      const at = `${place}.paragraphs[${paragraphIndex}]`;
      if (!isRecord(paragraph) || typeof paragraph.context !== 'string') throw new UserError(`${path}: ${at}: "context" must be a string`);
      if (!Array.isArray(paragraph.qas)) throw new UserError(`${path}: ${at}: "qas" must be an array`);
      const questions = paragraph.qas.map((qa: unknown, qaIndex: number): SquadQuestion => {
        const qaAt = `${at}.qas[${qaIndex}]`;
        if (!isRecord(qa) || typeof qa.id !== 'string' || qa.id === '')
          throw new UserError(`${path}: ${qaAt}: "id" must be a non-empty string`);
        if (typeof qa.question !== 'string') throw new UserError(`${path}: ${qaAt}: "question" must be a string`);
        if (questionIds.has(qa.id)) throw new UserError(`${path}: ${qaAt}: duplicate question id '${qa.id}'`);
        questionIds.add(qa.id);
        return { id: qa.id, question: qa.question };
      });
      paragraphs.push({
        id: `${articleIndex}_${paragraphIndex}`,
        articleIndex,
        paragraphIndex,
        title,
        context: paragraph.context,
        questions,
      });
    });
  });
  if (paragraphs.length === 0) throw new UserError(`${path}: empty corpus (no paragraphs)`);
  return paragraphs;
}

export interface QuestionSplitSet {
  queries: Query[];
  qrels: Qrels;
}

/**
 * Queries and qrels of every question split at once (hashing each question id once),
 * from paragraphs whose ids are the document ids. Queries keep file order.
 */
export function splitQuestions(paragraphs: readonly SquadParagraph[], lang?: string): Map<QuestionSplit, QuestionSplitSet> {
  const sets = new Map<QuestionSplit, QuestionSplitSet>(QUESTION_SPLITS.map((split) => [split, { queries: [], qrels: new Map() }]));
  for (const paragraph of paragraphs) {
    for (const question of paragraph.questions) {
      const set = sets.get(questionSplit(question.id)) as QuestionSplitSet;
      set.queries.push(
        lang === undefined ? { id: question.id, text: question.question } : { id: question.id, text: question.question, lang },
      );
      set.qrels.set(question.id, new Map([[paragraph.id, 1]]));
    }
  }
  return sets;
}

/** One split of `splitQuestions`, or a UserError naming the known splits. */
export function pickSplit(sets: Map<QuestionSplit, QuestionSplitSet>, datasetId: string, split: string): QuestionSplitSet {
  const set = sets.get(split as QuestionSplit);
  if (set === undefined) throw unknownSplit(datasetId, split, QUESTION_SPLITS);
  return set;
}

/**
 * SQuAD as passage retrieval: every paragraph is a document (all of them, in every
 * split, as NQ320K keeps its corpus whole); every question is a query whose one
 * relevant document is its paragraph; questions are split 70/10/20 by `questionSplit`.
 */
export class SquadDataset implements Dataset {
  readonly splits = QUESTION_SPLITS;
  readonly defaultSplit = 'test';
  private readonly file = new Memo<SquadParagraph[]>();
  private readonly sets = new Memo<Map<QuestionSplit, QuestionSplitSet>>();

  constructor(
    readonly id: string,
    readonly path: string,
  ) {}

  static forFile(path: string): SquadDataset {
    const absolute = resolve(path);
    return new SquadDataset(absolute, absolute);
  }

  paragraphs(): Promise<SquadParagraph[]> {
    return this.file.get('all', () => readSquadJson(this.path));
  }

  async *docs(): AsyncGenerator<Document> {
    const paragraphs = await this.paragraphs();
    yield* fromArray(paragraphs.map((p) => ({ id: p.id, title: p.title, text: p.context })));
  }

  private splitSets(): Promise<Map<QuestionSplit, QuestionSplitSet>> {
    return this.sets.get('all', async () => splitQuestions(await this.paragraphs()));
  }

  async queries(split: string): Promise<Query[]> {
    return [...pickSplit(await this.splitSets(), this.id, split).queries];
  }

  async qrels(split: string): Promise<Qrels> {
    return new Map(pickSplit(await this.splitSets(), this.id, split).qrels);
  }
}
