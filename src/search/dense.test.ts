import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../util/random.js';
import { ExactIndex, bruteForceTopK } from './dense.js';

function randomVectors(rng: Rng, rows: number, dim: number, integer = false): Float32Array {
  return Float32Array.from({ length: rows * dim }, () => (integer ? rng.int(5) - 2 : rng.normal()));
}

test('exact top-k on ORT equals the brute-force loop: same documents, same order, same scores', async () => {
  const rng = new Rng(7);
  const dim = 32;
  const docs = randomVectors(rng, 1000, dim);
  const queries = randomVectors(rng, 37, dim);
  const index = new ExactIndex(docs, 1000, dim, { threads: 1 });
  const ort = await index.search(queries, 37, 10);
  const reference = bruteForceTopK(queries, 37, docs, 1000, dim, 10);
  await index.release();
  assert.equal(ort.k, 10);
  assert.deepEqual([...ort.indices], [...reference.indices]);
  ort.scores.forEach((s, i) => assert.ok(Math.abs(s - reference.scores[i]) < 1e-4, `score ${i}: ${s} vs ${reference.scores[i]}`));
});

test('exact top-k breaks ties by the lower document row, as the reference does, and caps k at the document count', async () => {
  const rng = new Rng(3);
  const dim = 4;
  // Small integer vectors: many exactly equal inner products.
  const docs = randomVectors(rng, 60, dim, true);
  const queries = randomVectors(rng, 9, dim, true);
  const index = new ExactIndex(docs, 60, dim, { threads: 1 });
  const ort = await index.search(queries, 9, 15);
  const reference = bruteForceTopK(queries, 9, docs, 60, dim, 15);
  assert.deepEqual([...ort.indices], [...reference.indices]);
  assert.deepEqual([...ort.scores], [...reference.scores]);
  const all = await index.search(queries.subarray(0, dim), 1, 100);
  assert.equal(all.k, 60);
  assert.deepEqual(
    [...all.indices].sort((a, b) => a - b),
    Array.from({ length: 60 }, (_, i) => i),
  );
  await index.release();
});

test('the library API: a DenseSearcher over documents in memory ranks them by the inner product of its own vectors', async () => {
  const { DenseModel, DenseSearcher, t5Config, trainTokenizer, bruteForceTopK: reference } = await import('../index.js');
  const docs = [
    { id: 'a', title: 'Bees', text: 'Bees collect nectar and pollen.' },
    { id: 'b', title: 'Tides', text: 'Tides follow the moon.' },
    { id: 'c', title: 'Chess', text: 'Chess has sixteen pieces per player.' },
  ];
  const tokenizer = trainTokenizer(
    docs.map((d) => `${d.title}\n${d.text}`),
    { vocabSize: 300 },
  ).withDocidTokens(2);
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: 2,
    dModel: 16,
    dKv: 4,
    dFf: 32,
    numLayers: 1,
    numDecoderLayers: 1,
    dropoutRate: 0,
  });
  const model = DenseModel.create(config, { temperature: { kind: 'fixed', value: 0.05 }, maxQueryTokens: 16, maxPassageTokens: 32 }, 9);
  const searcher = await DenseSearcher.fromDocuments(model, tokenizer, docs, { threads: 1 });
  const [hits] = await searcher.search(['moon and tides'], { k: 3 });
  const queryVector = await searcher.encodeQueries(['moon and tides']);
  const expected = reference(queryVector, 1, searcher.index.vectors, 3, 16, 3);
  assert.deepEqual(
    hits.map((h) => h.docId),
    [...expected.indices].map((i) => docs[i].id),
  );
  assert.deepEqual(
    hits.map((h) => h.rank),
    [1, 2, 3],
  );
  await searcher.release();
});
