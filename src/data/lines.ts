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
 * Parses a whole JSON document; a syntax error becomes a one-line UserError with
 * `file:line:column:`. V8's message does not always carry the offset, so on failure a
 * small scanner finds the first offending character.
 */
export function parseJsonDocument(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const offset = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset);
    const found = offset >= text.length ? 'unexpected end of file' : `unexpected ${JSON.stringify(text[offset])}`;
    throw new UserError(`${path}:${line}:${column}: malformed JSON (${found})`);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON strings may not contain raw control characters, so the pattern must name them.
// eslint-disable-next-line no-control-regex
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Offset of the first character at which `text` stops being valid JSON (text.length if it ends early). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const literal = (word: string): boolean => {
    if (!text.startsWith(word, i)) return false;
    i += word.length;
    return true;
  };
  const sticky = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  // Returns false at the offending offset `i`.
  const value = (depth: number): boolean => {
    skipSpace();
    if (depth > 10_000) return false;
    const c = text[i];
    if (c === '"') {
      i += 1;
      return sticky(STRING_BODY);
    }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i += 1;
      skipSpace();
      if (text[i] === close) {
        i += 1;
        return true;
      }
      while (true) {
        if (c === '{') {
          skipSpace();
          if (text[i] !== '"') return false;
          i += 1;
          if (!sticky(STRING_BODY)) return false;
          skipSpace();
          if (text[i] !== ':') return false;
          i += 1;
        }
        if (!value(depth + 1)) return false;
        skipSpace();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] !== close) return false;
        i += 1;
        return true;
      }
    }
    return literal('true') || literal('false') || literal('null') || sticky(NUMBER);
  };
  if (!value(0)) return i;
  skipSpace();
  return i;
}
