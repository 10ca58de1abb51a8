import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Document } from '../../../data/types.js';
import { UserError } from '../../../util/errors.js';
import { readTeacherRun } from './teacher.js';

// Paragraph p1 in two languages (one key), p2 and p3 in English.
const DOCS: Document[] = [
  { id: 'en/p1', title: '', text: '', relevanceId: 'p1' },
  { id: 'de/p1', title: '', text: '', relevanceId: 'p1' },
  { id: 'en/p2', title: '', text: '', relevanceId: 'p2' },
  { id: 'en/p3', title: '', text: '', relevanceId: 'p3' },
];
const CORPUS = { docs: DOCS, keyOf: (doc: Document) => doc.relevanceId ?? doc.id };

async function withRun<T>(lines: string[], body: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'genir-teacher-'));
  try {
    const path = join(dir, 'teacher.run');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return await body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('teacher run: a key scores its best document, an unlisted key its query lowest score, all times the scale', async () => {
  await withRun(['q1 Q0 de/p1 1 7.5 t', 'q1 Q0 en/p1 2 6 t', 'q1 Q0 en/p2 3 2.5 t', 'q2 Q0 en/p3 1 4 t'], async (path) => {
    const teacher = await readTeacherRun(path, CORPUS, 2);
    assert.equal(teacher.score('q1', 'p1'), 15);
    assert.equal(teacher.score('q1', 'p2'), 5);
    assert.equal(teacher.score('q1', 'p3'), 5, 'below the run depth: the lowest listed score');
    assert.equal(teacher.score('q2', 'p3'), 8);
    assert.deepEqual(teacher.lookups(), { total: 4, listed: 3 });
  });
});

test('teacher run: a query it does not rank, or a document the dataset lacks, is a user error naming the file', async () => {
  await withRun(['q1 Q0 en/p1 1 1 t'], async (path) => {
    const teacher = await readTeacherRun(path, CORPUS, 1);
    assert.throws(
      () => teacher.score('q9', 'p1'),
      (err: Error) => err instanceof UserError && err.message.includes(path) && /training query 'q9'/.test(err.message),
    );
  });
  await withRun(['q1 Q0 fr/p1 1 1 t'], async (path) => {
    await assert.rejects(
      readTeacherRun(path, CORPUS, 1),
      (err: Error) => err instanceof UserError && err.message.includes(path) && /'fr\/p1'/.test(err.message),
    );
  });
});

test('teacher run for XQuAD: one trained language takes the run of its queries as they are; several need lang/qid ids', async () => {
  await withRun(['q1 Q0 en/p1 1 3 t'], async (path) => {
    const single = await readTeacherRun(path, { ...CORPUS, languages: ['en'] }, 1);
    assert.equal(single.score('en/q1', 'p1'), 3);
    const pooled = await readTeacherRun(path, { ...CORPUS, languages: ['en', 'de'] }, 1);
    assert.throws(
      () => pooled.score('en/q1', 'p1'),
      (err: Error) => err instanceof UserError && /written lang\/qid/.test(err.message),
    );
  });
});
