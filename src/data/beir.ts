import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, warn, where } from '../util/errors.js';
import { DocIdTracker, Memo, QueryIdTracker, judgedQueries, unknownSplit, warnUnknownJudgedDocs } from './corpus.js';
import { jsonErrorOffset, readLines } from './lines.js';
import type { Dataset, Document, Qrels, Query } from './types.js';

/** Parses one JSONL line into an object, or throws a UserError with file:line. */
function parseJsonLine(text: string, path: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const offset = jsonErrorOffset(text);
    const found = offset >= text.length ? 'line ends early' : `unexpected ${JSON.stringify(text[offset])} at column ${offset + 1}`;
    throw new UserError(`${where(path, lineNo)}malformed JSON line (${found})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${where(path, lineNo)}expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function idField(record: Record<string, unknown>, path: string, lineNo: number): string {
  const id = record._id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw new UserError(`${where(path, lineNo)}missing or empty "_id"`);
}

function textField(record: Record<string, unknown>, key: string, path: string, lineNo: number): string {
  const value = record[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new UserError(`${where(path, lineNo)}"${key}" must be a string`);
  return value;
}

/**
 * Streams a BEIR `corpus.jsonl` (`{"_id", "title", "text"}` per line). Blank lines are
 * skipped; a malformed line, a repeated id or an empty corpus is a UserError.
 * `onIds` receives the full id set once the file has been read to the end.
 */
export async function* readBeirCorpus(path: string, onIds?: (ids: Set<string>) => void): AsyncGenerator<Document> {
  const ids = new DocIdTracker(path);
  for await (const { text, lineNo } of readLines(path, 'BEIR corpus')) {
    if (text.trim() === '') continue;
    const record = parseJsonLine(text, path, lineNo);
    const id = idField(record, path, lineNo);
    ids.add(id, lineNo);
    yield { id, title: textField(record, 'title', path, lineNo), text: textField(record, 'text', path, lineNo) };
  }
  const all = ids.finish();
  onIds?.(all);
}

/** Reads a BEIR `queries.jsonl` (`{"_id", "text"}` per line), in file order. */
export async function readBeirQueries(path: string): Promise<Query[]> {
  const queries: Query[] = [];
  const ids = new QueryIdTracker(path);
  for await (const { text, lineNo } of readLines(path, 'BEIR queries file')) {
    if (text.trim() === '') continue;
    const record = parseJsonLine(text, path, lineNo);
    const id = idField(record, path, lineNo);
    ids.add(id, lineNo);
    queries.push({ id, text: textField(record, 'text', path, lineNo) });
  }
  return queries;
}

/**
 * Reads BEIR qrels (`query-id<TAB>corpus-id<TAB>score`, an optional header line).
 * Scores must be integers; a repeated pair keeps the last score, as trec_eval does.
 */
export async function readBeirQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, lineNo } of readLines(path, 'qrels file')) {
    if (text.trim() === '') continue;
    const fields = text.split('\t');
    if (fields.length !== 3) {
      throw new UserError(`${where(path, lineNo)}expected 3 tab-separated fields (query-id, corpus-id, score), found ${fields.length}`);
    }
    const [queryId, docId, scoreText] = fields.map((field) => field.trim());
    if (lineNo === 1 && !/^-?\d+$/.test(scoreText)) continue; // header, e.g. "query-id corpus-id score"
    if (!/^-?\d+$/.test(scoreText)) throw new UserError(`${where(path, lineNo)}relevance score '${scoreText}' is not an integer`);
    if (queryId === '' || docId === '') throw new UserError(`${where(path, lineNo)}empty query or document id`);
    let judged = qrels.get(queryId);
    if (judged === undefined) {
      judged = new Map();
      qrels.set(queryId, judged);
    }
    judged.set(docId, Number(scoreText));
  }
  return qrels;
}

/** Lists the splits of a BEIR folder: the `qrels/<split>.tsv` files, sorted. */
async function beirSplits(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(join(folder, 'qrels'));
  } catch {
    throw new UserError(`${join(folder, 'qrels')}: BEIR folder has no qrels/ directory`);
  }
  const splits = names
    .filter((name) => name.endsWith('.tsv'))
    .map((name) => name.slice(0, -4))
    .sort();
  if (splits.length === 0) throw new UserError(`${join(folder, 'qrels')}: no qrels/<split>.tsv files`);
  return splits;
}

/** A BEIR folder (`corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`) as a Dataset. */
export class BeirDataset implements Dataset {
  private docIds: Set<string> | undefined;
  private readonly queryFile = new Memo<Query[]>();
  private readonly queriesBySplit = new Memo<Query[]>();
  private readonly qrelsBySplit = new Memo<Qrels>();

  private constructor(
    readonly id: string,
    readonly folder: string,
    readonly splits: readonly string[],
    readonly defaultSplit: string,
  ) {}

  static async open(folder: string, id?: string): Promise<BeirDataset> {
    const absolute = resolve(folder);
    let isDir: boolean;
    try {
      isDir = (await fsp.stat(absolute)).isDirectory();
    } catch {
      throw new UserError(`${absolute}: dataset folder not found`);
    }
    if (!isDir) throw new UserError(`${absolute}: not a folder (a BEIR dataset is a folder with corpus.jsonl, queries.jsonl and qrels/)`);
    for (const name of ['corpus.jsonl', 'queries.jsonl']) {
      try {
        await fsp.access(join(absolute, name));
      } catch {
        throw new UserError(`${join(absolute, name)}: not found (a BEIR folder needs corpus.jsonl, queries.jsonl and qrels/<split>.tsv)`);
      }
    }
    const splits = await beirSplits(absolute);
    const defaultSplit = splits.includes('test') ? 'test' : splits[0];
    return new BeirDataset(id ?? absolute, absolute, splits, defaultSplit);
  }

  get corpusPath(): string {
    return join(this.folder, 'corpus.jsonl');
  }

  docs(): AsyncIterable<Document> {
    return readBeirCorpus(this.corpusPath, (ids) => {
      this.docIds = ids;
    });
  }

  /** The corpus ids, read once (a pass over the corpus if docs() has not been read to the end yet). */
  async documentIds(): Promise<Set<string>> {
    if (this.docIds === undefined) {
      for await (const _doc of this.docs()) {
        // Reading to the end fills docIds through the callback.
      }
    }
    return this.docIds as Set<string>;
  }

  /** The queries judged in `split`, in the order of queries.jsonl (BEIR's convention). */
  queries(split: string): Promise<Query[]> {
    return this.queriesBySplit.get(split, async () => {
      const qrels = await this.qrels(split);
      const path = join(this.folder, 'queries.jsonl');
      const all = await this.queryFile.get('all', () => readBeirQueries(path));
      const judged = judgedQueries(all, qrels);
      const missing = qrels.size - judged.length;
      if (missing > 0)
        warn(
          `${join(this.folder, 'qrels', `${split}.tsv`)}: ${missing} judged quer${missing === 1 ? 'y is' : 'ies are'} not in ${path}; skipped`,
        );
      return judged;
    });
  }

  qrels(split: string): Promise<Qrels> {
    if (!this.splits.includes(split)) return Promise.reject(unknownSplit(this.id, split, this.splits));
    return this.qrelsBySplit.get(split, async () => {
      const path = join(this.folder, 'qrels', `${split}.tsv`);
      const qrels = await readBeirQrels(path);
      warnUnknownJudgedDocs(qrels, await this.documentIds(), path);
      return qrels;
    });
  }
}
