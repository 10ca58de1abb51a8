/** What the reader tests of src/data share: reading a document stream whole, and small files in a temporary folder. */
import { after } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from '../types.js';

export async function collect(docs: AsyncIterable<Document>): Promise<Document[]> {
  const all: Document[] = [];
  for await (const doc of docs) all.push(doc);
  return all;
}

/** A temporary folder, removed after the test file, and a function that writes a named file into it and returns its path. */
export function tempFiles(prefix: string): (name: string, content: string) => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return (name, content) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
}
