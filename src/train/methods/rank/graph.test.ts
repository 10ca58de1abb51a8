import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { T5Config } from '../../../model/config.js';
import { microT5Config } from '../../../model/testdata/micro-config.js';
import { T5Model } from '../../../model/t5.js';
import { makeSeq2SeqBatch } from '../../loop/batching.js';
import { makePreferenceBatch, type PreferenceBatch, type PreferenceGroup } from '../../../model/grouped-batch.js';
import type { PreferenceObjective } from './graph.js';
import { GroupedScorer } from '../../../model/grouped.js';
import { PreferenceModel, prefixFeeds } from './model.js';

const TOKENS = { padId: 0, eosId: 1, decoderStartId: 0 };

function tinyConfig(): T5Config {
  return microT5Config(37, 6, {
    dFf: 24,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 12,
  });
}

// Two queries of different lengths; the second has fewer negatives (one padded row).
const GROUPS: PreferenceGroup[] = [
  { source: [5, 6, 7, 8, 9, 10, 11, 12], targets: [[38, 39, 40], [37, 41], [39, 42, 38], [40]] },
  { source: [9, 10, 3], targets: [[41, 37, 38], [42, 42], [37]] },
];

/** The same rows with every row carrying its own copy of its query (no encoder sharing). */
function unshared(batch: PreferenceBatch): PreferenceBatch {
  const inputIds = new BigInt64Array(batch.rows * batch.sourceLength);
  const attentionMask = new Float32Array(batch.rows * batch.sourceLength);
  for (let row = 0; row < batch.rows; row++) {
    const q = Number(batch.rowQuery[row]);
    inputIds.set(batch.inputIds.subarray(q * batch.sourceLength, (q + 1) * batch.sourceLength), row * batch.sourceLength);
    attentionMask.set(batch.attentionMask.subarray(q * batch.sourceLength, (q + 1) * batch.sourceLength), row * batch.sourceLength);
  }
  return {
    ...batch,
    queries: batch.rows,
    inputIds,
    attentionMask,
    rowQuery: BigInt64Array.from({ length: batch.rows }, (_, r) => BigInt(r)),
  };
}

test('grouped scoring (one encoder pass per query) equals the model scoring each row on its own', async () => {
  const model = T5Model.create(tinyConfig(), 7, { threads: 1 });
  const scorer = await GroupedScorer.create(model, { threads: 1, rowsPerRun: 4 });
  try {
    const grouped = await scorer.score(GROUPS, TOKENS);
    const rows = GROUPS.flatMap((g) => g.targets.map((target) => ({ source: g.source, target })));
    const single = await model.score(
      makeSeq2SeqBatch(
        rows,
        rows.map((_, i) => i),
        TOKENS,
      ),
    );
    const flat = grouped.flat();
    assert.equal(flat.length, rows.length);
    flat.forEach((value, i) =>
      assert.ok(Math.abs(value - single[i]) <= 1e-5 * Math.max(1, Math.abs(single[i])), `row ${i}: ${value} vs ${single[i]}`),
    );
    assert.ok(flat.every((v) => v < 0));
  } finally {
    await scorer.release();
    await model.release();
  }
});

const OBJECTIVES: [string, PreferenceObjective][] = [
  ['dpo', { rank: { kind: 'dpo', beta: 0.4 }, generationWeight: 0 }],
  ['dpo + sft mix', { rank: { kind: 'dpo', beta: 0.4 }, generationWeight: 0.5 }],
  ['margin + generation', { rank: { kind: 'margin', margin: 1 }, generationWeight: 1 }],
  ['prefix-oriented margin (RIPOR)', { rank: { kind: 'margin', margin: 1, prefixLengths: [1, 2] }, generationWeight: 1 }],
  ['MarginMSE (teacher margins)', { rank: { kind: 'margin-mse' }, generationWeight: 0 }],
  ['prefix-oriented MarginMSE (RIPOR)', { rank: { kind: 'margin-mse', prefixLengths: [1, 2] }, generationWeight: 1 }],
  ['listwise', { rank: { kind: 'listwise', temperature: 1 }, generationWeight: 0 }],
  ['equal-compute control (rank weight 0)', { rank: { kind: 'dpo', beta: 0.4 }, generationWeight: 1, rankWeight: 0 }],
];

for (const [label, objective] of OBJECTIVES) {
  test(`${label}: gradients with the shared encoder equal unshared ones and match finite differences`, async () => {
    const model = T5Model.create(tinyConfig(), 11, { threads: 1 });
    const scorer = await GroupedScorer.create(model, { threads: 1 });
    const trainer = new PreferenceModel(model, objective, { threads: 1 });
    try {
      // The reference is the model itself nudged down on the negatives, so the DPO margin is not 0.
      const reference = await scorer.score(GROUPS, TOKENS);
      // Teacher scores (MarginMSE) that put the positive 0.7 nats ahead of each next row.
      const groups = GROUPS.map((g, i) => ({
        ...g,
        reference: reference[i].map((v, j) => (j === 0 ? v : v - 0.3 * j)),
        teacher: g.targets.map((_, j) => -0.7 * j),
      }));
      const batch = makePreferenceBatch(groups, TOKENS);
      assert.equal(batch.groupSize, 4);
      const shared = await trainer.lossAndGradients(batch, 0);
      const copied = await trainer.lossAndGradients(unshared(batch), 0);
      assert.ok(Math.abs(shared.loss - copied.loss) <= 1e-5 * Math.abs(shared.loss), `${shared.loss} vs ${copied.loss}`);
      let dot = 0;
      for (const param of model.parameters) {
        const a = shared.gradients.get(param.name)!;
        const b = copied.gradients.get(param.name)!;
        let diff = 0;
        let norm = 0;
        for (let i = 0; i < a.length; i++) {
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
          norm = Math.max(norm, Math.abs(a[i]));
          dot += a[i] * a[i];
        }
        assert.ok(diff <= 1e-4 * Math.max(norm, 1e-3), `${param.name}: max difference ${diff} (max |grad| ${norm})`);
      }
      assert.ok(dot > 0, 'the gradient is not zero');
      // Directional derivative along the gradient: (L(θ + εĝ) − L(θ − εĝ)) / 2ε ≈ |g|.
      const norm = Math.sqrt(dot);
      const eps = 1e-2;
      const original = model.parameters.map((p) => Float32Array.from(p.data));
      const shift = (sign: number) =>
        model.parameters.forEach((p, k) => {
          const g = shared.gradients.get(p.name)!;
          for (let i = 0; i < p.data.length; i++) p.data[i] = original[k][i] + (sign * eps * g[i]) / norm;
        });
      shift(1);
      const plus = (await trainer.lossAndGradients(batch, 0)).loss;
      shift(-1);
      const minus = (await trainer.lossAndGradients(batch, 0)).loss;
      model.parameters.forEach((p, k) => p.data.set(original[k]));
      const numeric = (plus - minus) / (2 * eps);
      assert.ok(Math.abs(numeric - norm) <= 0.03 * norm, `finite difference ${numeric} vs |g| ${norm}`);
    } finally {
      await trainer.release();
      await scorer.release();
      await model.release();
    }
  });
}

test('DPO loss is log 2 when the policy is the reference it was scored with', async () => {
  const model = T5Model.create(tinyConfig(), 3, { threads: 1 });
  const scorer = await GroupedScorer.create(model, { threads: 1 });
  const trainer = new PreferenceModel(model, { rank: { kind: 'dpo', beta: 0.4 }, generationWeight: 0 }, { threads: 1 });
  try {
    const reference = await scorer.score(GROUPS, TOKENS);
    const step = await trainer.lossAndGradients(
      makePreferenceBatch(
        GROUPS.map((g, i) => ({ ...g, reference: reference[i] })),
        TOKENS,
      ),
      0,
    );
    assert.ok(Math.abs(step.loss - Math.LN2) < 1e-5, `${step.loss}`);
  } finally {
    await trainer.release();
    await scorer.release();
    await model.release();
  }
});

test('equal-compute control: loss and gradients are those of DPO + cross-entropy minus DPO alone', async () => {
  const model = T5Model.create(tinyConfig(), 5, { threads: 1 });
  const scorer = await GroupedScorer.create(model, { threads: 1 });
  const objective = (generationWeight: number, rankWeight?: number): PreferenceObjective => ({
    rank: { kind: 'dpo', beta: 0.4 },
    generationWeight,
    ...(rankWeight === undefined ? {} : { rankWeight }),
  });
  const trainers = [objective(0), objective(1), objective(1, 0)].map((o) => new PreferenceModel(model, o, { threads: 1 }));
  try {
    const reference = await scorer.score(GROUPS, TOKENS);
    const batch = makePreferenceBatch(
      GROUPS.map((g, i) => ({ ...g, reference: reference[i].map((v, j) => v - 0.2 * j) })),
      TOKENS,
    );
    const [dpo, mixed, control] = await Promise.all(trainers.map((t) => t.lossAndGradients(batch, 0)));
    assert.ok(Math.abs(control.loss - (mixed.loss - dpo.loss)) < 1e-5, `${control.loss} vs ${mixed.loss} - ${dpo.loss}`);
    assert.ok(control.loss > 0);
    for (const param of model.parameters) {
      const [a, b, c] = [dpo, mixed, control].map((step) => step.gradients.get(param.name)!);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(c[i] - (b[i] - a[i])) <= 1e-5, `${param.name}[${i}]`);
    }
  } finally {
    for (const t of trainers) await t.release();
    await scorer.release();
    await model.release();
  }
});

test('prefix feeds: one mask row per prefix shorter than the targets, then the whole docid; margins scale with the prefix', () => {
  const feeds = prefixFeeds([1, 2, 5], 2, 4);
  assert.deepEqual(feeds.prefix_mask.dims, [3, 4]);
  assert.deepEqual([...feeds.prefix_mask.data], [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual([...feeds.prefix_margin.data], [0.5, 1, 2]);
  // MarginMSE: no margin, the prefix's share of the docid, which scales each pair's teacher margin.
  const shares = prefixFeeds([1, 2, 5], undefined, 4);
  assert.deepEqual(Object.keys(shares).sort(), ['prefix_mask', 'prefix_scale']);
  assert.deepEqual([...shares.prefix_scale.data], [0.25, 0.5, 1]);
});
