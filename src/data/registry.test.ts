import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collapseRun, datasetInfo, listDatasets, openDataset, parseDatasetId, resolveDataDir } from './registry.js';
import { UserError } from '../util/errors.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-registry-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('resolveDataDir: --data-dir > GENIR_DATA_DIR > ~/.cache/genir/datasets', () => {
  const saved = process.env.GENIR_DATA_DIR;
  try {
    process.env.GENIR_DATA_DIR = '/from/env';
    assert.equal(resolveDataDir('/explicit'), '/explicit');
    assert.equal(resolveDataDir('relative/dir'), resolve('relative/dir'));
    assert.equal(resolveDataDir(), '/from/env');
    delete process.env.GENIR_DATA_DIR;
    assert.equal(resolveDataDir(), join(homedir(), '.cache', 'genir', 'datasets'));
    process.env.GENIR_DATA_DIR = '';
    assert.equal(resolveDataDir(), join(homedir(), '.cache', 'genir', 'datasets'));
  } finally {
    if (saved === undefined) delete process.env.GENIR_DATA_DIR;
    else process.env.GENIR_DATA_DIR = saved;
  }
});

test('listDatasets names the four registered ids with licence and source', () => {
  const all = listDatasets();
  assert.deepEqual(
    all.map((d) => d.id),
    ['scifact', 'squad-dev', 'xquad', 'cranfield'],
  );
  for (const d of all) {
    assert.ok(d.licence.length > 0 && d.sourceUrl.startsWith('http'), d.id);
    assert.ok(d.splits.includes(d.defaultSplit));
  }
});

test('unknown id → UserError listing the known ids; options that do not apply are refused', async () => {
  await assert.rejects(openDataset({ id: 'msmarco' }), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.equal(
      err.message,
      "unknown dataset 'msmarco' (known: scifact, squad-dev, xquad, cranfield; or give the path of a BEIR folder or a SQuAD .json file)",
    );
    return true;
  });
  await assert.rejects(openDataset({ id: 'scifact', lang: 'de' }), /--lang and --corpus-lang apply to xquad only/);
  await assert.rejects(openDataset({ id: './no/such/folder' }), /no\/such\/folder: dataset folder not found/);
});

test('a registered dataset missing from the data dir says how to get it', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await assert.rejects(
    openDataset({ id: 'scifact', dataDir: empty }),
    /scifact\/corpus\.jsonl: not found; dataset 'scifact' is not in .*empty \(run `genir datasets fetch scifact`/,
  );
});

test('any local BEIR folder or SQuAD file opens by path', async () => {
  const folder = join(tmp, 'mybeir');
  mkdirSync(join(folder, 'qrels'), { recursive: true });
  writeFileSync(join(folder, 'corpus.jsonl'), '{"_id":"a","title":"","text":"x"}\n');
  writeFileSync(join(folder, 'queries.jsonl'), '{"_id":"q","text":"x"}\n');
  writeFileSync(join(folder, 'qrels', 'dev.tsv'), 'q\ta\t1\n');
  const beir = await openDataset({ id: folder });
  assert.equal(beir.id, folder);
  assert.equal(beir.defaultSplit, 'dev');
  const info = await datasetInfo(folder);
  assert.deepEqual(
    { docs: info.docs, queries: info.queries, qrels: info.qrels, licence: info.licence },
    { docs: 1, queries: { dev: 1 }, qrels: { dev: 1 }, licence: 'unknown (local files)' },
  );
  const squad = join(tmp, 'squad.json');
  writeFileSync(squad, JSON.stringify({ data: [{ title: 'T', paragraphs: [{ context: 'c', qas: [{ id: 'x', question: 'q?' }] }] }] }));
  const squadInfo = await datasetInfo({ id: squad });
  assert.equal(squadInfo.docs, 1);
  assert.equal(
    Object.values(squadInfo.queries).reduce((a, b) => a + b, 0),
    1,
  );
});

test('datasetInfo on the shared data: the published counts', { skip: needsData }, async () => {
  const scifact = await datasetInfo('scifact');
  assert.deepEqual(
    { docs: scifact.docs, queries: scifact.queries, qrels: scifact.qrels, splits: scifact.splits, licence: scifact.licence },
    {
      docs: 5183,
      queries: { test: 300, train: 809 },
      qrels: { test: 339, train: 919 },
      splits: ['test', 'train'],
      licence: 'CC BY-NC 2.0',
    },
  );
  const squad = await datasetInfo('squad-dev');
  assert.equal(squad.docs, 2067);
  assert.equal(
    Object.values(squad.queries).reduce((a, b) => a + b, 0),
    10570,
  );
  const xquad = await datasetInfo({ id: 'xquad', lang: 'de' });
  assert.deepEqual([xquad.docs, xquad.lang, xquad.corpusLang], [240, 'de', 'de']);
  assert.equal(
    Object.values(xquad.queries).reduce((a, b) => a + b, 0),
    1190,
  );
  const pooled = await datasetInfo({ id: 'xquad', corpusLang: 'all' });
  assert.deepEqual([pooled.docs, pooled.lang, pooled.corpusLang], [2880, 'en', 'all']);
  const cranfield = await datasetInfo('cranfield');
  assert.deepEqual([cranfield.docs, cranfield.queries.test, cranfield.qrels.test], [1400, 225, 1612]);
});

test('openDataset: SciFact loads fast; the pooled XQuAD corpus carries relevance ids for collapseRun', { skip: needsData }, async () => {
  const started = performance.now();
  const scifact = await openDataset({ id: 'scifact' });
  let docs = 0;
  for await (const _doc of scifact.docs()) docs += 1;
  await scifact.qrels('test');
  const elapsed = performance.now() - started;
  assert.equal(docs, 5183);
  assert.ok(elapsed < 2000, `SciFact opened and read in ${elapsed.toFixed(0)} ms`);
  assert.equal(scifact.relevanceIds, undefined);

  const pooled = await openDataset({ id: 'xquad', lang: 'es', corpusLang: 'all' });
  const relevanceIds = await pooled.relevanceIds!();
  const run = new Map([
    [
      'q',
      [
        { docId: 'es/3_1', score: 2 },
        { docId: 'vi/3_1', score: 9 },
        { docId: 'en/0_0', score: 1 },
      ],
    ],
  ]);
  assert.deepEqual(collapseRun(run, relevanceIds).get('q'), [
    { docId: '3_1', score: 9 },
    { docId: '0_0', score: 1 },
  ]);
});

const datasetIds: [string, ReturnType<typeof parseDatasetId>][] = [
  ['xquad/de', { id: 'xquad', lang: 'de' }],
  ['xquad/de/en', { id: 'xquad', lang: 'de', corpusLang: 'en' }],
  ['xquad/es/all', { id: 'xquad', lang: 'es', corpusLang: 'all' }],
  ['xquad/de/en/test', { id: 'xquad', lang: 'de', corpusLang: 'en', split: 'test' }],
  ['squad-dev/test', { id: 'squad-dev', split: 'test' }],
  ['scifact', { id: 'scifact' }],
  // Not a registered id first: a path, opened as a folder or file.
  ['./scifact/test', { id: './scifact/test' }],
  ['/data/beir/nfcorpus', { id: '/data/beir/nfcorpus' }],
];
for (const [text, expected] of datasetIds) {
  test(`parseDatasetId('${text}') reads the id path as ir_datasets writes it`, () => {
    assert.deepEqual(parseDatasetId(text), expected);
  });
}

const badDatasetIds: [string, RegExp][] = [
  ['xquad/zz', /^dataset 'xquad\/zz': query language 'zz' is not one of ar, de, .*, zh$/],
  ['xquad/de/zz', /^dataset 'xquad\/de\/zz': corpus language 'zz' is not one of .*, all$/],
  ['xquad/de/en/fr', /^dataset 'xquad\/de\/en\/fr': expected xquad\[\/<query lang>\[\/<corpus lang>\]\]\[\/<split>\]$/],
  ['squad-dev/de', /^dataset 'squad-dev\/de': expected squad-dev or squad-dev\/<split>/],
];
for (const [text, message] of badDatasetIds) {
  test(`parseDatasetId('${text}') is one UserError naming the id`, () => {
    assert.throws(
      () => parseDatasetId(text),
      (err: unknown) => err instanceof UserError && message.test(err.message),
    );
  });
}

test('openDataset takes id paths: languages and split from the id, the same dataset as the options give', { skip: needsData }, async () => {
  const fromPath = await openDataset({ id: 'xquad/de/en' });
  const fromOptions = await openDataset({ id: 'xquad', lang: 'de', corpusLang: 'en' });
  assert.deepEqual([fromPath.lang, fromPath.corpusLang], ['de', 'en']);
  assert.deepEqual(await fromPath.queries('test'), await fromOptions.queries('test'));
  const cranfield = await openDataset({ id: 'cranfield/test' });
  assert.equal(cranfield.defaultSplit, 'test');
  assert.equal((await datasetInfo('xquad/de')).lang, 'de');
  await assert.rejects(
    openDataset({ id: 'xquad/de', lang: 'fr' }),
    /^UserError: dataset 'xquad\/de' and --lang fr disagree; give the value once$/,
  );
  await assert.rejects(
    openDataset({ id: 'cranfield/train' }),
    /^UserError: dataset 'cranfield\/train': no split 'train' \(splits: test\)$/,
  );
});
