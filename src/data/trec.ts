/**
 * TREC qrels and run files, the formats trec_eval reads, plus BEIR's qrels TSV.
 *
 * qrels: `qid iter docid rel` (whitespace separated; iter ignored), or BEIR's
 *   `query-id<TAB>corpus-id<TAB>score` with that header line.
 * run:   `qid Q0 docid rank score tag`; as in trec_eval the rank column is ignored
 *   (documents are ordered by score, ties by document id descending) and columns
 *   after the tag are ignored.
 * Lines starting with `#` and blank lines are skipped, as trec_eval skips them.
 */
import type { Qrels, Run } from './types.js';
import { UserError, where } from '../util/errors.js';
import { writeLinesAtomic } from '../util/atomic.js';
import { sortRanking } from './ranking.js';
import { readLines } from './lines.js';

const BEIR_HEADER = /^query-id\tcorpus-id\tscore\s*$/;
const WHITESPACE = /\s+/;

function fields(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === '' ? [] : trimmed.split(WHITESPACE);
}

function parseGrade(text: string, path: string, line: number): number {
  const grade = Number(text);
  if (text === '' || !Number.isInteger(grade)) {
    throw new UserError(`${where(path, line)}relevance '${text}' is not an integer`);
  }
  return grade;
}

/**
 * Reads TREC qrels (`qid iter docid rel`) or BEIR qrels (`query-id corpus-id score` header,
 * tab separated). A document judged twice for one query with different grades is an error;
 * an exact repeat is ignored.
 */
export async function readQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  let beir = false;
  let sawContent = false;
  for await (const { text: line, lineNo: number } of readLines(path, 'qrels file')) {
    if (!sawContent && BEIR_HEADER.test(line)) {
      beir = true;
      sawContent = true;
      continue;
    }
    if (line.startsWith('#')) continue;
    let queryId: string;
    let docId: string;
    let gradeText: string;
    if (beir) {
      if (line.trim() === '') continue;
      const parts = line.split('\t');
      if (parts.length !== 3) {
        throw new UserError(`${where(path, number)}expected 3 tab-separated columns 'query-id corpus-id score', got ${parts.length}`);
      }
      [queryId, docId, gradeText] = parts.map((part) => part.trim());
    } else {
      const parts = fields(line);
      if (parts.length === 0) continue;
      if (parts.length !== 4) {
        throw new UserError(`${where(path, number)}expected 4 columns 'qid iter docid rel', got ${parts.length}`);
      }
      [queryId, , docId, gradeText] = parts;
    }
    sawContent = true;
    if (queryId === '' || docId === '') throw new UserError(`${where(path, number)}empty query or document id`);
    const grade = parseGrade(gradeText, path, number);
    let judgments = qrels.get(queryId);
    if (judgments === undefined) {
      judgments = new Map();
      qrels.set(queryId, judgments);
    }
    const previous = judgments.get(docId);
    if (previous !== undefined && previous !== grade) {
      throw new UserError(`${where(path, number)}query '${queryId}' judges document '${docId}' twice, as ${previous} and ${grade}`);
    }
    judgments.set(docId, grade);
  }
  return qrels;
}

/** Writes qrels as TREC `qid 0 docid rel` lines, atomically. */
export async function writeQrels(path: string, qrels: Qrels): Promise<void> {
  await writeLinesAtomic(path, qrelsLines(path, qrels));
}

function* qrelsLines(path: string, qrels: Qrels): Generator<string> {
  for (const [queryId, judgments] of qrels) {
    checkToken(queryId, 'query id', path);
    for (const [docId, grade] of judgments) {
      checkToken(docId, 'document id', path);
      if (!Number.isInteger(grade))
        throw new UserError(`${where(path)}grade ${grade} of query '${queryId}', document '${docId}' is not an integer`);
      yield `${queryId} 0 ${docId} ${grade}\n`;
    }
  }
}

/**
 * Reads a TREC run (`qid Q0 docid rank score tag`). Entries keep file order; the rank
 * column is not used. A document listed twice for one query is an error (trec_eval
 * refuses such runs), as is a score that is not a number.
 */
export async function readRun(path: string): Promise<Run> {
  const run: Run = new Map();
  const seen = new Map<string, Map<string, number>>();
  for await (const { text: line, lineNo: number } of readLines(path, 'run file')) {
    if (line.startsWith('#')) continue;
    const parts = fields(line);
    if (parts.length === 0) continue;
    if (parts.length < 6) {
      throw new UserError(`${where(path, number)}expected 6 columns 'qid Q0 docid rank score tag', got ${parts.length}`);
    }
    const [queryId, , docId, , scoreText] = parts;
    const score = Number(scoreText);
    if (Number.isNaN(score)) throw new UserError(`${where(path, number)}score '${scoreText}' is not a number`);
    let entries = run.get(queryId);
    let docLines = seen.get(queryId);
    if (entries === undefined || docLines === undefined) {
      entries = [];
      docLines = new Map();
      run.set(queryId, entries);
      seen.set(queryId, docLines);
    }
    const firstLine = docLines.get(docId);
    if (firstLine !== undefined) {
      throw new UserError(`${where(path, number)}query '${queryId}' lists document '${docId}' again (first on line ${firstLine})`);
    }
    docLines.set(docId, number);
    entries.push({ docId, score });
  }
  return run;
}

/**
 * Writes a run in TREC format, atomically: each query's documents in trec_eval's order
 * (score descending, ties by document id descending), ranks 1..n, scores printed so
 * that they read back to the same number.
 */
export async function writeRun(path: string, run: Run, tag: string): Promise<void> {
  checkToken(tag, 'run tag', path);
  await writeLinesAtomic(path, runLines(path, run, tag));
}

function* runLines(path: string, run: Run, tag: string): Generator<string> {
  for (const [queryId, entries] of run) {
    checkToken(queryId, 'query id', path);
    const ranking = sortRanking(entries);
    for (let i = 0; i < ranking.length; i++) {
      const { docId, score } = ranking[i];
      checkToken(docId, 'document id', path);
      if (Number.isNaN(score)) throw new UserError(`${where(path)}query '${queryId}', document '${docId}' has score NaN`);
      yield `${queryId} Q0 ${docId} ${i + 1} ${score} ${tag}\n`;
    }
  }
}

/** TREC files are whitespace separated: an id with whitespace in it cannot be written. */
function checkToken(token: string, what: string, path: string): void {
  if (token === '' || /\s/.test(token)) throw new UserError(`${where(path)}${what} '${token}' is empty or contains whitespace`);
}
