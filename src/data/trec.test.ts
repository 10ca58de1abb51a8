import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { readQrels, readRun, writeQrels, writeRun } from './trec.js';
import type { Qrels, Run } from './types.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'genir-trec-'));
}

async function rejectsAt(promise: Promise<unknown>, location: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.ok(err.message.includes(location), `'${err.message}' should name ${location}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('writeRun writes trec_eval order with ranks 1..n, and readRun reads it back exactly', async () => {
  const dir = tempDir();
  try {
    const run: Run = new Map([
      [
        'q2',
        [
          { docId: 'a', score: 0.1 + 0.2 },
          { docId: 'c', score: 1e-20 },
          { docId: 'b', score: 0.1 + 0.2 },
          { docId: 'd', score: -3 },
        ],
      ],
      ['q1', [{ docId: 'x', score: 5 }]],
    ]);
    const path = join(dir, 'run.trec');
    await writeRun(path, run, 'genir-bm25');
    assert.equal(
      readFileSync(path, 'utf8'),
      'q2 Q0 b 1 0.30000000000000004 genir-bm25\n' +
        'q2 Q0 a 2 0.30000000000000004 genir-bm25\n' +
        'q2 Q0 c 3 1e-20 genir-bm25\n' +
        'q2 Q0 d 4 -3 genir-bm25\n' +
        'q1 Q0 x 1 5 genir-bm25\n',
    );
    const back = await readRun(path);
    assert.deepEqual([...back.keys()], ['q2', 'q1']);
    assert.deepEqual(back.get('q2'), [
      { docId: 'b', score: 0.1 + 0.2 },
      { docId: 'a', score: 0.1 + 0.2 },
      { docId: 'c', score: 1e-20 },
      { docId: 'd', score: -3 },
    ]);
    assert.deepEqual(readdirSync(dir), ['run.trec']); // no temp file left behind
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeQrels and readQrels round-trip; BEIR TSV with its header is read too', async () => {
  const dir = tempDir();
  try {
    const qrels: Qrels = new Map([
      [
        '1',
        new Map([
          ['d1', 2],
          ['d2', 0],
          ['d3', -1],
        ]),
      ],
      ['7', new Map([['d9', 1]])],
    ]);
    const path = join(dir, 'qrels.txt');
    await writeQrels(path, qrels);
    assert.equal(readFileSync(path, 'utf8'), '1 0 d1 2\n1 0 d2 0\n1 0 d3 -1\n7 0 d9 1\n');
    assert.deepEqual(await readQrels(path), qrels);

    const beir = join(dir, 'test.tsv');
    writeFileSync(beir, 'query-id\tcorpus-id\tscore\r\n1\td1\t2\r\n1\td2\t0\r\n1\td3\t-1\r\n7\td9\t1\r\n');
    assert.deepEqual(await readQrels(beir), qrels);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('comments, blank lines and extra run columns are skipped as trec_eval skips them', async () => {
  const dir = tempDir();
  try {
    const qrelsPath = join(dir, 'qrels');
    writeFileSync(qrelsPath, '# judged by hand\n\nq1\t0\td1\t1\n  q1 0   d2 0  \n');
    assert.deepEqual(
      await readQrels(qrelsPath),
      new Map([
        [
          'q1',
          new Map([
            ['d1', 1],
            ['d2', 0],
          ]),
        ],
      ]),
    );
    const runPath = join(dir, 'run');
    writeFileSync(runPath, '# a comment\nq1 Q0 d1 1 2.5 tag extra columns\n\nq1 Q0 d2 7 2.5e0 tag\n');
    assert.deepEqual(
      await readRun(runPath),
      new Map([
        [
          'q1',
          [
            { docId: 'd1', score: 2.5 },
            { docId: 'd2', score: 2.5 },
          ],
        ],
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed qrels lines are UserErrors naming file:line', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'qrels');
    writeFileSync(path, 'q1 0 d1 1\nq1 0 d2\n');
    await rejectsAt(readQrels(path), `${path}:2:`, /expected 4 columns/);
    writeFileSync(path, 'q1 0 d1 1\nq1 0 d2 high\n');
    await rejectsAt(readQrels(path), `${path}:2:`, /'high' is not an integer/);
    writeFileSync(path, 'q1 0 d1 1\nq1 0 d2 0.5\n');
    await rejectsAt(readQrels(path), `${path}:2:`, /not an integer/);
    writeFileSync(path, 'q1 0 d1 1\nq2 0 d1 1\nq1 0 d1 2\n');
    await rejectsAt(readQrels(path), `${path}:3:`, /judges document 'd1' twice, as 1 and 2/);
    writeFileSync(path, 'query-id\tcorpus-id\tscore\nq1\td1\n');
    await rejectsAt(readQrels(path), `${path}:2:`, /3 tab-separated columns/);
    await rejectsAt(readQrels(join(dir, 'missing')), join(dir, 'missing'), /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed run lines are UserErrors naming file:line', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'run');
    writeFileSync(path, 'q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4\n');
    await rejectsAt(readRun(path), `${path}:2:`, /expected 6 columns/);
    writeFileSync(path, 'q1 Q0 d1 1 high t\n');
    await rejectsAt(readRun(path), `${path}:1:`, /score 'high' is not a number/);
    writeFileSync(path, 'q1 Q0 d1 1 0.5 t\nq2 Q0 d1 1 0.5 t\nq1 Q0 d1 3 0.1 t\n');
    await rejectsAt(readRun(path), `${path}:3:`, /lists document 'd1' again \(first on line 1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeRun refuses ids and tags TREC files cannot hold, leaving nothing behind', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'run');
    await assert.rejects(writeRun(path, new Map([['q', [{ docId: 'two words', score: 1 }]]]), 't'), /contains whitespace/);
    await assert.rejects(writeRun(path, new Map([['q', [{ docId: 'd', score: 1 }]]]), 'my run'), /run tag/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const dataDir = process.env.GENIR_DATA_DIR;

test('reads the real SciFact BEIR qrels', { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' }, async () => {
  const qrels = await readQrels(join(dataDir!, 'scifact', 'qrels', 'test.tsv'));
  let judgments = 0;
  for (const judged of qrels.values()) judgments += judged.size;
  // The counts in shared/datasets/README.md: 300 test queries, 339 qrels.
  assert.equal(qrels.size, 300);
  assert.equal(judgments, 339);
});
