import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDataset } from '../../../data/registry.js';
import type { Document } from '../../../data/types.js';
import { UserError } from '../../../util/errors.js';
import { Rng } from '../../../util/random.js';
import { DDRO_BANDS, keyedRng, sampleStratified, scaleBands } from './bands.js';
import { bm25KeyRankings, mineBm25Negatives } from './bm25.js';
import { cachedTriples, readTriples, writeTriples, type TripleGroup } from './triples.js';

test("bands are DDRO's at depth 1000 and scale with the corpus below it", () => {
  assert.deepEqual(scaleBands(DDRO_BANDS, 1000, 1000), DDRO_BANDS);
  assert.deepEqual(scaleBands(DDRO_BANDS, 1000, 5000), DDRO_BANDS);
  assert.deepEqual(scaleBands(DDRO_BANDS, 1000, 240), [
    { from: 1, to: 24, count: 10 },
    { from: 25, to: 120, count: 10 },
    { from: 121, to: 240, count: 12 },
  ]);
  // 5 documents: ranks [1, 0] (empty, dropped), [1, 2], [3, 5].
  assert.deepEqual(scaleBands(DDRO_BANDS, 1000, 5), [
    { from: 1, to: 2, count: 10 },
    { from: 3, to: 5, count: 12 },
  ]);
});

test("stratified sampling draws each band's count, skips positives and depends only on the seed", () => {
  const ranking = Array.from({ length: 1000 }, (_, i) => `d${i + 1}`);
  const positives = new Set(['d3', 'd150', 'd999']);
  const sample = sampleStratified(ranking, positives, DDRO_BANDS, new Rng(5));
  assert.equal(sample.length, 32);
  assert.equal(sample.filter((n) => n.rank <= 100).length, 10);
  assert.equal(sample.filter((n) => n.rank > 100 && n.rank <= 500).length, 10);
  assert.equal(sample.filter((n) => n.rank > 500).length, 12);
  assert.ok(sample.every((n) => !positives.has(n.key) && n.key === `d${n.rank}`));
  assert.equal(new Set(sample.map((n) => n.key)).size, 32);
  assert.deepEqual(
    sample.map((n) => n.rank),
    [...sample.map((n) => n.rank)].sort((a, b) => a - b),
  );
  assert.deepEqual(sampleStratified(ranking, positives, DDRO_BANDS, new Rng(5)), sample);
  assert.notDeepEqual(sampleStratified(ranking, positives, DDRO_BANDS, new Rng(6)), sample);
  // A band with fewer candidates than its count gives all of them.
  const small = sampleStratified(['a', 'b', 'c', 'd'], new Set(['b']), [{ from: 1, to: 4, count: 10 }], new Rng(1));
  assert.deepEqual(
    small.map((n) => n.key),
    ['a', 'c', 'd'],
  );
});

test('keyed generators differ by name and repeat for the same name', () => {
  assert.equal(keyedRng(1, 'q1').next(), keyedRng(1, 'q1').next());
  assert.notEqual(keyedRng(1, 'q1').next(), keyedRng(1, 'q2').next());
});

const docs: Document[] = [
  { id: 'a', title: 'Cats', text: 'cats purr and sleep all day' },
  { id: 'b', title: 'Dogs', text: 'dogs bark at cats' },
  { id: 'c', title: 'Fish', text: 'fish swim in water' },
  { id: 'd', title: 'Birds', text: 'birds fly and sing' },
  { id: 'e', title: 'Cows', text: 'cows eat grass' },
];

test('BM25 rankings hold every key: retrieved first, the rest in seeded order', async () => {
  const queries = [
    { id: 'q1', text: 'cats', keys: ['a'] },
    { id: 'q2', text: 'water fish', keys: ['c'] },
  ];
  const rankings = await bm25KeyRankings(docs, (d) => d.id, queries, { seed: 3 });
  assert.equal(rankings[0].length, 5);
  assert.deepEqual(rankings[0].slice(0, 2).sort(), ['a', 'b']);
  assert.deepEqual([...rankings[0]].sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(rankings[1][0], 'c');
  assert.deepEqual(await bm25KeyRankings(docs, (d) => d.id, queries, { seed: 3 }), rankings);
  // Bands for 5 documents: ranks 1–2 and 3–5; the positive is never drawn.
  const negatives = await mineBm25Negatives(docs, (d) => d.id, queries, { seed: 3 });
  assert.deepEqual(negatives[0].map((n) => n.key).sort(), ['b', 'c', 'd', 'e']);
  assert.ok(negatives[1].every((n) => n.key !== 'c'));
});

test("BM25 rankings collapse documents sharing a key to the key's best rank", async () => {
  const pooled: Document[] = [...docs, { id: 'a-de', title: 'Katzen', text: 'katzen cats schnurren', lang: 'de', relevanceId: 'a' }];
  const keyOf = (d: Document) => d.relevanceId ?? d.id;
  const [ranking] = await bm25KeyRankings(pooled, keyOf, [{ id: 'q', text: 'katzen', keys: ['a'] }], { seed: 1 });
  assert.equal(ranking[0], 'a');
  assert.equal(ranking.length, 5);
  assert.equal(new Set(ranking).size, 5);
});

const GROUPS: TripleGroup[] = [
  { query: 'q1', text: 'who?', positive: 'a', reference: -1.5, negatives: [{ key: 'b', source: 'bm25', rank: 2, reference: -4.25 }] },
  { query: 'q2', text: 'wer?', lang: 'de', positive: 'c', reference: -0.5, modelPositiveRank: 1, negatives: [] },
];

test('triples round-trip through the file and the cache builds them once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-triples-'));
  try {
    const path = join(dir, 't.jsonl');
    const header = await writeTriples(path, { dataset: 'x' }, GROUPS);
    assert.equal(header.triples, 1);
    const read = readTriples(path);
    assert.deepEqual(read.groups, GROUPS);
    assert.deepEqual(read.header.description, { dataset: 'x' });
    let builds = 0;
    const build = async () => {
      builds++;
      return GROUPS;
    };
    const first = await cachedTriples(dir, { a: 1 }, build);
    const second = await cachedTriples(dir, { a: 1 }, build);
    assert.equal(builds, 1);
    assert.equal(first.hit, false);
    assert.equal(second.hit, true);
    assert.equal(second.path, first.path);
    assert.deepEqual(second.groups, GROUPS);
    await cachedTriples(dir, { a: 2 }, build);
    assert.equal(builds, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged triples file is a user error naming the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-triples-'));
  try {
    const path = join(dir, 't.jsonl');
    await writeTriples(path, {}, GROUPS);
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [lines[0], lines[1]].join('\n'));
    assert.throws(
      () => readTriples(path),
      (err: Error) => err instanceof UserError && /holds 1 \(truncated\?\)/.test(err.message),
    );
    writeFileSync(path, [lines[0], lines[1].replace('"reference":-1.5', '"reference":null'), lines[2]].join('\n'));
    assert.throws(
      () => readTriples(path),
      (err: Error) => err instanceof UserError && err.message.startsWith(`${path}:2:`),
    );
    writeFileSync(path, lines.join('\n').replace('"version":1', '"version":9'));
    assert.throws(
      () => readTriples(path),
      (err: Error) => err instanceof UserError && /version 9/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const dataDir = process.env.GENIR_DATA_DIR;

test(
  'BM25 negatives on XQuAD (240 paragraphs): scaled bands 1–24, 25–120, 121–240',
  { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false },
  async () => {
    const dataset = await openDataset({ id: 'xquad', dataDir, lang: 'en' });
    const corpus: Document[] = [];
    for await (const doc of dataset.docs()) corpus.push(doc);
    const [queries, qrels] = await Promise.all([dataset.queries('train'), dataset.qrels('train')]);
    const training = queries.slice(0, 40).map((q) => ({ id: q.id, text: q.text, keys: [...qrels.get(q.id)!.keys()] }));
    const negatives = await mineBm25Negatives(corpus, (d) => d.id, training, { seed: 0 });
    for (const [i, list] of negatives.entries()) {
      assert.equal(list.length, 32, `query ${training[i].id}`);
      assert.equal(list.filter((n) => n.rank <= 24).length, 10);
      assert.equal(list.filter((n) => n.rank >= 25 && n.rank <= 120).length, 10);
      assert.equal(list.filter((n) => n.rank >= 121 && n.rank <= 240).length, 12);
      assert.ok(list.every((n) => !training[i].keys.includes(n.key)));
    }
  },
);
