/** Queries given on the command line or in a query file, checked the same way everywhere. */
import { text as readStream } from 'node:stream/consumers';
import { QueryIdTracker } from '../data/corpus.js';
import { readTextFile } from '../data/lines.js';
import type { Query } from '../data/types.js';
import { DEFAULT_MAX_QUERY_TOKENS, MAX_QUERY_CHARS } from '../search/searcher.js';
import { UserError, where } from '../util/errors.js';

/** A query longer than MAX_QUERY_CHARS is a user error; `place` says where it came from. */
export function checkQueryLength(text: string, place: string): void {
  if (text.length > MAX_QUERY_CHARS) {
    throw new UserError(
      `${place}the query is ${text.length} characters; at most ${MAX_QUERY_CHARS} are accepted (the model reads its first ${DEFAULT_MAX_QUERY_TOKENS} tokens)`,
    );
  }
}

/**
 * Parses a query file: one query per line (its id is the line number), or `qid<TAB>text` on
 * every line; the first non-empty line decides which. Blank lines are skipped. Ids must be
 * unique and free of spaces (they become TREC run ids).
 */
export function parseQueryFile(content: string, path: string): Query[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.findIndex((line) => line.trim() !== '');
  if (firstLine < 0) throw new UserError(`${path}: no queries (the file is empty)`);
  const tabSeparated = lines[firstLine].includes('\t');
  const ids = new QueryIdTracker(path);
  const queries: Query[] = [];
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    let id: string;
    let text: string;
    if (tabSeparated) {
      const tab = line.indexOf('\t');
      if (tab < 0) throw new UserError(`${where(path, lineNo)}expected 'qid<TAB>text' as on line ${firstLine + 1}, found no tab`);
      id = line.slice(0, tab).trim();
      text = line.slice(tab + 1).trim();
      if (id === '' || /\s/.test(id)) throw new UserError(`${where(path, lineNo)}query id '${id}' is empty or contains spaces`);
      if (text === '') throw new UserError(`${where(path, lineNo)}query '${id}' has no text`);
    } else {
      if (line.includes('\t')) {
        throw new UserError(
          `${where(path, lineNo)}has a tab, but line ${firstLine + 1} has none: use 'qid<TAB>text' on every line, or one query per line`,
        );
      }
      id = String(lineNo);
      text = line.trim();
    }
    checkQueryLength(text, where(path, lineNo));
    ids.add(id, lineNo);
    queries.push({ id, text });
  });
  return queries;
}

/** Reads the queries of `--queries`: a file, or stdin for `-`. */
export async function readQueryFile(path: string): Promise<Query[]> {
  if (path === '-') return parseQueryFile(await readStream(process.stdin), '<stdin>');
  return parseQueryFile(await readTextFile(path, 'queries file'), path);
}
