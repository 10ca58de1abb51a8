import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T5Model, relativePositionBuckets, causalBias } from './t5.js';
import { selectRows } from './generation.js';
import { totalVocabSize, type T5Config } from './config.js';
import { microT5Config } from './testdata/micro-config.js';
import { makeSeq2SeqBatch } from './batch.js';
import { T5_TORCH_REFERENCE } from './testdata/t5-torch-reference.js';
import { clipFactor, globalGradNorm } from '../engine/optim/clip.js';
import { AdamW } from '../engine/optim/adamw.js';

interface TorchReference {
  loss: number;
  sequence_log_prob: readonly number[];
  grad_norm: Readonly<Record<string, number>>;
}
const reference: Record<'tied' | 'untied', TorchReference> = T5_TORCH_REFERENCE;

/** Small enough to run in milliseconds, with short position buckets so the logarithmic buckets are used. */
function goldenConfig(tied: boolean): T5Config {
  return microT5Config(37, 3, {
    dFf: 24,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 12,
    tieWordEmbeddings: tied,
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
  assert.deepEqual(
    relative.map((r) => Number(row[200 + r])),
    bidirectional,
  );
  const causalRelative = [5, 0, -1, -15, -16, -17, -31, -32, -63, -64, -127, -128, -300];
  const unidirectional = [0, 0, 1, 15, 16, 16, 21, 21, 26, 26, 31, 31, 31];
  const causalRow = relativePositionBuckets(1, 306, false, 32, 128, 300);
  assert.deepEqual(
    causalRelative.map((r) => Number(causalRow[300 + r])),
    unidirectional,
  );
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
      expected.sequence_log_prob.forEach((value, i) =>
        assert.ok(Math.abs(scores[i] - value) < 1e-4 * Math.abs(value), `score ${i}: ${scores[i]} vs ${value}`),
      );
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
    for (let row = 0; row < 2; row++)
      assert.ok(Math.abs(sums[row] - scores[row]) < 1e-4 * Math.abs(scores[row]), `row ${row}: ${sums[row]} vs ${scores[row]}`);

    await model.save(dir);
    // Beam search over one source: a shared encoder row gives what copying it per hypothesis gives.
    const single = await model.encode(
      batch.inputIds.slice(0, batch.sourceLength),
      batch.attentionMask.slice(0, batch.sourceLength),
      1,
      batch.sourceLength,
    );
    const hyps = [0, 0, 0];
    const copied = {
      ...single,
      batch: 3,
      attentionMask: selectRows(single.attentionMask, hyps),
      crossKeys: single.crossKeys.map((t) => selectRows(t, hyps)),
      crossValues: single.crossValues.map((t) => selectRows(t, hyps)),
    };
    const beamTokens = BigInt64Array.of(0n, 5n, 9n);
    const viaShared = await model.decoderStep(single, model.emptyCache(3), beamTokens);
    const viaCopies = await model.decoderStep(copied, model.emptyCache(3), beamTokens);
    viaCopies.logProbs.forEach((value, i) => assert.ok(Math.abs(viaShared.logProbs[i] - value) < 1e-5, `shared-source step [${i}]`));

    // Loaded with the weights baked into the inference graphs as initializers.
    const loaded = T5Model.load(dir, { threads: 1, bakeInferenceWeights: true });
    const loadedScores = await loaded.score(batch);
    scores.forEach((value, i) => assert.ok(Math.abs(loadedScores[i] - value) < 1e-5 * Math.abs(value), `baked score ${i}`));
    assert.deepEqual(await loaded.greedyDecode([[5, 6, 7]], 4), await model.greedyDecode([[5, 6, 7]], 4));
    await loaded.release();
  } finally {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('T5: the in-graph AdamW step moves the weights as lossAndGradients + the TypeScript AdamW, and skips non-finite steps', async () => {
  const config = { ...goldenConfig(false), dropoutRate: 0.1 };
  const inGraph = T5Model.create(config, 5, { threads: 1 });
  const inTs = T5Model.create(config, 5, { threads: 1 });
  const graphOptimizer = new AdamW(inGraph.parameters, { weightDecay: 0.1 });
  const tsOptimizer = new AdamW(inTs.parameters, { weightDecay: 0.1 });
  try {
    for (let step = 0; step < 3; step++) {
      // A clip norm below the gradient norm, so the clipping path is exercised too.
      const fused = await inGraph.adamWStep(batch, step, graphOptimizer, 0.01, 0.5);
      const { loss, gradients } = await inTs.lossAndGradients(batch, step);
      const norm = globalGradNorm(gradients);
      assert.ok(norm > 0.5);
      tsOptimizer.update(gradients, 0.01, clipFactor(norm, 0.5));
      assert.ok(Math.abs(fused.loss - loss) < 1e-5 * loss, `step ${step}: loss ${fused.loss} vs ${loss}`);
      assert.ok(Math.abs(fused.gradNorm - norm) < 1e-4 * norm, `step ${step}: norm ${fused.gradNorm} vs ${norm}`);
    }
    assert.equal(graphOptimizer.step, 3);
    const a = graphOptimizer.getState();
    const b = tsOptimizer.getState();
    inGraph.parameters.forEach((p, i) => {
      const q = inTs.parameters[i];
      for (let k = 0; k < p.data.length; k++) {
        assert.ok(Math.abs(p.data[k] - q.data[k]) <= 1e-4 * Math.abs(q.data[k]) + 1e-5, `${p.name}[${k}]: ${p.data[k]} vs ${q.data[k]}`);
      }
      const m1 = a.m.get(p.name)!;
      const m2 = b.m.get(p.name)!;
      for (let k = 0; k < m1.length; k++) assert.ok(Math.abs(m1[k] - m2[k]) <= 1e-3 * Math.abs(m2[k]) + 1e-7, `m of ${p.name}[${k}]`);
    });

    // A NaN weight makes the loss and the gradient norm NaN: nothing may change.
    const before = inGraph.parameters.map((p) => p.data.slice());
    const moments = graphOptimizer.getState();
    inGraph.parameters[1].data[0] = Number.NaN;
    before[1][0] = Number.NaN;
    const skipped = await inGraph.adamWStep(batch, 9, graphOptimizer, 0.01, 0.5);
    assert.ok(Number.isNaN(skipped.gradNorm));
    assert.equal(graphOptimizer.step, 3);
    inGraph.parameters.forEach((p, i) => assert.deepEqual(p.data, before[i], p.name));
    const after = graphOptimizer.getState();
    for (const [name, m] of moments.m) assert.deepEqual(after.m.get(name), m);
  } finally {
    await inGraph.release();
    await inTs.release();
  }
});

test('T5: label smoothing reaches both training graphs; the loss is linear in ε and ε = 0 is the plain loss', async () => {
  const config = goldenConfig(false);
  const plain = T5Model.create(config, 7, { threads: 1 });
  const smoothedBy = (labelSmoothing: number) =>
    new T5Model(
      config,
      plain.parameters.map((p) => ({ ...p, data: p.data.slice() })),
      { threads: 1, labelSmoothing },
    );
  const [zero, tenth, fifth] = [smoothedBy(0), smoothedBy(0.1), smoothedBy(0.2)];
  try {
    const loss0 = (await plain.lossAndGradients(batch, 0)).loss;
    assert.equal((await zero.lossAndGradients(batch, 0)).loss, loss0);
    const loss1 = (await tenth.lossAndGradients(batch, 0)).loss;
    const loss2 = (await fifth.lossAndGradients(batch, 0)).loss;
    // The smoothed target is not the one-hot one, so the loss must move.
    assert.ok(Math.abs(loss1 - loss0) > 1e-3, `${loss1} vs ${loss0}`);
    assert.ok(Math.abs(loss2 - loss0 - 2 * (loss1 - loss0)) < 1e-5 * loss0, `${loss0}, ${loss1}, ${loss2}`);
    const fused = await tenth.adamWStep(batch, 0, new AdamW(tenth.parameters), 0.01);
    assert.ok(Math.abs(fused.loss - loss1) < 1e-5 * loss1, `fused ${fused.loss} vs ${loss1}`);
  } finally {
    for (const model of [plain, zero, tenth, fifth]) await model.release();
  }
});
