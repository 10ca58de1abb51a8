import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir } from '../testing.js';
import { TINY_CORPUS, writeTinyDataset, writeTinyModel } from '../testdata/tiny-model.js';

let root: string;
let untitled: string;
let titled: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-search-snippets-'));
  untitled = await writeTinyModel(
    join(root, 'untitled'),
    { id: writeTinyDataset(join(root, 'data-untitled'), { titles: false }) },
    { titles: false },
  );
  titled = await writeTinyModel(join(root, 'titled'), { id: writeTinyDataset(join(root, 'data')) });
});

after(() => rmSync(root, { recursive: true, force: true }));

interface Report {
  results: { docId: string; title: string | null; snippet: string | null }[];
}

test('genir search over a corpus without titles (as MED) prints a snippet of each hit; --json carries it', async () => {
  const result = await runGenir([
    'search',
    '--model',
    untitled,
    '--k',
    '4',
    '--beam',
    '4',
    '--threads',
    '1',
    '--json',
    'glacier melt water',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Report;
  assert.equal(report.results.length, 4);
  for (const hit of report.results) {
    const text = TINY_CORPUS.find((d) => d.id === hit.docId)!.text;
    assert.equal(hit.snippet, text);
    assert.ok(result.stdout.includes(`\n      ${text}\n`), `the text of ${hit.docId} is printed under its row`);
  }
});

test('genir search --mode bm25 and hybrid print snippets too', async () => {
  for (const mode of ['bm25', 'hybrid']) {
    const result = await runGenir([
      'search',
      '--model',
      titled,
      '--mode',
      mode,
      '--k',
      '2',
      '--beam',
      '4',
      '--threads',
      '1',
      '--json',
      'glacier melt water',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Report;
    assert.ok(report.results.some((hit) => hit.docId === 'd1'));
    assert.ok(result.stdout.includes('Rivers in the Alps carry melt water from glaciers to the lowlands.'), mode);
  }
});

test('genir search without the dataset at hand: results without snippets and one warning line', async () => {
  const orphan = await writeTinyModel(join(root, 'orphan'), { id: join(root, 'gone') });
  const result = await runGenir(['search', '--model', orphan, '--k', '2', '--beam', '4', '--threads', '1', '--json', 'tides']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^genir: warning: no document text for snippets \(.*\)\n$/);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as Report;
  assert.deepEqual(
    report.results.map((hit) => hit.snippet),
    [null, null],
  );
});
