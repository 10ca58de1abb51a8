import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnglishAnalyzer } from '../text/analyzers/english.js';
import { Rng } from '../util/random.js';
import { Bm25IndexBuilder } from './builder.js';
import { SearchPool, searchBatch } from './pool.js';
import { Bm25Searcher } from './searcher.js';

test('worker threads return exactly the single-thread results', async () => {
  const rng = new Rng(9);
  const words = Array.from({ length: 60 }, (_, i) => `term${i}`);
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer() });
  for (let i = 0; i < 500; i++)
    builder.add({ id: `d${i}`, title: '', text: Array.from({ length: 5 + rng.int(40) }, () => words[rng.int(words.length)]).join(' ') });
  const data = builder.finish();
  const queries = Array.from({ length: 200 }, () => ({
    text: Array.from({ length: 1 + rng.int(5) }, () => words[rng.int(words.length)]).join(' '),
  }));
  const params = { k1: 1.2, b: 0.75 };
  const searcher = new Bm25Searcher(data, params);
  const expected = queries.map((query) => searcher.search(query, 50));

  const pool = await SearchPool.start(data, params, 2);
  try {
    assert.equal(pool.threads, 2);
    const hits = await pool.search(queries, 50);
    assert.deepEqual(
      hits.map((h) => [Array.from(h.docs), Array.from(h.scores)]),
      expected.map((h) => [Array.from(h.docs), Array.from(h.scores)]),
    );
  } finally {
    await pool.close();
  }
  // parallelAfterMs 0 hands the batch to workers after the first slice; the results do not change.
  const batched = await searchBatch(data, queries, 50, { params, threads: 2, parallelAfterMs: 0 });
  assert.deepEqual(
    batched.map((h) => Array.from(h.docs)),
    expected.map((h) => Array.from(h.docs)),
  );
  const single = await searchBatch(data, queries, 50, { params, threads: 1 });
  assert.deepEqual(
    single.map((h) => Array.from(h.scores)),
    expected.map((h) => Array.from(h.scores)),
  );
});

test('searchEach hands every query’s hits over once, and an error in the callback rejects', async () => {
  const rng = new Rng(4);
  const words = Array.from({ length: 20 }, (_, i) => `term${i}`);
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer() });
  for (let i = 0; i < 200; i++)
    builder.add({ id: `d${i}`, title: '', text: Array.from({ length: 3 + rng.int(20) }, () => words[rng.int(words.length)]).join(' ') });
  const data = builder.finish();
  const queries = Array.from({ length: 150 }, () => ({ text: `${words[rng.int(words.length)]} ${words[rng.int(words.length)]}` }));
  const searcher = new Bm25Searcher(data);
  const pool = await SearchPool.start(data, {}, 2);
  try {
    const seen = new Map<number, number[]>();
    await pool.searchEach(queries, 1000, (index, hits) => {
      assert.ok(!seen.has(index), `query ${index} handed over twice`);
      seen.set(index, [...hits.docs, ...hits.scores]);
    });
    assert.equal(seen.size, queries.length);
    queries.forEach((query, i) => {
      const expected = searcher.search(query, 1000);
      assert.deepEqual(seen.get(i), [...expected.docs, ...expected.scores]);
    });
    await assert.rejects(
      pool.searchEach(queries, 10, () => {
        throw new Error('consumer failed');
      }),
      /consumer failed/,
    );
  } finally {
    await pool.close();
  }
});

test('worker threads prune as the single thread does: the same hits as the exhaustive search', async () => {
  const rng = new Rng(21);
  const words = Array.from({ length: 30 }, (_, i) => `word${i}`);
  const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer() });
  // Word i is drawn with weight falling in i: long lists for the first words, short for the last.
  for (let i = 0; i < 3000; i++)
    builder.add({
      id: `d${i}`,
      title: '',
      text: Array.from({ length: 4 + rng.int(20) }, () => words[rng.int(rng.int(words.length) + 1)]).join(' '),
    });
  const data = builder.finish();
  const queries = Array.from({ length: 100 }, () => ({
    text: Array.from({ length: 2 + rng.int(4) }, () => words[rng.int(words.length)]).join(' '),
  }));
  const exhaustive = new Bm25Searcher(data, {}, undefined, { pruning: 'exhaustive' });
  const expected = queries.map((query) => exhaustive.search(query, 10));
  const pool = await SearchPool.start(data, {}, 2, { pruning: 'always' });
  try {
    const hits = await pool.search(queries, 10);
    assert.deepEqual(
      hits.map((h) => [Array.from(h.docs), Array.from(h.scores)]),
      expected.map((h) => [Array.from(h.docs), Array.from(h.scores)]),
    );
  } finally {
    await pool.close();
  }
  // The same queries do prune on one thread, so the comparison covers the pruned path.
  const always = new Bm25Searcher(data, {}, undefined, { pruning: 'always' });
  for (const query of queries) always.search(query, 10);
  assert.ok(always.stats.pruned > 20, `pruned ${always.stats.pruned}`);
});
