import { createReadStream, promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserError } from '../util/errors.js';

/** One line of a text file with its 1-based line number (for error messages). */
export interface NumberedLine {
  text: string;
  lineNo: number;
}

/** Throws a UserError naming the file when it cannot be read (missing, a folder, no permission). */
export async function assertReadableFile(path: string, what = 'file'): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await fsp.stat(path)).isFile();
  } catch {
    throw new UserError(`${path}: ${what} not found`);
  }
  if (!isFile) throw new UserError(`${path}: ${what} is not a regular file`);
}

/**
 * Streams a UTF-8 text file line by line, so a corpus of any size is never held as one
 * string. A leading byte-order mark and a trailing `\r` (CRLF files) are removed.
 */
export async function* readLines(path: string, what = 'file'): AsyncGenerator<NumberedLine> {
  await assertReadableFile(path, what);
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo += 1;
      let text = raw;
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      yield { text, lineNo };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Reads a whole (small) text file, e.g. a SQuAD JSON file; missing files become a UserError. */
export async function readTextFile(path: string, what = 'file'): Promise<string> {
  await assertReadableFile(path, what);
  const text = await fsp.readFile(path, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses a whole JSON document; a syntax error becomes a UserError with `file:line:`.
 * V8 reports the failing character offset ("at position N"), which is mapped to a line.
 */
export function parseJsonDocument(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const line = lineOfOffset(text, offset);
    throw new UserError(`${path}:${line}: malformed JSON (${message.replace(/ in JSON at position \d+.*$/, '')})`);
  }
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}
