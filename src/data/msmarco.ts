import { UserError, where } from '../util/errors.js';
import { DocIdTracker, QueryIdTracker } from './corpus.js';
import { readLines } from './lines.js';
import type { Document, Query } from './types.js';

function splitTsvLine(text: string, path: string, lineNo: number, what: string): [string, string] {
  const tab = text.indexOf('\t');
  if (tab < 0) throw new UserError(`${where(path, lineNo)}expected "id<TAB>text" (${what}), found no tab`);
  const id = text.slice(0, tab).trim();
  if (id === '') throw new UserError(`${where(path, lineNo)}empty id`);
  // Text may itself contain tabs in some dumps; everything after the first one is text.
  return [id, text.slice(tab + 1)];
}

/**
 * Streams an MS MARCO-style `collection.tsv` (`pid<TAB>passage` per line, no header).
 * A line without a tab, a repeated id or an empty file is a UserError.
 */
export async function* readCollectionTsv(path: string): AsyncGenerator<Document> {
  const ids = new DocIdTracker(path);
  for await (const { text, lineNo } of readLines(path, 'TSV collection')) {
    if (text.trim() === '') continue;
    const [id, passage] = splitTsvLine(text, path, lineNo, 'collection');
    ids.add(id, lineNo);
    yield { id, title: '', text: passage };
  }
  ids.finish();
}

/** Reads an MS MARCO-style `queries.tsv` (`qid<TAB>query` per line), in file order. */
export async function readQueriesTsv(path: string): Promise<Query[]> {
  const queries: Query[] = [];
  const ids = new QueryIdTracker(path);
  for await (const { text, lineNo } of readLines(path, 'TSV queries file')) {
    if (text.trim() === '') continue;
    const [id, query] = splitTsvLine(text, path, lineNo, 'queries');
    ids.add(id, lineNo);
    queries.push({ id, text: query });
  }
  return queries;
}
