import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelCheckpoint, saveModelCheckpoint } from './checkpoint.js';
import { parameterCount, t5Config, t5ParameterSpecs } from './config.js';
import { writeSafetensors, type TensorInput } from './safetensors.js';
import { UserError } from '../util/errors.js';

const tiny = t5Config('tiny', { vocabSize: 50, docidVocabSize: 6, numLayers: 1, numDecoderLayers: 1 });

function randomWeights(): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  let x = 1;
  for (const spec of t5ParameterSpecs(tiny)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 48271) % 2147483647) / 2147483647 - 0.5;
    weights.set(spec.name, data);
  }
  return weights;
}

test('parameter specs use HF T5 names and shapes; small has the expected size', () => {
  const names = t5ParameterSpecs(tiny).map((s) => s.name);
  assert.deepEqual(names.slice(0, 3), [
    'shared.weight',
    'encoder.block.0.layer.0.SelfAttention.q.weight',
    'encoder.block.0.layer.0.SelfAttention.k.weight',
  ]);
  assert.ok(names.includes('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'));
  assert.ok(names.includes('decoder.block.0.layer.1.EncDecAttention.o.weight'));
  assert.ok(names.includes('decoder.block.0.layer.2.DenseReluDense.wi_1.weight'));
  assert.equal(names.at(-1), 'lm_head.weight');
  const specs = new Map(t5ParameterSpecs(tiny).map((s) => [s.name, s.shape]));
  assert.deepEqual(specs.get('shared.weight'), [56, 64]);
  assert.deepEqual(specs.get('encoder.block.0.layer.1.DenseReluDense.wo.weight'), [64, 256]);
  // small, vocab 8000: embedding + head 2*8000*256, 4 encoder blocks of 4*256^2 + 3*256*1024 + 2*256,
  // 4 decoder blocks of 8*256^2 + 3*256*1024 + 3*256, two 32x4 position tables, two final norms.
  const expected = 2 * 8000 * 256 + 4 * (4 * 65536 + 3 * 262144 + 512) + 4 * (8 * 65536 + 3 * 262144 + 768) + 2 * 128 + 2 * 256;
  assert.equal(parameterCount(t5Config('small')), expected);
  assert.equal(expected, 13539072); // the parameter count bench/torch_train.py reports for the same model
});

test('checkpoint: save then load gives identical weights and config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-ckpt-'));
  try {
    const weights = randomWeights();
    await saveModelCheckpoint(dir, tiny, weights);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.vocab_size, 56);
    assert.equal(config.genir_docid_vocab_size, 6);
    assert.equal(config.feed_forward_proj, 'gated-gelu');
    const loaded = loadModelCheckpoint(dir, tiny);
    assert.deepEqual(loaded.config, tiny);
    assert.equal(loaded.weights.size, weights.size);
    for (const [name, data] of weights) assert.deepEqual(loaded.weights.get(name), data, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint: wrong shape, dtype, missing or extra tensors fail naming file and tensor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-ckpt-'));
  const file = join(dir, 'model.safetensors');
  const isUserError = (pattern: RegExp) => (err: unknown) => err instanceof UserError && pattern.test(err.message);
  try {
    await saveModelCheckpoint(dir, tiny, randomWeights());
    const rewrite = async (edit: (tensors: Map<string, TensorInput>) => void) => {
      const tensors = new Map<string, TensorInput>();
      for (const spec of t5ParameterSpecs(tiny))
        tensors.set(spec.name, { shape: spec.shape, data: new Float32Array(spec.shape.reduce((a, b) => a * b, 1)) });
      edit(tensors);
      await writeSafetensors(file, tensors);
    };
    await rewrite((t) => t.set('encoder.final_layer_norm.weight', { shape: [32], data: new Float32Array(32) }));
    assert.throws(
      () => loadModelCheckpoint(dir),
      isUserError(/model\.safetensors: tensor 'encoder\.final_layer_norm\.weight' has shape \[32\], expected \[64\]/),
    );
    await rewrite((t) => t.set('lm_head.weight', { shape: [56, 64], data: new Float64Array(56 * 64) }));
    assert.throws(() => loadModelCheckpoint(dir), isUserError(/tensor 'lm_head\.weight' has dtype F64, expected F32/));
    await rewrite((t) => t.delete('decoder.block.0.layer.1.EncDecAttention.k.weight'));
    assert.throws(
      () => loadModelCheckpoint(dir),
      isUserError(/tensor 'decoder\.block\.0\.layer\.1\.EncDecAttention\.k\.weight' is missing/),
    );
    await rewrite((t) => t.set('encoder.block.7.extra', { shape: [1], data: new Float32Array(1) }));
    assert.throws(() => loadModelCheckpoint(dir), isUserError(/unexpected tensor 'encoder\.block\.7\.extra'/));
    await rewrite((t) => t.set('encoder.embed_tokens.weight', { shape: [56, 64], data: new Float32Array(56 * 64) }));
    assert.equal(loadModelCheckpoint(dir).weights.has('encoder.embed_tokens.weight'), false);
    assert.throws(
      () => loadModelCheckpoint(dir, { ...tiny, dModel: 32 }),
      isUserError(/config\.json: dModel is 64, but the model expects 32/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
