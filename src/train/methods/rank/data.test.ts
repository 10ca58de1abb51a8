import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASKED } from '../../../model/t5-graph.js';
import { makePreferenceBatch } from '../../../model/grouped-batch.js';
import { dpoTrainingData, hardGroups, listwiseTrainingData, marginTrainingData, topNegative, type EncodedGroup } from './data.js';

const TOKENS = { padId: 0, eosId: 1, decoderStartId: 0 };

test('preference batch: rows grouped per query, positive first, padding masked and out of every pair', () => {
  const batch = makePreferenceBatch(
    [
      { source: [5, 6], targets: [[10, 11], [12], [13, 14, 15]], reference: [-1, -2, -3] },
      { source: [7], targets: [[20], [21]], reference: [-4, -5] },
    ],
    TOKENS,
  );
  assert.equal(batch.queries, 2);
  assert.equal(batch.groupSize, 3);
  assert.equal(batch.rows, 6);
  assert.equal(batch.sourceLength, 3);
  assert.equal(batch.targetLength, 4);
  assert.deepEqual([...batch.inputIds].map(Number), [5, 6, 1, 7, 1, 0]);
  assert.deepEqual([...batch.attentionMask], [1, 1, 1, 1, 1, 0]);
  assert.deepEqual([...batch.rowQuery].map(Number), [0, 0, 0, 1, 1, 1]);
  // Row 2: decoder input starts with the decoder-start id; labels end with EOS, then -100.
  assert.deepEqual([...batch.decoderInputIds.subarray(8, 12)].map(Number), [0, 13, 14, 15]);
  assert.deepEqual([...batch.labels.subarray(8, 12)].map(Number), [13, 14, 15, 1]);
  assert.deepEqual([...batch.labels.subarray(4, 8)].map(Number), [12, 1, -100, -100]);
  // Row 5 pads query 1 with its positive again.
  assert.deepEqual([...batch.labels.subarray(20, 24)].map(Number), [20, 1, -100, -100]);
  assert.deepEqual([...batch.groupBias], [0, 0, 0, 0, 0, MASKED].map(Math.fround));
  assert.deepEqual([...batch.reference], [-1, -2, -3, -4, -5, -4]);
  assert.deepEqual([...batch.pairPositive].map(Number), [0, 0, 3]);
  assert.deepEqual([...batch.pairNegative].map(Number), [1, 2, 4]);
  assert.deepEqual([...batch.pairWeight], [1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  assert.deepEqual([...batch.pairTarget], [0, 0, 0], 'no teacher: no target margins');
  assert.deepEqual([...batch.positiveRows].map(Number), [0, 3]);
  assert.equal(batch.generationTokens, 3 + 2);
  assert.deepEqual([...batch.queryWeight], [0.5, 0.5]);
});

function encoded(query: string, negatives: number): EncodedGroup {
  return {
    query,
    source: Int32Array.of(query.length),
    positive: Int32Array.of(100),
    reference: -1,
    negatives: Array.from({ length: negatives }, (_, j) => ({ target: Int32Array.of(200 + j), reference: -2 - ((j * 7) % 5) })),
  };
}

test('DDRO data: every triple once per epoch, in chunks, reshuffled by epoch, same plan for the same epoch', () => {
  const groups = [encoded('q1', 10), encoded('q22', 3)];
  const data = dpoTrainingData(groups, 4, { ...TOKENS, seed: 5, groupsPerBatch: 2 });
  assert.equal(data.groupsPerEpoch, 3 + 1);
  assert.equal(data.pairsPerEpoch, 13);
  assert.equal(data.batchesPerEpoch, 2);
  const triples = (epoch: number) =>
    data.data
      .plan(epoch)
      .flat()
      .flatMap((g) => g.targets.slice(1).map((t, j) => `${g.source[0]}:${t[0]}:${g.reference![j + 1]}`))
      .sort();
  const expected = groups.flatMap((g) => g.negatives.map((n) => `${g.source[0]}:${n.target[0]}:${n.reference}`)).sort();
  assert.deepEqual(triples(0), expected);
  assert.deepEqual(triples(1), expected);
  assert.deepEqual(data.data.plan(0), data.data.plan(0));
  assert.notDeepEqual(data.data.plan(0), data.data.plan(1));
  for (const group of data.data.plan(0).flat()) assert.ok(group.targets.length <= 5 && group.targets[0][0] === 100);
});

test('margin data: positive, the top negative by reference, a random other; hard queries only', () => {
  const g = encoded('q', 5); // references −2 − (7j mod 5) = −2, −4, −6, −3, −5
  assert.equal(topNegative(g), 0);
  const data = marginTrainingData([g], { ...TOKENS, seed: 1, groupsPerBatch: 4 });
  const seen = new Set<number>();
  for (let epoch = 0; epoch < 20; epoch++) {
    const [group] = data.data.plan(epoch).flat();
    assert.equal(group.targets[1][0], 200);
    assert.deepEqual(group.pairs, [
      [0, 1],
      [0, 2],
    ]);
    seen.add(group.targets[2][0]);
  }
  assert.ok(seen.size >= 3 && !seen.has(200), `random negatives drawn: ${[...seen].join(',')}`);
  // Positive −1 vs top negative −2: ahead by 1, so hard for margin 2 and not for margin 0.5.
  assert.equal(hardGroups([g], 2).length, 1);
  assert.equal(hardGroups([g], 0.5).length, 0);
});

test('list-wise data: lists of the positive, the top negative and random others', () => {
  const data = listwiseTrainingData([encoded('q', 6)], 4, { ...TOKENS, seed: 2, groupsPerBatch: 1 });
  const [group] = data.data.plan(0).flat();
  assert.equal(group.targets.length, 4);
  assert.equal(group.targets[1][0], 200);
  assert.equal(new Set(group.targets.map((t) => t[0])).size, 4);
  assert.equal(group.pairs, undefined);
});

test('margin data with teacher scores: each pair carries the teacher margin of its two documents', () => {
  const g = encoded('q', 4);
  const taught: EncodedGroup = { ...g, teacher: 3, negatives: g.negatives.map((n, j) => ({ ...n, teacher: 1 - j })) };
  const data = marginTrainingData([taught], { ...TOKENS, seed: 1, groupsPerBatch: 4 });
  const [group] = data.data.plan(0).flat();
  const random = group.targets[2][0] - 200;
  assert.deepEqual(group.teacher, [3, 1, 1 - random]);
  const batch = makePreferenceBatch([group], TOKENS);
  assert.deepEqual([...batch.pairTarget], [2, 2 + random]);
  // Without teacher scores the groups are as before (no teacher field).
  assert.equal(
    marginTrainingData([g], { ...TOKENS, seed: 1, groupsPerBatch: 4 })
      .data.plan(0)
      .flat()[0].teacher,
    undefined,
  );
});
