/**
 * Importing Hugging Face T5 checkpoints, checked against a reference PyTorch T5 written from
 * the published architecture (scripts/fixtures/t5_reference.py): tiny random checkpoints in
 * the v1.0, Flan-T5 (v1.1) and mT5 layouts, and that model's outputs, made by
 * scripts/fixtures/make_import_fixtures.py and committed under testdata/hf-t5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, exportModel, type HostTensor } from '../engine/index.js';
import { AdamW } from '../engine/optim/adamw.js';
import { clipFactor, globalGradNorm } from '../engine/optim/clip.js';
import { UserError } from '../util/errors.js';
import type { Seq2SeqBatch } from './batch.js';
import { totalVocabSize } from './config.js';
import { parametersOf, readHfCheckpoint, withDocidRows, writeHfDirectory } from './hf-import.js';
import { readSafetensors } from './safetensors.js';
import { T5Model, causalBias, relativePositionBuckets } from './t5.js';
import { buildTeacherForcedLogitsGraph } from './t5-graph.js';

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata', 'hf-t5');
const VARIANTS = ['t5-v1_0', 'flan-t5', 'mt5'] as const;

interface Reference {
  batch: Seq2SeqBatch;
  tensors: Map<string, Float32Array>;
  json: {
    sources: string[];
    targets: string[];
    source_ids: number[][];
    target_ids: number[][];
    training: { lr: number; weight_decay: number; clip_norm: number; steps: number };
  };
}

function reference(name: string): Reference {
  const { tensors } = readSafetensors(join(fixtures, `${name}.reference.safetensors`));
  const ids = (key: string) => tensors.get(key)!.data as BigInt64Array;
  const [size, sourceLength] = tensors.get('input_ids')!.shape;
  const targetLength = tensors.get('labels')!.shape[1];
  const batch: Seq2SeqBatch = {
    size,
    sourceLength,
    targetLength,
    inputIds: ids('input_ids'),
    attentionMask: tensors.get('attention_mask')!.data as Float32Array,
    decoderInputIds: ids('decoder_input_ids'),
    labels: ids('labels'),
  } as Seq2SeqBatch;
  const floats = new Map([...tensors].filter(([, t]) => t.dtype === 'F32').map(([k, t]) => [k, t.data as Float32Array]));
  return { batch, tensors: floats, json: JSON.parse(readFileSync(join(fixtures, `${name}.reference.json`), 'utf8')) as Reference['json'] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

async function forward(model: T5Model, batch: Seq2SeqBatch): Promise<{ logits: Float32Array; hidden: Float32Array }> {
  const { config } = model;
  const graph = buildTeacherForcedLogitsGraph(config);
  const session = await Session.create(exportModel(graph, { params: model.weights() }), { threads: 1 });
  const { size, sourceLength: s, targetLength: t } = batch;
  const n = config.relativeAttentionNumBuckets;
  const d = config.relativeAttentionMaxDistance;
  const feeds: Record<string, HostTensor> = {
    input_ids: { data: batch.inputIds, dims: [size, s] },
    attention_mask: { data: batch.attentionMask, dims: [size, s] },
    decoder_input_ids: { data: batch.decoderInputIds, dims: [size, t] },
    labels: { data: batch.labels, dims: [size, t] },
    encoder_position_buckets: { data: relativePositionBuckets(s, s, true, n, d), dims: [s, s] },
    decoder_position_buckets: { data: relativePositionBuckets(t, t, false, n, d), dims: [t, t] },
    decoder_causal_bias: { data: causalBias(t), dims: [t, t] },
  };
  try {
    const result = await session.run(feeds);
    return { logits: result.logits.data as Float32Array, hidden: result.encoder_hidden.data as Float32Array };
  } finally {
    await session.release();
  }
}

function importModel(dir: string): { model: T5Model; tokenizer: ReturnType<typeof readHfCheckpoint>['tokenizer'] } {
  const checkpoint = readHfCheckpoint(dir);
  // The reference runs without dropout.
  const config = { ...checkpoint.config, dropoutRate: 0 };
  return { model: new T5Model(config, parametersOf(config, checkpoint.weights), { threads: 1 }), tokenizer: checkpoint.tokenizer };
}

test('relative position buckets equal the reference for many (buckets, max distance) settings, both directions', () => {
  const cases = JSON.parse(readFileSync(join(fixtures, 'buckets.json'), 'utf8')) as {
    num_buckets: number;
    max_distance: number;
    bidirectional: boolean;
    from: number;
    buckets: number[];
  }[];
  for (const c of cases) {
    // relative = key - query: one query row at -from covers from … from + length - 1.
    const row = relativePositionBuckets(1, c.buckets.length, c.bidirectional, c.num_buckets, c.max_distance, -c.from);
    assert.deepEqual(
      Array.from(row, Number),
      c.buckets,
      `${c.num_buckets} buckets, max distance ${c.max_distance}, ${c.bidirectional ? 'bidirectional' : 'causal'}`,
    );
  }
});

for (const name of VARIANTS) {
  test(`import ${name}: config, tokenizer ids, encoder states, logits and label log-probs match the reference T5 (1e-5, float32)`, async () => {
    const { model, tokenizer } = importModel(join(fixtures, name));
    const ref = reference(name);
    try {
      const expectations = { 't5-v1_0': ['relu', true, 2], 'flan-t5': ['gated-gelu', false, 2], mt5: ['gated-gelu', false, 1] } as const;
      const [feedForward, tied, decoderLayers] = expectations[name];
      assert.equal(model.config.feedForward, feedForward);
      assert.equal(model.config.tieWordEmbeddings, tied);
      assert.equal(model.config.numDecoderLayers, decoderLayers);
      assert.equal(tokenizer.vocabSize, totalVocabSize(model.config));
      ref.json.sources.forEach((text, i) => assert.deepEqual([...tokenizer.encode(text, { addEos: true })], ref.json.source_ids[i], text));
      ref.json.targets.forEach((text, i) => assert.deepEqual([...tokenizer.encode(text, { addEos: true })], ref.json.target_ids[i], text));

      const { logits, hidden } = await forward(model, ref.batch);
      assert.ok(
        maxAbsDiff(hidden, ref.tensors.get('encoder_hidden')!) <= 1e-5,
        `encoder states: ${maxAbsDiff(hidden, ref.tensors.get('encoder_hidden')!)}`,
      );
      assert.ok(maxRelDiff(logits, ref.tensors.get('logits')!) <= 1e-5, `logits: ${maxRelDiff(logits, ref.tensors.get('logits')!)}`);
      // Per-token log-probabilities through the cached decoder steps (the generation path).
      const { batch } = ref;
      const vocab = totalVocabSize(model.config);
      const encoded = await model.encode(batch.inputIds, batch.attentionMask, batch.size, batch.sourceLength);
      let cache = model.emptyCache(batch.size);
      const labelLogProbs = new Float32Array(batch.size * batch.targetLength);
      for (let t = 0; t < batch.targetLength; t++) {
        const step = await model.decoderStep(
          encoded,
          cache,
          BigInt64Array.from({ length: batch.size }, (_, row) => batch.decoderInputIds[row * batch.targetLength + t]),
        );
        cache = step.cache;
        for (let row = 0; row < batch.size; row++) {
          const label = Number(batch.labels[row * batch.targetLength + t]);
          if (label >= 0) labelLogProbs[row * batch.targetLength + t] = step.logProbs[row * vocab + label];
        }
      }
      assert.ok(
        maxAbsDiff(labelLogProbs, ref.tensors.get('label_log_probs')!) <= 1e-5,
        `label log-probs: ${maxAbsDiff(labelLogProbs, ref.tensors.get('label_log_probs')!)}`,
      );
    } finally {
      await model.release();
    }
  });

  test(`import ${name}: three AdamW steps (clipped, weight decay) give the reference's losses`, async () => {
    const { model } = importModel(join(fixtures, name));
    const ref = reference(name);
    const { lr, weight_decay: weightDecay, clip_norm: clipNorm, steps } = ref.json.training;
    const expected = ref.tensors.get('train_losses')!;
    const optimizer = new AdamW(model.parameters, { weightDecay });
    try {
      for (let step = 0; step <= steps; step++) {
        const { loss, gradients } = await model.lossAndGradients(ref.batch, step);
        assert.ok(Math.abs(loss - expected[step]) <= 1e-5 * Math.max(1, expected[step]), `step ${step}: loss ${loss} vs ${expected[step]}`);
        optimizer.update(gradients, lr, clipFactor(globalGradNorm(gradients), clipNorm));
      }
    } finally {
      await model.release();
    }
  });
}

test('export → import round-trips a model with docid rows: same tokenizer ids and identical logits', async () => {
  const checkpoint = readHfCheckpoint(join(fixtures, 'flan-t5'));
  const extended = withDocidRows({ ...checkpoint.config, dropoutRate: 0 }, checkpoint.weights, 5, 7);
  assert.equal(extended.weights.get('shared.weight')!.length, (checkpoint.config.vocabSize + 5) * checkpoint.config.dModel);
  assert.deepEqual(extended.weights.get('shared.weight')!.subarray(0, 100), checkpoint.weights.get('shared.weight')!.subarray(0, 100));
  const tokenizer = checkpoint.tokenizer.withDocidTokens(5);
  const dir = mkdtempSync(join(tmpdir(), 'genir-hf-export-'));
  try {
    await writeHfDirectory(dir, extended.config, extended.weights, tokenizer);
    const back = readHfCheckpoint(dir);
    assert.equal(back.config.docidVocabSize, 5);
    assert.equal(back.tokenizer.docidTokenId(4), checkpoint.config.vocabSize + 4);
    const text = 'Which team won Super Bowl 50? <docid_3>';
    assert.deepEqual([...back.tokenizer.encode(text)], [...tokenizer.encode(text)]);
    const ref = reference('flan-t5');
    const before = new T5Model(extended.config, parametersOf(extended.config, extended.weights), { threads: 1 });
    const after = new T5Model({ ...back.config, dropoutRate: 0 }, parametersOf(back.config, back.weights), { threads: 1 });
    assert.deepEqual((await forward(after, ref.batch)).logits, (await forward(before, ref.batch)).logits);
    await before.release();
    await after.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what the engine does not support, and broken checkpoints, are UserErrors naming the file and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-hf-bad-'));
  const rejects = (pattern: RegExp) =>
    assert.throws(
      () => readHfCheckpoint(dir),
      (err: unknown) => err instanceof UserError && pattern.test(err.message),
    );
  try {
    cpSync(join(fixtures, 'mt5'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const withConfig = (changes: Record<string, unknown>) =>
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...changes }));
    withConfig({ feed_forward_proj: 'gated-silu' });
    rejects(/config\.json: feed_forward_proj "gated-silu" is not supported/);
    withConfig({ model_type: 'umt5' });
    rejects(/config\.json: model_type "umt5" is not supported/);
    withConfig({ d_kv: 0 });
    rejects(/config\.json: field 'd_kv' must be an integer >= 1/);
    withConfig({ relative_attention_max_distance: 2 });
    rejects(/config\.json: field 'relative_attention_max_distance' \(2\) must exceed/);
    withConfig({ vocab_size: 50 });
    rejects(/shards: tensor 'shared\.weight' has shape \[412, 16\], expected \[50, 16\]/);
    withConfig({ num_decoder_layers: 2 });
    rejects(/tensor 'decoder\.block\.1\.layer\.0\.SelfAttention\.q\.weight' is missing/);
    withConfig({});
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['shared.weight'] = index.weight_map['shared.weight'].includes('00001')
      ? 'model-00002-of-00002.safetensors'
      : 'model-00001-of-00002.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    rejects(/tensor 'shared\.weight' is missing \(model\.safetensors\.index\.json puts it there\)/);
    rmSync(join(dir, 'model.safetensors.index.json'));
    rejects(/no model\.safetensors or model\.safetensors\.index\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
