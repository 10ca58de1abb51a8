import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDocids } from '../../../docids/build.js';
import type { Document } from '../../../data/types.js';
import { LEXICAL_HEAD_WEIGHT, t5Config } from '../../../model/config.js';
import { T5Model } from '../../../model/t5.js';
import { trainTokenizer } from '../../../text/tokenizer/index.js';
import { bm25LexicalInitialise } from './lexical-init.js';
import { withDocidTokens } from './pipeline.js';

const docs: Document[] = [
  { id: 'a', title: '', text: 'red fox red fox jumps' },
  { id: 'b', title: '', text: 'blue whale swims' },
  { id: 'c', title: '', text: 'red whale' },
];

async function setUp(corpus: readonly Document[], keyOf: (doc: Document) => string, lexicalHeadScale = 10) {
  const textTokenizer = trainTokenizer(
    corpus.map((d) => d.text),
    { vocabSize: 300 },
  );
  const keys = [...new Set(corpus.map(keyOf))];
  const docids = await buildDocids(
    keys.map((id) => ({ id, title: id, text: id })),
    { scheme: 'atomic', textVocabSize: textTokenizer.subwordVocabSize, eosId: textTokenizer.eosId },
  );
  const tokenizer = withDocidTokens(textTokenizer, docids.layout.docidVocabSize);
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: docids.layout.docidVocabSize,
    dModel: 8,
    dKv: 4,
    numHeads: 2,
    dFf: 16,
    numLayers: 1,
    numDecoderLayers: 1,
    lexicalHead: true,
    lexicalHeadScale,
  });
  const model = T5Model.create(config, 1);
  return { tokenizer, docids, model, columns: docids.layout.docidVocabSize };
}

/** Lucene BM25 of a bag of subword ids against each document, computed here without the head. */
function bm25Scores(bags: number[][], query: number[]): number[] {
  const [k1, b] = [0.9, 0.4];
  const avg = bags.reduce((s, bag) => s + bag.length, 0) / bags.length;
  return bags.map((bag) =>
    [...new Set(query)].reduce((score, id) => {
      const tf = bag.filter((t) => t === id).length;
      if (tf === 0) return score;
      const df = bags.filter((other) => other.includes(id)).length;
      const idf = Math.log(1 + (bags.length - df + 0.5) / (df + 0.5));
      return score + idf * (tf / (tf + k1 * (1 - b + (b * bag.length) / avg)));
    }, 0),
  );
}

test("BM25 lexical init: a query's summed head weights per atomic docid equal its subword BM25 score", async () => {
  const { tokenizer, docids, model, columns } = await setUp(docs, (d) => d.id);
  const report = bm25LexicalInitialise(model, docids, docs, (d) => d.id, tokenizer);
  assert.equal(report.docidTokens, 3);
  assert.equal(report.trunkDocidRowsZeroed, true);
  const lmHead = model.parameters.find((p) => p.name === 'lm_head.weight')!.data;
  const d = model.config.dModel;
  const textVocab = docids.layout.textVocabSize;
  assert.ok(
    lmHead.subarray(textVocab * d).every((v) => v === 0),
    "the trunk's docid rows start at 0",
  );
  assert.ok(
    lmHead.subarray(0, textVocab * d).some((v) => v !== 0),
    'text rows keep their initialisation',
  );
  const head = model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!.data;
  const bags = docs.map((d) => [...tokenizer.encode(d.text)]);
  for (const text of ['red fox', 'whale', 'red whale swims', 'fox']) {
    const query = [...new Set(tokenizer.encode(text))];
    const expected = bm25Scores(bags, query);
    docs.forEach((doc, i) => {
      const column = docids.tokens[docids.offsets[docids.indexOf(doc.id)]] - docids.layout.textVocabSize;
      const summed = query.reduce((s, id) => s + head[id * columns + column], 0);
      assert.ok(Math.abs(summed - expected[i]) < 1e-5, `${text} / ${doc.id}: ${summed} vs ${expected[i]}`);
    });
  }
  // 'fox' is only in a: every other column of its row is 0, and a term absent from the corpus has an all-zero row.
  const fox = tokenizer.encode('fox');
  assert.equal(fox.length, 1);
  assert.ok(head[fox[0] * columns + 0] > 0);
  assert.equal(head[fox[0] * columns + 1], 0);
  assert.equal(head[fox[0] * columns + 2], 0);
  await model.release();
});

test('BM25 lexical init: translations sharing a key are one bag of subwords', async () => {
  const pooled: Document[] = [
    { id: 'a-en', relevanceId: 'a', title: '', text: 'red fox' },
    { id: 'a-de', relevanceId: 'a', title: '', text: 'roter fuchs' },
    { id: 'b-en', relevanceId: 'b', title: '', text: 'blue whale' },
  ];
  const keyOf = (d: Document) => d.relevanceId ?? d.id;
  const { tokenizer, docids, model, columns } = await setUp(pooled, keyOf);
  bm25LexicalInitialise(model, docids, pooled, keyOf, tokenizer);
  const head = model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!.data;
  const columnA = docids.tokens[docids.offsets[docids.indexOf('a')]] - docids.layout.textVocabSize;
  const columnB = docids.tokens[docids.offsets[docids.indexOf('b')]] - docids.layout.textVocabSize;
  const bags = [[...tokenizer.encode('red fox'), ...tokenizer.encode('roter fuchs')], [...tokenizer.encode('blue whale')]];
  const query = [...new Set(tokenizer.encode('roter fuchs'))];
  const expected = bm25Scores(bags, query);
  [columnA, columnB].forEach((column, i) => {
    const summed = query.reduce((s, id) => s + head[id * columns + column], 0);
    assert.ok(Math.abs(summed - expected[i]) < 1e-5, `key ${i}: ${summed} vs ${expected[i]}`);
  });
  assert.ok(expected[0] > expected[1], 'the German query scores its own translation pair highest');
  await model.release();
});

test('BM25 lexical init: a larger head scale divides the weights, so scale × weight (the prior) is unchanged', async () => {
  const base = await setUp(docs, (d) => d.id);
  const scaled = await setUp(docs, (d) => d.id, 100);
  bm25LexicalInitialise(base.model, base.docids, docs, (d) => d.id, base.tokenizer);
  bm25LexicalInitialise(scaled.model, scaled.docids, docs, (d) => d.id, scaled.tokenizer);
  const weights = (m: typeof base.model) => m.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!.data;
  const [a, b] = [weights(base.model), weights(scaled.model)];
  let nonZero = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(b[i] * 100 - a[i] * 10) < 1e-5, `${i}`);
    if (a[i] !== 0) nonZero++;
  }
  assert.ok(nonZero > 0);
  await base.model.release();
  await scaled.model.release();
});
