import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AdamW } from '../engine/optim/adamw.js';
import { t5Config } from './config.js';
import { DenseModel, padSequences, type DenseBatch, type DenseSettings } from './dense.js';
import { MASKED } from './t5-graph.js';

const CONFIG = t5Config('tiny', {
  vocabSize: 40,
  docidVocabSize: 2,
  dModel: 16,
  dKv: 4,
  dFf: 32,
  numLayers: 1,
  numDecoderLayers: 1,
  numHeads: 4,
  dropoutRate: 0,
});
const SETTINGS: DenseSettings = { temperature: { kind: 'learned', initial: 0.1 }, maxQueryTokens: 8, maxPassageTokens: 16 };

const rows = (sequences: number[][]) => sequences.map((s) => Int32Array.from(s));

test('dense encoder: unit vectors, the same for a sequence alone or padded in a batch, baked or not', async () => {
  const model = DenseModel.create(CONFIG, SETTINGS, 1);
  const short = Int32Array.of(40, 5, 6, 1);
  const long = Int32Array.of(41, 7, 8, 9, 10, 11, 12, 1);
  const alone = await model.encode([short]);
  const together = await model.encode([long, short], 2);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(alone[i] - together[16 + i]) < 1e-5, `dim ${i}: ${alone[i]} vs ${together[16 + i]}`);
  for (const row of [0, 1]) {
    const norm = Math.hypot(...together.subarray(row * 16, (row + 1) * 16));
    assert.ok(Math.abs(norm - 1) < 1e-5, `row ${row} has norm ${norm}`);
  }
  const baked = new DenseModel(CONFIG, SETTINGS, model.parameters, { bakeInferenceWeights: true });
  const fused = await baked.encode([long, short]);
  fused.forEach((v, i) => assert.ok(Math.abs(v - together[i]) < 1e-5));
  await model.release();
  await baked.release();
});

function batchOf(queries: number[][], docs: number[][], targets: number[], masked: [number, number][] = []): DenseBatch {
  const q = padSequences(rows(queries), 0);
  const d = padSequences(rows(docs), 0);
  const bias = new Float32Array(queries.length * docs.length);
  for (const [row, col] of masked) bias[row * docs.length + col] = MASKED;
  return {
    queries: queries.length,
    queryLength: q.length,
    queryIds: q.ids,
    queryMask: q.mask,
    docs: docs.length,
    docLength: d.length,
    docIds: d.ids,
    docMask: d.mask,
    targets: BigInt64Array.from(targets.map(BigInt)),
    bias,
  };
}

test('dense training step: loss falls and in-batch accuracy reaches 1 on a tiny retrieval task; save/load keeps the vectors', async () => {
  const model = DenseModel.create(CONFIG, SETTINGS, 3);
  // Each query shares its content tokens with its passage only.
  const batch = batchOf(
    [
      [40, 5, 6, 1],
      [40, 7, 8, 1],
      [40, 9, 10, 1],
      [40, 11, 12, 1],
    ],
    [
      [41, 11, 12, 20, 1],
      [41, 5, 6, 21, 1],
      [41, 9, 10, 22, 1],
      [41, 7, 8, 23, 1],
      [41, 30, 31, 1],
    ],
    [1, 3, 2, 0],
  );
  const optimizer = new AdamW(model.parameters, { weightDecay: 0 });
  const first = await model.lossAndGradients(batch, 0);
  assert.ok(Number.isFinite(first.loss) && first.loss > 0);
  assert.ok([...first.gradients.values()].every((g) => g.every(Number.isFinite)));
  let last = first.loss;
  for (let step = 0; step < 60; step++) {
    const { loss, gradients } = await model.lossAndGradients(batch, step);
    optimizer.update(gradients, 3e-3);
    last = loss;
  }
  assert.ok(last < first.loss * 0.5, `loss ${first.loss} → ${last}`);
  assert.equal(model.lastAccuracy, 1);
  assert.notEqual(model.temperature(), 0.1, 'the learned temperature moved');
  const dir = mkdtempSync(join(tmpdir(), 'genir-dense-'));
  try {
    await model.save(dir);
    const loaded = DenseModel.load(dir);
    assert.deepEqual(loaded.settings, SETTINGS);
    const sequences = rows([
      [40, 5, 6, 1],
      [41, 30, 31, 1],
    ]);
    assert.deepEqual(await loaded.encode(sequences), await model.encode(sequences));
    await loaded.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await model.release();
  }
});

test('a masked false negative does not count: the loss equals the batch without that passage', async () => {
  const model = DenseModel.create(CONFIG, { ...SETTINGS, temperature: { kind: 'fixed', value: 0.05 } }, 5);
  const queries = [
    [40, 5, 6, 1],
    [40, 7, 8, 1],
  ];
  const withExtra = await model.lossAndGradients(
    batchOf(
      queries,
      [
        [41, 5, 6, 1],
        [41, 7, 8, 1],
        [41, 5, 9, 1],
      ],
      [0, 1],
      [[0, 2]],
    ),
    0,
  );
  // Query 1 still sees passage 2 as a negative, so drop it for query 1 too to compare with the two-passage batch.
  const masked = await model.lossAndGradients(
    batchOf(
      queries,
      [
        [41, 5, 6, 1],
        [41, 7, 8, 1],
        [41, 5, 9, 1],
      ],
      [0, 1],
      [
        [0, 2],
        [1, 2],
      ],
    ),
    0,
  );
  const without = await model.lossAndGradients(
    batchOf(
      queries,
      [
        [41, 5, 6, 1],
        [41, 7, 8, 1],
      ],
      [0, 1],
    ),
    0,
  );
  assert.ok(Math.abs(masked.loss - without.loss) < 1e-5, `${masked.loss} vs ${without.loss}`);
  assert.ok(withExtra.loss > masked.loss);
  await model.release();
});
