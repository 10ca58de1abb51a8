import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Document } from '../../../data/types.js';
import { MASKED } from '../../../model/t5-graph.js';
import type { SftCorpus } from '../../../data/training-corpus.js';
import { denseTrainingData, sentencesOf, syntheticPairs, type PassageText } from './data.js';
import { denseTrainingPairs } from './pipeline.js';

const DOCS: Document[] = [
  { id: 'd0', title: 'Bees', text: 'Bees collect nectar and pollen. Honey bees live in large colonies. A queen leads each hive.' },
  { id: 'd1', title: 'Tides', text: 'Tides are the rise and fall of the sea. The moon pulls the water. Most coasts see two tides a day.' },
  {
    id: 'd2',
    title: 'Chess',
    text: 'Chess is a board game for two players. Each player starts with sixteen pieces. The goal is checkmate.',
  },
  { id: 'd3', title: 'Honey', text: 'Honey is made by bees from nectar. It keeps for years. People eat honey on bread.' },
];

function corpus(trainQueries: SftCorpus['trainQueries']): SftCorpus {
  return { datasetId: 'toy', docs: DOCS, keyOf: (doc) => doc.id, grouped: false, trainQueries };
}

test('labelled pairs: BM25 hard negatives are never judged relevant, and a query whose relevant document BM25 does not retrieve is dropped', async () => {
  const { pairs, passages, dropped } = await denseTrainingPairs(
    corpus([
      { id: 'q1', text: 'what do bees collect', keys: ['d0', 'd3'] },
      { id: 'q2', text: 'moon and sea', keys: ['d1'] },
      // Shares no word with its relevant document: BM25 cannot retrieve it.
      { id: 'q3', text: 'xylophone quartz', keys: ['d2'] },
    ]),
    { bm25Depth: 200, negativeDepth: 30, ictPerDoc: 0, cropsPerDoc: 0, threads: 1 },
    0,
  );
  assert.equal(dropped, 1);
  assert.equal(passages.length, DOCS.length);
  const labelled = pairs.filter((p) => p.source === 'labelled');
  // q1 gives one pair per relevant document, q2 one.
  assert.deepEqual(
    labelled.map((p) => [p.query, passages[p.positives[0]].key]),
    [
      ['what do bees collect', 'd0'],
      ['what do bees collect', 'd3'],
      ['moon and sea', 'd1'],
    ],
  );
  for (const pair of labelled) {
    assert.ok(
      pair.negatives.every((n) => !pair.relevantKeys.includes(passages[n].key)),
      `${pair.query}: a relevant document among the negatives`,
    );
  }
  // BM25 retrieves d2 for neither query: no shared words, so it is no hard negative either.
  assert.ok(labelled.every((p) => p.negatives.every((n) => passages[n].key !== 'd2')));
});

test('synthetic pairs: inverse cloze takes a sentence out of its paragraph, crops are spans of the document; deterministic in the seed', () => {
  const passages: PassageText[] = [];
  const passageOf = (p: PassageText) => passages.push(p) - 1;
  const pairs = syntheticPairs(DOCS[1], 'd1', passageOf, { ictPerDoc: 3, cropsPerDoc: 2, seed: 4 });
  assert.equal(pairs.filter((p) => p.source === 'ict').length, 3);
  assert.equal(pairs.filter((p) => p.source === 'crop').length, 2);
  const sentences = sentencesOf(DOCS[1].text);
  assert.equal(sentences.length, 3);
  for (const pair of pairs) {
    const passage = passages[pair.positives[0]];
    assert.equal(passage.key, 'd1');
    assert.deepEqual(pair.relevantKeys, ['d1']);
    if (pair.source === 'ict') {
      assert.ok(sentences.includes(pair.query));
      // The paragraph without the sentence (or, 10 % of the time, the whole paragraph).
      assert.ok(!passage.text.includes(pair.query) || passage.text === `Tides\n${DOCS[1].text}`);
    } else {
      assert.ok(DOCS[1].text.includes(pair.query), pair.query);
    }
  }
  const again: PassageText[] = [];
  assert.deepEqual(
    syntheticPairs(DOCS[1], 'd1', (p) => again.push(p) - 1, { ictPerDoc: 3, cropsPerDoc: 2, seed: 4 }),
    pairs,
  );
  assert.deepEqual(again, passages);
});

test('a batch: the positive is the target, hard negatives join the passages, and another relevant passage is masked out of the row', () => {
  const tokens = (n: number) => Int32Array.from({ length: n }, (_, i) => 3 + i);
  const data = denseTrainingData(
    {
      queries: [tokens(3), tokens(4)],
      // q0 is relevant to passages 0 and 1 (two documents); q1 to passage 2; passage 3 is a hard negative of q0.
      pairs: [
        { query: 'a', positives: [0], relevantKeys: ['k0', 'k1'], negatives: [3], source: 'labelled' },
        { query: 'b', positives: [1], relevantKeys: ['k1', 'k0'], negatives: [], source: 'labelled' },
      ],
      passages: [tokens(5), tokens(6), tokens(2), tokens(7)],
      passageKeys: ['k0', 'k1', 'k2', 'k3'],
    },
    { batchSize: 2, hardNegatives: 1, seed: 0, padId: 0 },
  );
  const [plan] = data.plan(0);
  const batch = data.materialize({ ...plan, pairs: [0, 1] });
  assert.equal(batch.queries, 2);
  // Passages: q0's positive (0), its hard negative (3), q1's positive (1).
  assert.equal(batch.docs, 3);
  assert.deepEqual([...batch.targets], [0n, 2n]);
  assert.equal(batch.docLength, 7);
  // Row 0: passage 1 (key k1) is relevant to q0 but not its target: masked. Row 1: passage 0 (k0) likewise.
  assert.deepEqual([...batch.bias], [0, 0, MASKED, MASKED, 0, 0]);
});
