import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeirDataset, readBeirCorpus, readBeirQrels, readBeirQueries } from './beir.js';
import { UserError } from '../util/errors.js';
import { collect } from './testdata/files.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-beir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `fn` while capturing what is written to stderr (warnings). */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{ result: T; stderr: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), stderr };
  } finally {
    process.stderr.write = original;
  }
}

function beirFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmp, 'folder-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const corpus = [
  '{"_id": "d1", "title": "Alpha", "text": "first text"}',
  '{"_id": "d2", "title": "Beta", "text": "second text"}',
  '{"_id": 3, "text": "numeric id, no title"}',
].join('\n');
const queries = ['{"_id": "q1", "text": "what is alpha"}', '{"_id": "q2", "text": "beta?"}', '{"_id": "q3", "text": "unjudged"}'].join(
  '\n',
);

test('BEIR folder: corpus, queries filtered to the judged ones, qrels with header', async () => {
  const dir = beirFolder({
    'corpus.jsonl': `${corpus}\n`,
    'queries.jsonl': queries,
    'qrels/test.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\td1\t0\n',
  });
  const dataset = await BeirDataset.open(dir);
  assert.deepEqual(dataset.splits, ['test']);
  assert.equal(dataset.defaultSplit, 'test');
  const docs = await collect(dataset.docs());
  assert.deepEqual(docs, [
    { id: 'd1', title: 'Alpha', text: 'first text' },
    { id: 'd2', title: 'Beta', text: 'second text' },
    { id: '3', title: '', text: 'numeric id, no title' },
  ]);
  assert.deepEqual(await dataset.queries('test'), [
    { id: 'q1', text: 'what is alpha' },
    { id: 'q2', text: 'beta?' },
  ]);
  const qrels = await dataset.qrels('test');
  assert.deepEqual(
    [...qrels.get('q2')!],
    [
      ['d2', 2],
      ['d1', 0],
    ],
  );
  await assert.rejects(dataset.qrels('train'), /unknown split 'train' \(available: test\)/);
});

test('malformed JSONL line → UserError naming file and line', async () => {
  const dir = beirFolder({ 'corpus.jsonl': '{"_id": "d1", "text": "ok"}\n\n{"_id": "d2", "text": oops}\n' });
  const path = join(dir, 'corpus.jsonl');
  await assert.rejects(collect(readBeirCorpus(path)), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: malformed JSON line \\(unexpected "o" at column 23\\)$`),
    );
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  writeFileSync(path, '{"title": "no id"}\n');
  await assert.rejects(collect(readBeirCorpus(path)), /corpus\.jsonl:1: missing or empty "_id"/);
  writeFileSync(path, '[1, 2]\n');
  await assert.rejects(collect(readBeirCorpus(path)), /corpus\.jsonl:1: expected a JSON object/);
  const queryPath = join(dir, 'queries.jsonl');
  writeFileSync(queryPath, '{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n');
  await assert.rejects(readBeirQueries(queryPath), /queries\.jsonl:2: duplicate query id 'q1'/);
});

test('duplicate document id and empty corpus are UserErrors', async () => {
  const dir = beirFolder({ 'corpus.jsonl': '{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": "b"}\n{"_id": "d1", "text": "c"}\n' });
  await assert.rejects(collect(readBeirCorpus(join(dir, 'corpus.jsonl'))), /corpus\.jsonl:3: duplicate document id 'd1'/);
  writeFileSync(join(dir, 'corpus.jsonl'), '\n\n');
  await assert.rejects(
    collect(readBeirCorpus(join(dir, 'corpus.jsonl'))),
    (err: Error) => err instanceof UserError && /empty corpus/.test(err.message),
  );
  await assert.rejects(collect(readBeirCorpus(join(dir, 'missing.jsonl'))), /missing\.jsonl: BEIR corpus not found/);
});

test('malformed qrels lines name file and line', async () => {
  const dir = beirFolder({ 'a.tsv': 'q1\td1\t1\nq1 d2 1\n', 'b.tsv': 'query-id\tcorpus-id\tscore\nq1\td1\tyes\n' });
  await assert.rejects(readBeirQrels(join(dir, 'a.tsv')), /a\.tsv:2: expected 3 tab-separated fields/);
  await assert.rejects(readBeirQrels(join(dir, 'b.tsv')), /b\.tsv:2: relevance score 'yes' is not an integer/);
});

test('qrels naming unknown documents → one warning with the count; judgments kept', async () => {
  const dir = beirFolder({
    'corpus.jsonl': corpus,
    'queries.jsonl': queries,
    'qrels/test.tsv': 'q1\td1\t1\nq1\tghost1\t1\nq2\tghost2\t1\nq9\td2\t1\n',
  });
  const dataset = await BeirDataset.open(dir);
  const { result, stderr } = await captureStderr(async () => ({
    qrels: await dataset.qrels('test'),
    queries: await dataset.queries('test'),
  }));
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 2, stderr);
  assert.match(
    lines[0],
    /^genir: warning: .*qrels\/test\.tsv: 2 judgments name documents that are not in the corpus \(first: q1 → ghost1\)/,
  );
  assert.match(lines[1], /^genir: warning: .*qrels\/test\.tsv: 1 judged query is not in .*queries\.jsonl; skipped$/);
  assert.equal(result.qrels.get('q1')?.get('ghost1'), 1);
  assert.deepEqual(
    result.queries.map((q) => q.id),
    ['q1', 'q2'],
  );
});

test('a folder that is not BEIR is a clear UserError', async () => {
  const dir = beirFolder({ 'corpus.jsonl': corpus });
  await assert.rejects(BeirDataset.open(dir), /queries\.jsonl: not found/);
  const withQueries = beirFolder({ 'corpus.jsonl': corpus, 'queries.jsonl': queries });
  await assert.rejects(BeirDataset.open(withQueries), /no qrels\/ directory/);
});

test('SciFact from GENIR_DATA_DIR: 5,183 docs, 300 test / 809 train queries, 339 / 919 qrels', { skip: needsData }, async () => {
  const started = performance.now();
  const dataset = await BeirDataset.open(join(DATA_DIR as string, 'scifact'), 'scifact');
  const docs = await collect(dataset.docs());
  const elapsed = performance.now() - started;
  assert.equal(docs.length, 5183);
  assert.equal(docs[0].id, '4983');
  assert.ok(docs[0].title.startsWith('Microstructural development of human newborn'));
  const { result, stderr } = await captureStderr(async () => ({
    test: await dataset.queries('test'),
    testQrels: await dataset.qrels('test'),
    train: await dataset.queries('train'),
    trainQrels: await dataset.qrels('train'),
  }));
  assert.equal(stderr, '', 'no warnings on the official data');
  assert.equal(result.test.length, 300);
  assert.equal(result.train.length, 809);
  const judgments = (qrels: Map<string, Map<string, number>>) => [...qrels.values()].reduce((n, m) => n + m.size, 0);
  assert.equal(judgments(result.testQrels), 339);
  assert.equal(judgments(result.trainQrels), 919);
  assert.deepEqual([...result.testQrels.get('1')!], [['31715818', 1]]);
  assert.ok(elapsed < 3000, `corpus read in ${elapsed.toFixed(0)} ms`);
});
