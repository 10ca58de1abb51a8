import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnglishAnalyzer } from '../text/analyzers/english.js';
import { Rng } from '../util/random.js';
import { Bm25IndexBuilder, stringOrderRanks } from './builder.js';
import { Bm25Searcher, bm25Idf } from './searcher.js';
import type { IndexData } from './types.js';

function build(docs: { id: string; title?: string; text: string }[], fieldMode: 'flat' | 'multi' = 'flat'): IndexData {
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer(), fieldMode });
  for (const doc of docs) builder.add({ title: '', ...doc });
  return builder.finish();
}

test('BM25 scores match a hand computation (Lucene form, k1 0.9, b 0.4)', () => {
  const data = build([
    { id: 'd1', text: 'apple banana' }, // appl banana: dl 2
    { id: 'd2', text: 'apples apple cherry' }, // appl appl cherri: dl 3
    { id: 'd3', text: 'banana cherry date' }, // dl 3
  ]);
  // N = 3, avgdl = 8/3; idf(appl) = ln(1 + 1.5/2.5) = ln 1.6 = 0.4700036.
  // d1: 0.4700036 · 1 / (1 + 0.9 · (0.6 + 0.4 · 2 / (8/3))) = 0.4700036 / 1.81 = 0.2596705
  // d2: 0.4700036 · 2 / (2 + 0.9 · (0.6 + 0.4 · 3 / (8/3))) = 0.9400073 / 2.945 = 0.3191875
  const hits = new Bm25Searcher(data).search('apple', 10);
  assert.deepEqual(
    Array.from(hits.docs, (d) => data.docIds[d]),
    ['d2', 'd1'],
  );
  assert.ok(Math.abs(hits.scores[0] - 0.3191875) < 1e-6, String(hits.scores[0]));
  assert.ok(Math.abs(hits.scores[1] - 0.2596705) < 1e-6, String(hits.scores[1]));
  assert.equal(bm25Idf(2, 3), Math.fround(Math.log(1.6)));
  // Query term counts act as boosts: "apple apple" scores twice "apple".
  const doubled = new Bm25Searcher(data).search('apple apple', 10);
  assert.ok(Math.abs(doubled.scores[0] - 2 * 0.3191875) < 2e-6);
  // Stop words and unknown terms match nothing.
  assert.equal(new Bm25Searcher(data).search('the of zebra', 10).docs.length, 0);
});

test('document length is scored through Lucene’s one-byte encoding (100 tokens count as 96)', () => {
  const long = Array.from({ length: 99 }, (_, i) => `w${i}`).join(' ');
  const data = build([
    { id: 'long', text: `target ${long}` }, // 100 tokens
    { id: 'short', text: 'other words here' },
  ]);
  const [k1, b] = [0.9, 0.4];
  const avgdl = (100 + 3) / 2;
  const idf = Math.log(1 + (2 - 1 + 0.5) / (1 + 0.5));
  const withLength = (dl: number) => (idf * 1) / (1 + k1 * (1 - b + (b * dl) / avgdl));
  const score = new Bm25Searcher(data).search('target', 1).scores[0];
  assert.ok(Math.abs(score - withLength(96)) < 1e-6, `${score} vs ${withLength(96)}`);
  assert.ok(Math.abs(score - withLength(100)) > 1e-4);
});

test('ties are ordered by document id descending, as trec_eval orders them', () => {
  const data = build(['b', 'c', 'a', 'aa'].map((id) => ({ id, text: 'same words' })));
  for (const packedKeys of [true, false]) {
    const hits = new Bm25Searcher(data, {}, undefined, { packedKeys }).search('same', 3);
    assert.deepEqual(
      Array.from(hits.docs, (d) => data.docIds[d]),
      ['c', 'b', 'aa'],
    );
  }
});

test('top-k equals a full sort, with packed keys and with the heap', () => {
  const rng = new Rng(5);
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
  const docs = Array.from({ length: 400 }, (_, i) => ({
    id: `doc${(i * 7919) % 400}`,
    text: Array.from({ length: 3 + rng.int(30) }, () => words[rng.int(rng.int(words.length) + 1)]).join(' '),
  }));
  const data = build(docs);
  const packed = new Bm25Searcher(data);
  const heap = new Bm25Searcher(data, {}, undefined, { packedKeys: false });
  for (let q = 0; q < 30; q++) {
    const query = Array.from({ length: 1 + rng.int(4) }, () => words[rng.int(words.length)]).join(' ');
    const all = packed.search(query, docs.length);
    // The full list is in (score desc, id desc) order.
    for (let i = 1; i < all.docs.length; i++) {
      const [s0, s1] = [all.scores[i - 1], all.scores[i]];
      assert.ok(s0 > s1 || (s0 === s1 && data.docIds[all.docs[i - 1]] > data.docIds[all.docs[i]]));
    }
    for (const k of [1, 10, 100]) {
      const expected = Array.from(all.docs.subarray(0, k));
      assert.deepEqual(Array.from(packed.search(query, k).docs), expected);
      assert.deepEqual(Array.from(heap.search(query, k).docs), expected);
      assert.deepEqual(Array.from(heap.search(query, k).scores), Array.from(all.scores.subarray(0, k)));
    }
  }
});

test('multi-field scores are the sum of per-field BM25 with field weights', () => {
  const docs = [
    { id: 'a', title: 'graphene', text: 'a carbon sheet' },
    { id: 'b', title: 'carbon', text: 'graphene graphene oxide' },
    { id: 'c', title: 'oxide', text: 'metal' },
  ];
  const multi = build(docs, 'multi');
  assert.deepEqual(
    multi.fields.map((f) => f.name),
    ['title', 'text'],
  );
  const titleOnly = new Bm25Searcher(multi, { fieldWeights: { title: 1, text: 0 } }).search('graphene', 10);
  assert.deepEqual(
    Array.from(titleOnly.docs, (d) => multi.docIds[d]),
    ['a'],
  );
  const both = new Bm25Searcher(multi).search('graphene', 10);
  const title = new Bm25Searcher(multi, { fieldWeights: { text: 0 } }).search('graphene', 10);
  const text = new Bm25Searcher(multi, { fieldWeights: { title: 0 } }).search('graphene', 10);
  const sum = new Map<number, number>();
  for (const hits of [title, text]) hits.docs.forEach((d, i) => sum.set(d, (sum.get(d) ?? 0) + hits.scores[i]));
  both.docs.forEach((d, i) => assert.ok(Math.abs(both.scores[i] - (sum.get(d) ?? NaN)) < 1e-6));
});

test('string order ranks and parameter checks', () => {
  assert.deepEqual(Array.from(stringOrderRanks(['b', 'a', 'c', 'B'])), [2, 1, 3, 0]);
  // UTF-8 byte order puts U+FF5E (3 bytes, EF BD 9E) before U+1F600 (4 bytes, F0 …); UTF-16 order would not.
  assert.deepEqual(Array.from(stringOrderRanks(['\u{1F600}', '\uFF5E'])), [1, 0]);
  const data = build([{ id: 'x', text: 'alpha' }]);
  assert.throws(() => new Bm25Searcher(data, { b: 1.5 }), RangeError);
  assert.throws(() => new Bm25Searcher(data, { k1: -1 }), RangeError);
  assert.throws(() => new Bm25Searcher(data).search('alpha', 0), RangeError);
  assert.throws(() => new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer() }).finish(), /empty corpus/);
});

test('searchInto and searchEntries return search’s hits, with packed keys and with the heap', () => {
  const rng = new Rng(11);
  const words = Array.from({ length: 30 }, (_, i) => `word${i}`);
  const docs = Array.from({ length: 300 }, (_, i) => ({
    id: `doc${(i * 104729) % 300}`,
    text: Array.from({ length: 2 + rng.int(20) }, () => words[rng.int(words.length)]).join(' '),
  }));
  const data = build(docs);
  for (const packedKeys of [true, false]) {
    const searcher = new Bm25Searcher(data, {}, undefined, { packedKeys });
    for (let q = 0; q < 20; q++) {
      const query = Array.from({ length: 1 + rng.int(3) }, () => words[rng.int(words.length)]).join(' ');
      for (const k of [1, 7, 1000]) {
        const expected = searcher.search(query, k);
        // Written from an offset into arrays filled with a marker: nothing outside the hits changes.
        const offset = 5;
        const room = offset + Math.min(k, docs.length) + 3;
        const outDocs = new Uint32Array(room).fill(999_999);
        const outScores = new Float32Array(room).fill(-1);
        const count = searcher.searchInto(query, k, outDocs, outScores, offset);
        assert.equal(count, expected.docs.length);
        assert.deepEqual(Array.from(outDocs.subarray(offset, offset + count)), Array.from(expected.docs));
        assert.deepEqual(Array.from(outScores.subarray(offset, offset + count)), Array.from(expected.scores));
        assert.ok(outDocs.subarray(0, offset).every((d) => d === 999_999) && outDocs.subarray(offset + count).every((d) => d === 999_999));
        assert.ok(outScores.subarray(offset + count).every((s) => s === -1));
        assert.deepEqual(
          searcher.searchEntries(query, k),
          Array.from(expected.docs, (d, i) => ({ docId: data.docIds[d], score: expected.scores[i] })),
        );
      }
    }
    assert.throws(() => searcher.searchInto('word1', 10, new Uint32Array(9), new Float32Array(9), 0), /room for 10 hits/);
  }
});
