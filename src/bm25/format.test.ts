import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnglishAnalyzer } from '../text/analyzers/english.js';
import { MultilingualAnalyzer } from '../text/analyzers/multilingual.js';
import { UserError } from '../util/errors.js';
import { Bm25IndexBuilder } from './builder.js';
import { decodeIndex, loadIndex, saveIndex } from './format.js';
import { Bm25Searcher } from './searcher.js';
import type { IndexData } from './types.js';

const DOCS = [
  { id: 'doc-α', title: 'Graphene', text: 'Graphene is a single layer of carbon atoms.' },
  { id: 'doc-2', title: '', text: 'Carbon nanotubes conduct heat; graphene conducts electricity.' },
  { id: 'd3', title: 'Steel', text: 'Steel is iron with a little carbon.' },
];

function build(fieldMode: 'flat' | 'multi'): IndexData {
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer(), fieldMode });
  for (const doc of DOCS) builder.add(doc);
  return builder.finish();
}

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genir-bm25-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'save and load round-trip every array and give the same search results',
  withTempDir(async (dir) => {
    for (const fieldMode of ['flat', 'multi'] as const) {
      const original = build(fieldMode);
      const path = join(dir, `${fieldMode}.bm25`);
      await saveIndex(original, path);
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.endsWith('.tmp')),
        [],
        'no temp file left',
      );
      const loaded = await loadIndex(path);
      assert.deepEqual(loaded.docIds, original.docIds);
      assert.deepEqual(loaded.terms, original.terms);
      assert.equal(loaded.fieldMode, fieldMode);
      assert.deepEqual(loaded.analyzer, original.analyzer);
      assert.deepEqual(Array.from(loaded.docIdOrder), Array.from(original.docIdOrder));
      loaded.fields.forEach((field, f) => {
        const reference = original.fields[f];
        assert.equal(field.name, reference.name);
        assert.equal(field.docCount, reference.docCount);
        assert.equal(field.sumTotalTermFreq, reference.sumTotalTermFreq);
        for (const key of ['offsets', 'docs', 'freqs', 'norms'] as const)
          assert.deepEqual(Array.from(field[key]), Array.from(reference[key]), key);
        assert.ok(field.docs.buffer instanceof SharedArrayBuffer);
      });
      const query = 'graphene carbon conducts';
      assert.deepEqual(new Bm25Searcher(loaded).search(query, 10), new Bm25Searcher(original).search(query, 10));
    }
    // The analyzer travels with the index.
    const builder = new Bm25IndexBuilder({ analyzer: new MultilingualAnalyzer('de') });
    builder.add({ id: 'x', title: '', text: 'Die Katzen liefen' });
    await saveIndex(builder.finish(), join(dir, 'de.bm25'));
    assert.deepEqual((await loadIndex(join(dir, 'de.bm25'))).analyzer, { name: 'multilingual', lang: 'de' });
  }),
);

test(
  'a truncated, corrupted, foreign or newer file is a one-line UserError',
  withTempDir(async (dir) => {
    const path = join(dir, 'index.bm25');
    await saveIndex(build('flat'), path);
    const bytes = readFileSync(path);
    const expectError = (data: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => decodeIndex(data, path),
        (err: unknown) => err instanceof UserError && pattern.test(err.message) && !err.message.includes('\n'),
      );
    expectError(bytes.subarray(0, bytes.length - 100), /truncated/);
    expectError(bytes.subarray(0, 10), /bad magic|truncated/);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0xff;
    expectError(flipped, /checksum/);
    expectError(Buffer.from('{"not": "an index"}\n'), /not a genir BM25 index/);
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(99, 8);
    expectError(newer, /version 99/);
    expectError(Buffer.concat([bytes, Buffer.from([0])]), /unexpected bytes/);
    writeFileSync(join(dir, 'empty.bm25'), '');
    await assert.rejects(loadIndex(join(dir, 'empty.bm25')), /bad magic/);
    await assert.rejects(loadIndex(join(dir, 'missing.bm25')), /no such index file/);
  }),
);
