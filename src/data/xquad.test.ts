import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { XQUAD_LANGUAGES, XquadDataset } from './xquad.js';
import { SquadDataset } from './squad.js';
import { collapseRun } from './collapse.js';
import type { Run } from './types.js';
import { collect } from './testdata/files.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const folder = join(DATA_DIR ?? '', 'xquad');

test('unknown languages are UserErrors listing the 12 codes', () => {
  assert.throws(
    () => new XquadDataset('/nowhere', 'fr'),
    /unknown query language \(--lang\) 'fr' \(one of ar de el en es hi ro ru th tr vi zh\)/,
  );
  assert.throws(() => new XquadDataset('/nowhere', 'en', 'xx'), /unknown corpus language \(--corpus-lang\) 'xx' .*or all/);
  assert.equal(new XquadDataset('/nowhere', 'de').corpusLang, 'de');
  assert.equal(new XquadDataset('/nowhere').relevanceIds, undefined);
  assert.equal(typeof new XquadDataset('/nowhere', 'de', 'all').relevanceIds, 'function');
});

test('every language: 240 paragraphs, 1,190 questions, and the same split', { skip: needsData }, async () => {
  let reference: Record<string, string[]> | undefined;
  for (const lang of XQUAD_LANGUAGES) {
    const dataset = new XquadDataset(folder, lang);
    const docs = await collect(dataset.docs());
    assert.equal(docs.length, 240, lang);
    assert.ok(docs.every((d) => d.lang === lang && d.relevanceId === undefined));
    const splitIds: Record<string, string[]> = {};
    let total = 0;
    for (const split of dataset.splits) {
      const queries = await dataset.queries(split);
      assert.ok(queries.every((q) => q.lang === lang));
      splitIds[split] = queries.map((q) => q.id);
      total += queries.length;
    }
    assert.equal(total, 1190, lang);
    if (reference === undefined) reference = splitIds;
    else assert.deepEqual(splitIds, reference, `${lang} split differs from ${XQUAD_LANGUAGES[0]}`);
  }
  assert.deepEqual(Object.fromEntries(Object.entries(reference!).map(([k, v]) => [k, v.length])), { train: 842, dev: 136, test: 212 });
});

test('an XQuAD question has the split it has in squad-dev (no train/test leak across the two)', { skip: needsData }, async () => {
  const squad = new SquadDataset('squad-dev', join(DATA_DIR as string, 'squad-v1.1-dev', 'dev-v1.1.json'));
  const xquad = new XquadDataset(folder, 'en');
  for (const split of xquad.splits) {
    const squadIds = new Set((await squad.queries(split)).map((q) => q.id));
    for (const query of await xquad.queries(split)) assert.ok(squadIds.has(query.id), `${query.id} (${split})`);
  }
});

test('cross-lingual: German queries, English corpus; judgments name paragraph ids', { skip: needsData }, async () => {
  const dataset = new XquadDataset(folder, 'de', 'en');
  const docs = await collect(dataset.docs());
  assert.ok(docs.every((d) => d.lang === 'en'));
  const queries = await dataset.queries('test');
  const qrels = await dataset.qrels('test');
  const docIds = new Set(docs.map((d) => d.id));
  for (const q of queries) for (const id of qrels.get(q.id)!.keys()) assert.ok(docIds.has(id));
  assert.ok(queries[0].text !== (await new XquadDataset(folder, 'en').queries('test'))[0].text);
});

test('pooled corpus: 2,880 docs sharing 240 relevance ids; collapsing a run keeps the best translation', { skip: needsData }, async () => {
  const dataset = new XquadDataset(folder, 'th', 'all');
  const docs = await collect(dataset.docs());
  assert.equal(docs.length, 2880);
  assert.equal(new Set(docs.map((d) => d.id)).size, 2880);
  assert.deepEqual(docs[0], { ...docs[0], id: 'ar/0_0', relevanceId: '0_0', lang: 'ar' });
  const relevanceIds = await dataset.relevanceIds!();
  assert.equal(relevanceIds.size, 2880);
  assert.equal(new Set(relevanceIds.values()).size, 240);
  assert.equal(relevanceIds.get('zh/47_4'), '47_4');
  const run: Run = new Map([
    [
      'q',
      [
        { docId: 'de/0_0', score: 3 },
        { docId: 'en/0_1', score: 5 },
        { docId: 'th/0_0', score: 4 },
        { docId: 'zh/0_1', score: 1 },
      ],
    ],
  ]);
  assert.deepEqual(collapseRun(run, relevanceIds).get('q'), [
    { docId: '0_1', score: 5 },
    { docId: '0_0', score: 4 },
  ]);
});
