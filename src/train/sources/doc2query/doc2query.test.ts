import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { t5Config } from '../../../model/config.js';
import { T5Model } from '../../../model/t5.js';
import { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { Rng } from '../../../util/random.js';
import { cachedPseudoQueries, sampleQueries, sampleTopK, trainDoc2Query } from './doc2query.js';
import { cacheKey } from '../../../util/cache.js';

test('top-k sampling draws only the k most likely tokens, in proportion to their renormalised probabilities', () => {
  const probs = [0.05, 0.5, 0.3, 0.1, 0.05];
  const logProbs = Float32Array.from([0, 0, ...probs.map(Math.log)]);
  const rng = new Rng(11);
  const counts = new Map<number, number>();
  const draws = 20000;
  for (let i = 0; i < draws; i++) {
    const token = sampleTopK(logProbs, 2, 5, 2, rng, new Set());
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [1, 2], 'k = 2 keeps tokens 1 (0.5) and 2 (0.3)');
  // 0.5 / 0.8 = 0.625; the binomial standard error over 20,000 draws is 0.0034.
  assert.ok(Math.abs(counts.get(1)! / draws - 0.625) < 0.015, `share of token 1: ${counts.get(1)! / draws}`);
  // Excluded ids are never drawn, even when most likely.
  for (let i = 0; i < 100; i++) assert.equal(sampleTopK(logProbs, 2, 5, 1, rng, new Set([1])), 2);
});

const texts = ['the red fox jumps over the lazy dog', 'a blue whale swims in the deep ocean', 'green frogs sing in the pond at night'];

test('doc2query trains on (document, query) pairs; top-1 sampling is greedy decoding; samples are seeded per document', async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'genir-d2q-'));
  try {
    const tokenizer = SubwordTokenizer.train([...texts, 'what jumps', 'what swims', 'what sings'], { vocabSize: 300 });
    const pairs = texts.map((document, i) => ({ document, query: ['what jumps', 'what swims', 'what sings'][i] }));
    const overrides = { dModel: 16, dKv: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 };
    const { model, updates, finalLoss } = await trainDoc2Query(pairs, tokenizer, {
      preset: 'tiny',
      overrides,
      epochs: 40,
      lr: 2e-2,
      batchSize: 3,
      seed: 1,
      threads: 1,
      runDir,
      progress: false,
    });
    assert.equal(updates, 40);
    assert.ok(finalLoss !== null && finalLoss < 0.5, `doc2query loss after training: ${finalLoss}`);
    const docs = texts.map((text, i) => ({ id: `d${i}`, text }));

    const greedy = await model.greedyDecode(
      texts.map((t) => tokenizer.encode(t)),
      8,
    );
    const top1 = await sampleQueries(model, tokenizer, docs, { perDoc: 2, topK: 1, maxTokens: 8, seed: 5, batchDocs: 2 });
    assert.deepEqual(
      top1.map((q) => q.docId),
      ['d0', 'd0', 'd1', 'd1', 'd2', 'd2'],
    );
    assert.deepEqual(
      top1.map((q) => q.text),
      greedy.flatMap((ids) => [tokenizer.decode(ids), tokenizer.decode(ids)]),
    );
    assert.deepEqual(
      top1.filter((_, i) => i % 2 === 0).map((q) => q.text),
      ['what jumps', 'what swims', 'what sings'],
      'the model learned the pairs',
    );

    await model.release();

    // An untrained model spreads its probability, so samples vary with the seed.
    const untrained = T5Model.create(t5Config('tiny', { ...overrides, vocabSize: tokenizer.subwordVocabSize }), 2, { threads: 1 });
    const sampled = await sampleQueries(untrained, tokenizer, docs, { perDoc: 3, topK: 10, maxTokens: 8, seed: 5, batchDocs: 3 });
    const alone = await sampleQueries(untrained, tokenizer, docs.slice(1, 2), { perDoc: 3, topK: 10, maxTokens: 8, seed: 5 });
    assert.deepEqual(
      alone,
      sampled.filter((q) => q.docId === 'd1'),
      'a document gets the same samples whatever it is batched with',
    );
    const otherSeed = await sampleQueries(untrained, tokenizer, docs, { perDoc: 3, topK: 10, maxTokens: 8, seed: 6, batchDocs: 3 });
    assert.notDeepEqual(
      otherSeed.map((q) => q.text),
      sampled.map((q) => q.text),
    );
    assert.ok(new Set(sampled.map((q) => q.text)).size > 3, 'samples of one document differ from each other');
    for (const q of sampled) assert.ok(q.text.length > 0 && !q.text.includes('</s>') && !q.text.includes('<pad>'), q.text);
    await untrained.release();
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('pseudo-queries are cached by a key over the whole description', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-d2q-cache-'));
  try {
    assert.equal(cacheKey({ a: 1, b: { c: [1, 2], d: 'x' } }), cacheKey({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    assert.notEqual(cacheKey({ a: 1 }), cacheKey({ a: 2 }));
    let calls = 0;
    const compute = async () => {
      calls++;
      return [
        { docId: 'd1', text: 'who "quoted" this?' },
        { docId: 'd2', text: 'line\nbreak' },
      ];
    };
    const first = await cachedPseudoQueries(dir, { kind: 'test', n: 1 }, compute);
    assert.equal(first.hit, false);
    const second = await cachedPseudoQueries(dir, { n: 1, kind: 'test' }, compute);
    assert.equal(second.hit, true);
    assert.equal(calls, 1);
    assert.deepEqual(second.queries, first.queries);
    assert.equal(second.path, first.path);
    const described = JSON.parse(readFileSync(first.path.replace(/\.jsonl$/, '.json'), 'utf8')) as { count: number; kind: string };
    assert.equal(described.count, 2);
    assert.equal(described.kind, 'test');
    await cachedPseudoQueries(dir, { kind: 'test', n: 2 }, compute);
    assert.equal(calls, 2, 'another description, another entry');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
