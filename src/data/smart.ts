import { join } from 'node:path';
import { UserError, where } from '../util/errors.js';
import { DocIdTracker, Memo, QueryIdTracker, unknownSplit, warnUnknownJudgedDocs } from './corpus.js';
import { readLines } from './lines.js';
import type { Dataset, Document, Qrels, Query } from './types.js';

/** A SMART record: `.I <number>` then fields introduced by `.X` marker lines. */
interface SmartRecord {
  number: string;
  lineNo: number;
  fields: Map<string, string[]>;
}

const FIELD_MARKER = /^\.([A-Z])\s*$/;
const ID_MARKER = /^\.I(?:\s+(\S*))?\s*$/;

/**
 * Streams the records of a SMART file (`cran.all.1400`, `cran.qry`, CACM, MED …).
 * A field that appears twice in one record is appended to, and a repeated marker after
 * `.W` is taken as part of the text (Cranfield's records 240, 576 and 578), so no text is lost.
 */
async function* readSmartRecords(path: string, what: string): AsyncGenerator<SmartRecord> {
  let current: SmartRecord | undefined;
  let field: string[] | undefined;
  let fieldName = '';
  for await (const { text, lineNo } of readLines(path, what)) {
    const id = ID_MARKER.exec(text);
    if (id) {
      if (current) yield current;
      if (!id[1] || !/^\d+$/.test(id[1])) throw new UserError(`${where(path, lineNo)}".I" must be followed by a record number`);
      current = { number: id[1], lineNo, fields: new Map() };
      field = undefined;
      fieldName = '';
      continue;
    }
    const marker = FIELD_MARKER.exec(text);
    if (marker) {
      if (!current) throw new UserError(`${where(path, lineNo)}field ".${marker[1]}" before the first ".I" record`);
      // A marker repeated inside the abstract is damage in the file, not a new field:
      // Cranfield's record 240 has stray ".A"/".B" lines in mid-text. Keep the text in .W.
      if (fieldName === 'W' && current.fields.has(marker[1])) continue;
      fieldName = marker[1];
      field = current.fields.get(marker[1]);
      if (field === undefined) {
        field = [];
        current.fields.set(marker[1], field);
      }
      continue;
    }
    if (text.trim() === '') continue;
    if (!field) throw new UserError(`${where(path, lineNo)}text outside a ".I" record field (expected .I, .T, .A, .B or .W first)`);
    field.push(text);
  }
  if (current) yield current;
}

function fieldText(record: SmartRecord, name: string): string {
  return (record.fields.get(name) ?? [])
    .map((line) => line.trim())
    .join(' ')
    .trim();
}

/** Streams the documents of a SMART collection: id = `.I` number, title = `.T`, text = `.W`. */
export async function* readSmartDocs(path: string): AsyncGenerator<Document> {
  const ids = new DocIdTracker(path);
  for await (const record of readSmartRecords(path, 'SMART collection')) {
    const id = String(Number(record.number)); // "001" and "1" name the same document, as in the qrels
    ids.add(id, record.lineNo);
    yield { id, title: fieldText(record, 'T'), text: fieldText(record, 'W') };
  }
  ids.finish();
}

export interface SmartQuery extends Query {
  /** The number after `.I` in the query file (Cranfield's 001..365, with gaps). */
  originalNumber: string;
}

/**
 * Reads a SMART query file. Query ids are the 1-based position in the file, because
 * Cranfield's `cranqrel` numbers its queries 1..225 in file order while `cran.qry`
 * numbers them 001..365 with gaps; the original number is kept alongside.
 */
export async function readSmartQueries(path: string): Promise<SmartQuery[]> {
  const queries: SmartQuery[] = [];
  const numbers = new QueryIdTracker(path);
  for await (const record of readSmartRecords(path, 'SMART query file')) {
    numbers.add(record.number, record.lineNo);
    queries.push({ id: String(queries.length + 1), text: fieldText(record, 'W'), originalNumber: record.number });
  }
  if (queries.length === 0) throw new UserError(`${path}: no queries`);
  return queries;
}

/**
 * Reads Cranfield's graded qrels (`qid docid grade`, whitespace-separated). Grades are
 * Cleverdon's 1 (complete answer) … 4 (minimum interest) and become gains 5 − grade
 * (4 … 1). The one `-1` row per query marks no judgment of relevance and is skipped.
 */
export async function readCranfieldQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { text, lineNo } of readLines(path, 'qrels file')) {
    const fields = text.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields.length !== 3) throw new UserError(`${where(path, lineNo)}expected "query document grade", found ${fields.length} fields`);
    const [queryId, docId, gradeText] = fields;
    if (!/^\d+$/.test(queryId) || !/^\d+$/.test(docId)) throw new UserError(`${where(path, lineNo)}query and document ids must be numbers`);
    if (gradeText === '-1') continue;
    if (!/^[1-4]$/.test(gradeText))
      throw new UserError(`${where(path, lineNo)}relevance grade '${gradeText}' is not one of 1, 2, 3, 4 (or -1)`);
    const query = String(Number(queryId));
    let judged = qrels.get(query);
    if (judged === undefined) {
      judged = new Map();
      qrels.set(query, judged);
    }
    judged.set(String(Number(docId)), 5 - Number(gradeText));
  }
  return qrels;
}

/** File names of the Cranfield collection as distributed by Glasgow. */
export const CRANFIELD_FILES = { docs: 'cran.all.1400', queries: 'cran.qry', qrels: 'cranqrel' } as const;

/**
 * Cranfield: 1,400 aeronautics abstracts, 225 queries, graded judgments. It has no
 * training data, so every query is in the `test` split.
 */
export class CranfieldDataset implements Dataset {
  readonly id = 'cranfield';
  readonly splits = ['test'] as const;
  readonly defaultSplit = 'test';
  private docIds: Set<string> | undefined;
  private readonly queryFile = new Memo<SmartQuery[]>();
  private readonly qrelsFile = new Memo<Qrels>();

  constructor(readonly folder: string) {}

  async *docs(): AsyncGenerator<Document> {
    const ids = new Set<string>();
    for await (const doc of readSmartDocs(join(this.folder, CRANFIELD_FILES.docs))) {
      ids.add(doc.id);
      yield doc;
    }
    this.docIds = ids;
  }

  async queries(split: string): Promise<Query[]> {
    this.checkSplit(split);
    const queries = await this.queryFile.get('all', () => readSmartQueries(join(this.folder, CRANFIELD_FILES.queries)));
    return queries.map(({ id, text }) => ({ id, text }));
  }

  /** The `.I` numbers of cran.qry by query id, for users who need Cranfield's own numbering. */
  async originalQueryNumbers(): Promise<Map<string, string>> {
    const queries = await this.queryFile.get('all', () => readSmartQueries(join(this.folder, CRANFIELD_FILES.queries)));
    return new Map(queries.map((q) => [q.id, q.originalNumber]));
  }

  async qrels(split: string): Promise<Qrels> {
    this.checkSplit(split);
    return this.qrelsFile.get('all', async () => {
      const path = join(this.folder, CRANFIELD_FILES.qrels);
      const qrels = await readCranfieldQrels(path);
      if (this.docIds === undefined)
        for await (const _doc of this.docs()) {
          /* fills docIds */
        }
      warnUnknownJudgedDocs(qrels, this.docIds as Set<string>, path);
      return qrels;
    });
  }

  private checkSplit(split: string): void {
    if (split !== 'test') throw unknownSplit(this.id, split, this.splits);
  }
}
