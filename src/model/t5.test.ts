import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T5Model, relativePositionBuckets, causalBias } from './t5.js';
import { t5Config, totalVocabSize, type T5Config } from './config.js';
import { makeSeq2SeqBatch } from '../train/batching.js';
import { globalGradNorm } from '../engine/optim/clip.js';

interface TorchReference {
  loss: number;
  sequence_log_prob: number[];
  grad_norm: Record<string, number>;
}
const reference = JSON.parse(readFileSync(new URL('./testdata/t5-torch-reference.json', import.meta.url), 'utf8')) as Record<'tied' | 'untied', TorchReference>;

/** Small enough to run in milliseconds, with short position buckets so the logarithmic buckets are used. */
function goldenConfig(tied: boolean): T5Config {
  return t5Config('tiny', {
    vocabSize: 37, docidVocabSize: 3, dModel: 16, dKv: 4, numHeads: 4, dFf: 24, numLayers: 2, numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 12, dropoutRate: 0, tieWordEmbeddings: tied,
  });
}

// A long pair (log-spaced buckets, docid tokens 37-39 in the target) and a short padded one.
const examples = [
  { source: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22], target: [38, 39, 37, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
  { source: [9, 10, 3], target: [10] },
];
const batch = makeSeq2SeqBatch(examples, [0, 1], { padId: 0, eosId: 1, decoderStartId: 0 });

test('relative position buckets equal T5 bucketing (values from the PyTorch reference)', () => {
  const relative = [-200, -64, -17, -16, -9, -8, -7, 0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 63, 64, 100, 127, 128, 200];
  const bidirectional = [15, 14, 10, 10, 8, 8, 7, 0, 17, 23, 24, 24, 25, 26, 26, 27, 28, 29, 30, 31, 31, 31, 31];
  // relative = key - query; a 1 x 401 row with the query at 200 covers every offset above.
  const row = relativePositionBuckets(1, 401, true, 32, 128, 200);
  assert.deepEqual(relative.map((r) => Number(row[200 + r])), bidirectional);
  const causalRelative = [5, 0, -1, -15, -16, -17, -31, -32, -63, -64, -127, -128, -300];
  const unidirectional = [0, 0, 1, 15, 16, 16, 21, 21, 26, 26, 31, 31, 31];
  const causalRow = relativePositionBuckets(1, 306, false, 32, 128, 300);
  assert.deepEqual(causalRelative.map((r) => Number(causalRow[300 + r])), unidirectional);
  assert.deepEqual(Array.from(causalBias(3)), [0, -1e9, -1e9, 0, 0, -1e9, 0, 0, 0].map(Math.fround));
});

for (const tied of [false, true]) {
  const label = tied ? 'tied head' : 'untied head';
  test(`T5 (${label}): loss, sequence log-probs and every gradient match the PyTorch reference`, async () => {
    const model = T5Model.create(goldenConfig(tied), 1234, { threads: 1 });
    try {
      const expected = reference[tied ? 'tied' : 'untied'];
      const { loss, gradients } = await model.lossAndGradients(batch, 0);
      assert.ok(Math.abs(loss - expected.loss) < 1e-5, `loss ${loss} vs ${expected.loss}`);
      const scores = await model.score(batch);
      expected.sequence_log_prob.forEach((value, i) => assert.ok(Math.abs(scores[i] - value) < 1e-4 * Math.abs(value), `score ${i}: ${scores[i]} vs ${value}`));
      assert.equal(gradients.size, Object.keys(expected.grad_norm).length);
      for (const [name, norm] of Object.entries(expected.grad_norm)) {
        const ours = globalGradNorm(new Map([[name, gradients.get(name)!]]));
        assert.ok(Math.abs(ours - norm) <= 1e-4 * norm + 1e-7, `gradient of ${name}: norm ${ours} vs ${norm}`);
      }
    } finally {
      await model.release();
    }
  });
}

test('T5: cached decoder steps give the same log-probs as teacher-forced scoring; checkpoints round-trip', async () => {
  const config = goldenConfig(false);
  const model = T5Model.create(config, 99, { threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'genir-t5-'));
  try {
    const scores = await model.score(batch);
    const vocab = totalVocabSize(config);
    // Decode row by row along the reference targets (batch 2: both rows at once, the short one padded).
    const encoded = await model.encode(batch.inputIds, batch.attentionMask, batch.size, batch.sourceLength);
    let cache = model.emptyCache(batch.size);
    const sums = [0, 0];
    for (let t = 0; t < batch.targetLength; t++) {
      const tokens = BigInt64Array.from([0, 1].map((row) => batch.decoderInputIds[row * batch.targetLength + t]));
      const step = await model.decoderStep(encoded, cache, tokens);
      cache = step.cache;
      for (let row = 0; row < 2; row++) {
        const label = Number(batch.labels[row * batch.targetLength + t]);
        if (label !== -100) sums[row] += step.logProbs[row * vocab + label];
      }
    }
    assert.equal(cache.length, batch.targetLength);
    assert.deepEqual(cache.keys[0].dims, [2, config.numHeads, batch.targetLength, config.dKv]);
    for (let row = 0; row < 2; row++) assert.ok(Math.abs(sums[row] - scores[row]) < 1e-4 * Math.abs(scores[row]), `row ${row}: ${sums[row]} vs ${scores[row]}`);

    await model.save(dir);
    const loaded = T5Model.load(dir, { threads: 1 });
    assert.deepEqual(Array.from(await loaded.score(batch)), Array.from(scores));
    await loaded.release();
  } finally {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  }
});
