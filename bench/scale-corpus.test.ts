import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import { Bm25Index } from '../src/bm25/bm25-index.js';
import { getAnalyzer } from '../src/text/analyzers/index.js';
import { corpusModel, generateCorpus, generatedDocument, knownAnswerQueries } from './scale-corpus.js';

const TEXTS = [
  'Aspirin reduces the risk of stroke in adults with atrial fibrillation.',
  'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.',
  'Protein folding is guided by hydrophobic collapse and hydrogen bonds in the core.',
  'Warsaw is the capital and largest city of Poland, on the Vistula river.',
  'the the the of of and',
];

test('generated corpus: seeded and reproducible per document, words and lengths from the real texts', () => {
  const model = corpusModel(TEXTS);
  assert.equal(model.words[0], 'the');
  const a = [...generateCorpus(model, 50, 7)];
  const b = [...generateCorpus(model, 50, 7)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, [...generateCorpus(model, 50, 8)]);
  // Any document can be regenerated alone.
  assert.deepEqual(generatedDocument(model, 7, 31), a[31]);
  const vocabulary = new Set(TEXTS.flatMap((t) => t.split(/\s+/)));
  const realLengths = new Set(model.lengths);
  for (const doc of a) {
    const words = doc.text.split(' ');
    assert.ok(realLengths.has(words.length), `length ${words.length}`);
    for (const word of words) assert.ok(vocabulary.has(word), word);
  }
  // Frequent words are drawn more often: "the" (6 of 56 words) beats any word seen once.
  const drawn = a.flatMap((doc) => doc.text.split(' '));
  const countOf = (word: string) => drawn.filter((w) => w === word).length;
  assert.ok(countOf('the') > countOf('Warsaw') && countOf('the') > countOf('Aspirin'));
});

test('known-answer queries: BM25 ranks the document a query was made from first on most queries', () => {
  const model = corpusModel(TEXTS);
  const builder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
  for (const doc of generateCorpus(model, 400, 3)) builder.add(doc);
  const index = new Bm25Index(builder.finish());
  const queries = knownAnswerQueries(model, 400, 3, 40);
  assert.equal(queries.length, 40);
  assert.deepEqual(queries, knownAnswerQueries(model, 400, 3, 40));
  const found = queries.filter((q) => index.search(q.text, 10).some((hit) => hit.docId === q.answer)).length;
  // Tiny vocabulary, so rare-word combinations recur: most, not all, answers are in the top 10.
  assert.ok(found >= 20, `${found}/40 answers in the top 10`);
});
