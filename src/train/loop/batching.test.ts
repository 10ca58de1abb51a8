import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketBatches, makeSeq2SeqBatch, IGNORE_INDEX } from './batching.js';

test('bucketBatches: every example once, sorted pools, same order for the same seed and epoch', () => {
  const lengths = Array.from({ length: 103 }, (_, i) => (i * 37) % 50);
  const options = { batchSize: 8, seed: 5, poolBatches: 4 };
  const batches = bucketBatches(lengths, 0, options);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    Array.from({ length: 103 }, (_, i) => i),
  );
  assert.equal(batches.length, 13);
  assert.equal(batches.filter((b) => b.length !== 8).length, 1);
  // Within a batch lengths are close: the batch is a run of a sorted pool of 32 examples.
  for (const batch of batches) {
    const ls = batch.map((i) => lengths[i]);
    assert.deepEqual(
      ls,
      [...ls].sort((a, b) => a - b),
    );
  }
  assert.deepEqual(bucketBatches(lengths, 0, options), batches);
  assert.notDeepEqual(bucketBatches(lengths, 1, options), batches);
  assert.notDeepEqual(bucketBatches(lengths, 0, { ...options, seed: 6 }), batches);
  // Bucketing pays: the padded size of a bucketed epoch is well below that of a random one.
  const padded = (bs: number[][]) => bs.reduce((sum, b) => sum + b.length * Math.max(...b.map((i) => lengths[i])), 0);
  assert.ok(padded(batches) < 0.8 * padded(bucketBatches(lengths, 0, { ...options, poolBatches: 1 })));
  const dropped = bucketBatches(lengths, 0, { ...options, dropLast: true });
  assert.equal(dropped.length, 12);
  assert.ok(dropped.every((b) => b.length === 8));
});

test('makeSeq2SeqBatch: pads, appends eos, shifts the decoder input, ignores padded labels', () => {
  const examples = [
    { source: [5, 6, 7], target: [9] },
    { source: [8], target: [10, 11, 12] },
  ];
  const batch = makeSeq2SeqBatch(examples, [1, 0], { padId: 0, eosId: 1, decoderStartId: 0 });
  assert.equal(batch.sourceLength, 4);
  assert.equal(batch.targetLength, 4);
  assert.deepEqual(Array.from(batch.inputIds, Number), [8, 1, 0, 0, 5, 6, 7, 1]);
  assert.deepEqual(Array.from(batch.attentionMask), [1, 1, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(batch.decoderInputIds, Number), [0, 10, 11, 12, 0, 9, 0, 0]);
  assert.deepEqual(Array.from(batch.labels, Number), [10, 11, 12, 1, 9, 1, IGNORE_INDEX, IGNORE_INDEX]);
  assert.equal(batch.targetTokens, 6);
  const rounded = makeSeq2SeqBatch(examples, [0], { padId: 0, eosId: 1, decoderStartId: 0, padToMultiple: 8, maxSourceLength: 2 });
  assert.equal(rounded.sourceLength, 8);
  assert.deepEqual(Array.from(rounded.inputIds, Number), [5, 6, 1, 0, 0, 0, 0, 0]);
});
