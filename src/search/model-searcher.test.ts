import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DocidTable } from '../docids/table.js';
import { t5Config } from '../model/config.js';
import { T5Model } from '../model/t5.js';
import { trainTokenizer } from '../text/tokenizer/index.js';
import { clampBeam, GenerativeSearcher, withModelSearcher } from './searcher.js';

test('clampBeam: the beam no wider than the docid table, k no larger than the beam', () => {
  assert.deepEqual(clampBeam(1000, 20), { beam: 20, k: 10 });
  assert.deepEqual(clampBeam(6, 20), { beam: 6, k: 6 });
  assert.deepEqual(clampBeam(1000, 5), { beam: 5, k: 5 });
  assert.deepEqual(clampBeam(1000, 40, 40), { beam: 40, k: 40 });
  assert.deepEqual(clampBeam(30, 40, 40), { beam: 30, k: 30 });
});

const tokenizer = trainTokenizer(['the wing of the aircraft', 'boundary layer flow', 'heat transfer in a nozzle'], { vocabSize: 300 });
const DOCS = 6;
const eos = tokenizer.eosId;
const text = tokenizer.subwordVocabSize;
// Docids of two tokens (code, EOS) after the text vocabulary.
const docids = new DocidTable({
  scheme: 'atomic',
  layout: { textVocabSize: text, docidVocabSize: DOCS, codeVocabSize: DOCS, eosId: eos },
  keys: Array.from({ length: DOCS }, (_, i) => `doc${i}`),
  offsets: Int32Array.from({ length: DOCS + 1 }, (_, i) => 2 * i),
  tokens: Int32Array.from(Array.from({ length: DOCS }, (_, i) => [text + i, eos]).flat()),
});
const searchTokenizer = tokenizer.withDocidTokens(DOCS);
const model = T5Model.create(
  t5Config('tiny', {
    vocabSize: text,
    docidVocabSize: DOCS,
    dModel: 16,
    dKv: 4,
    numHeads: 4,
    dFf: 24,
    numLayers: 1,
    numDecoderLayers: 1,
    dropoutRate: 0,
  }),
  3,
  { threads: 1 },
);
after(() => model.release());

test('withModelSearcher searches a model in memory and releases the searcher, also when the search throws', async () => {
  const released: GenerativeSearcher[] = [];
  const release = GenerativeSearcher.prototype.release;
  GenerativeSearcher.prototype.release = async function (this: GenerativeSearcher) {
    released.push(this);
    await release.call(this);
  };
  try {
    const hits = await withModelSearcher(model, { tokenizer: searchTokenizer, docids }, { threads: 1 }, (searcher) =>
      searcher.search(['boundary layer', 'heat'], { ...clampBeam(docids.size, 20), progress: false }),
    );
    assert.deepEqual(
      hits.map((h) => h.length),
      [DOCS, DOCS],
      'the beam of 20 was clamped to the 6 docids, every one found',
    );
    assert.equal(new Set(hits[0].map((h) => h.docId)).size, DOCS);
    assert.equal(released.length, 1);
    await assert.rejects(
      withModelSearcher(model, { tokenizer: searchTokenizer, docids }, { threads: 1 }, () => Promise.reject(new Error('interrupted'))),
      /interrupted/,
    );
    assert.equal(released.length, 2);
  } finally {
    GenerativeSearcher.prototype.release = release;
  }
});
