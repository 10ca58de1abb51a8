import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../../util/errors.js';
import type { SftSource, SourceExamples } from './examples.js';
import { passageChunks, topTfidfTerms } from './examples.js';
import { DDRO_STAGES, formatStages, mixedTrainingData, overrideEpochs, parseStages } from './schedule.js';

test('stage specs parse into sources, weights and epochs, and format back', () => {
  const ddro = parseStages(DDRO_STAGES);
  assert.deepEqual(ddro, [
    {
      name: 'chunks+terms',
      sources: [
        { source: 'chunks', weight: 1 },
        { source: 'terms', weight: 1 },
      ],
      epochs: 10,
    },
    { name: 'pseudo', sources: [{ source: 'pseudo', weight: 1 }], epochs: 20 },
    { name: 'queries', sources: [{ source: 'queries', weight: 1 }], epochs: 10 },
  ]);
  assert.equal(formatStages(ddro), DDRO_STAGES);
  const mixed = parseStages(' chunks*0.5 + queries*2 : 7.5 ');
  assert.deepEqual(mixed, [
    {
      name: 'chunks+queries',
      sources: [
        { source: 'chunks', weight: 0.5 },
        { source: 'queries', weight: 2 },
      ],
      epochs: 7.5,
    },
  ]);
  assert.deepEqual(
    overrideEpochs(ddro, '3').map((s) => s.epochs),
    [3, 3, 3],
  );
  assert.deepEqual(
    overrideEpochs(ddro, '1,2,3').map((s) => s.epochs),
    [1, 2, 3],
  );
  for (const bad of ['', 'chunks', 'chunk:3', 'chunks:0', 'chunks*-1:2', 'chunks+chunks:2']) {
    assert.throws(() => parseStages(bad), UserError, bad);
  }
  assert.throws(() => overrideEpochs(ddro, '1,2'), /one per stage \(3\)/);
});

function sourceSet(source: SftSource, count: number, length: number): SourceExamples {
  return {
    source,
    examples: Array.from({ length: count }, (_, i) => ({ source: Array.from({ length: length + (i % 3) }, () => 5), target: [100 + i] })),
    docIndex: Array.from({ length: count }, (_, i) => i),
  };
}

test('mixing draws each source by its weight every epoch, reproducibly', () => {
  const sets = new Map<SftSource, SourceExamples>([
    ['chunks', sourceSet('chunks', 40, 20)],
    ['queries', sourceSet('queries', 10, 4)],
  ]);
  const [stage] = parseStages('chunks*0.25+queries*2:3');
  const options = { batchSize: 4, seed: 9, padId: 0, eosId: 1, decoderStartId: 0 };
  const mixed = mixedTrainingData(sets, stage, options);
  // 0.25 of 40 chunks + 2 × 10 queries = 30 examples → 8 batches of at most 4.
  assert.equal(mixed.examplesPerEpoch, 30);
  assert.equal(mixed.batchesPerEpoch, 8);
  for (const epoch of [0, 1]) {
    const plan = mixed.data.plan(epoch);
    const flat = plan.flat();
    assert.equal(flat.length, 30);
    const chunks = flat.filter((i) => i < 40);
    assert.equal(chunks.length, 10);
    assert.equal(new Set(chunks).size, 10, 'a fractional weight draws distinct examples');
    for (let q = 40; q < 50; q++) assert.equal(flat.filter((i) => i === q).length, 2, 'weight 2: every query twice');
    assert.deepEqual(mixedTrainingData(sets, stage, options).data.plan(epoch), plan, 'same seed and epoch, same plan');
  }
  const chunksOf = (epoch: number) =>
    mixed.data
      .plan(epoch)
      .flat()
      .filter((i) => i < 40)
      .sort((a, b) => a - b);
  assert.notDeepEqual(chunksOf(0), chunksOf(1), 'another epoch draws another subset');
  const batch = mixed.data.materialize(mixed.data.plan(0)[0]);
  assert.equal(batch.labels.length, batch.size * batch.targetLength);
  assert.throws(() => mixedTrainingData(sets, parseStages('pseudo:1')[0], options), /source 'pseudo' has no examples/);
});

test('passage chunks are title + consecutive sentences within the token budget', () => {
  const count = (text: string) => text.split(/\s+/).filter((w) => w !== '').length;
  const doc = { id: 'd', title: 'Title Here', text: 'One two three four. Five six seven. Eight nine ten eleven twelve. Thirteen.' };
  // Budget 9 words: the title takes 2, leaving 7 for sentences (4 + 3, then 5 + 1).
  assert.deepEqual(passageChunks(doc, count, { maxTokens: 9 }), [
    'Title Here One two three four. Five six seven.',
    'Title Here Eight nine ten eleven twelve. Thirteen.',
  ]);
  // Budget 12: 4 + 3 fit, adding 5 would make 12 > 10.
  assert.deepEqual(passageChunks(doc, count, { maxTokens: 12 }), passageChunks(doc, count, { maxTokens: 9 }));
  assert.deepEqual(passageChunks(doc, count, { maxTokens: 16 }), [
    'Title Here One two three four. Five six seven. Eight nine ten eleven twelve. Thirteen.',
  ]);
  assert.deepEqual(passageChunks(doc, count, { maxTokens: 9, maxChunks: 1 }), ['Title Here One two three four. Five six seven.']);
  // A sentence longer than the budget is cut between words.
  const long = { id: 'l', title: '', text: 'a b c d e f g h i j' };
  assert.deepEqual(passageChunks(long, count, { maxTokens: 8 }), ['a b c d e f g h', 'i j']);
});

test('TF-IDF terms rank by tf · ln(N/df) and drop words found in every document', () => {
  const docs = [
    { id: '1', title: '', text: 'apple apple banana common' },
    { id: '2', title: '', text: 'banana cherry common' },
    { id: '3', title: '', text: 'cherry cherry cherry common 2024' },
  ];
  // doc 1: apple 2·ln3 = 2.197, banana ln1.5 = 0.405; doc 3: cherry 3·ln1.5 = 1.216; "common" weighs 0, numbers are skipped.
  assert.deepEqual(topTfidfTerms(docs, 5), [['apple', 'banana'], ['banana', 'cherry'], ['cherry']]);
  assert.deepEqual(topTfidfTerms(docs, 1), [['apple'], ['banana'], ['cherry']]);
});
