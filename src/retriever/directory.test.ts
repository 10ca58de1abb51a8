import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../engine/index.js';
import { UserError } from '../util/errors.js';
import { microAtomicModel } from './testdata/micro-model.js';
import {
  MANIFEST_FILE,
  MODEL_DIRECTORY_FORMAT_VERSION,
  genirVersion,
  loadModelDirectory,
  saveModelDirectory,
  type ModelDirectoryContents,
} from './directory.js';

const corpus = [
  { id: 'a', title: 'Apples', text: 'Apples grow on trees in orchards.' },
  { id: 'b', title: 'Rivers', text: 'Rivers flow from mountains to the sea.' },
  { id: 'c', title: 'Stars', text: 'Stars shine at night far away.' },
];

async function contents(): Promise<ModelDirectoryContents> {
  const texts = corpus.map((d) => `${d.title} ${d.text}`);
  const { model, tokenizer, docids } = await microAtomicModel(corpus, texts, { vocabSize: 320, seed: 7 });
  const titles = new Map(corpus.map((d) => [d.id, d.title]));
  return {
    model,
    tokenizer,
    docids,
    titles,
    dataset: { id: 'toy' },
    extraFiles: [{ path: 'report/report.json', data: '{"ok":true}\n' }],
    extra: { note: 'test' },
  };
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'genir-modeldir-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function rejectsUserError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a model directory round-trips weights, tokenizer, docids, titles and manifest; its ONNX encoder matches the model', async () => {
  await withTempDir(async (root) => {
    const saved = await contents();
    const dir = join(root, 'model');
    const manifest = await saveModelDirectory(dir, saved);
    assert.deepEqual(readdirSync(root), ['model'], 'no staging directory is left behind');
    assert.equal(manifest.formatVersion, MODEL_DIRECTORY_FORMAT_VERSION);
    assert.equal(manifest.genirVersion, genirVersion());
    assert.match(manifest.genirVersion, /^\d+\.\d+\.\d+/);
    assert.deepEqual(manifest.files.map((f) => f.path).sort(), [
      'config.json',
      'docids.bin',
      'docs.jsonl',
      'model.safetensors',
      'onnx/decoder_step.onnx',
      'onnx/encoder.onnx',
      'report/report.json',
      'tokenizer.json',
    ]);
    for (const file of manifest.files) assert.equal(readFileSync(join(dir, file.path)).length, file.bytes, file.path);

    const loaded = await loadModelDirectory(dir, { threads: 1 });
    assert.equal(loaded.manifest.docids.scheme, 'atomic');
    assert.deepEqual(loaded.manifest.extra, { note: 'test' });
    assert.deepEqual(loaded.model.config, saved.model.config);
    for (let i = 0; i < saved.model.parameters.length; i++)
      assert.deepEqual(loaded.model.parameters[i].data, saved.model.parameters[i].data);
    assert.deepEqual([...loaded.tokenizer.encode('Rivers shine <docid_2>')], [...saved.tokenizer.encode('Rivers shine <docid_2>')]);
    assert.equal(loaded.tokenizer.vocabSize, saved.tokenizer.vocabSize);
    assert.deepEqual(loaded.docids.keys, ['a', 'b', 'c']);
    assert.deepEqual([...loaded.docids.tokens], [...saved.docids.tokens]);
    assert.deepEqual(
      [...loaded.docs],
      [
        ['a', 'Apples'],
        ['b', 'Rivers'],
        ['c', 'Stars'],
      ],
    );

    // The exported encoder (weights as initializers) computes what the model's own session does.
    const ids = BigInt64Array.from([5n, 9n, 1n]);
    const mask = Float32Array.from([1, 1, 1]);
    const expected = await loaded.model.encode(ids, mask, 1, 3);
    const session = await Session.create(readFileSync(loaded.onnx!.encoder), { threads: 1 });
    const { relativePositionBuckets } = await import('../model/t5.js');
    const config = loaded.model.config;
    const result = await session.run({
      input_ids: { data: ids, dims: [1, 3] },
      attention_mask: { data: mask, dims: [1, 3] },
      encoder_position_buckets: {
        data: relativePositionBuckets(3, 3, true, config.relativeAttentionNumBuckets, config.relativeAttentionMaxDistance),
        dims: [3, 3],
      },
    });
    const got = result['cross_k.0'].data as Float32Array;
    const want = expected.crossKeys[0].data as Float32Array;
    assert.equal(got.length, want.length);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `cross_k.0[${i}]: ${got[i]} vs ${want[i]}`);
    await session.release();
    await loaded.model.release();
  });
});

test('saving replaces an existing model directory but refuses to overwrite other folders', async () => {
  await withTempDir(async (root) => {
    const dir = join(root, 'model');
    await saveModelDirectory(dir, await contents());
    const second = await contents();
    second.dataset = { id: 'second' };
    await saveModelDirectory(dir, second);
    assert.deepEqual(readdirSync(root), ['model']);
    assert.deepEqual((await loadModelDirectory(dir)).manifest.dataset, { id: 'second' });

    const other = join(root, 'notes');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    await rejectsUserError(saveModelDirectory(other, await contents()), /notes: exists and is not a genir model directory/);
    assert.equal(readFileSync(join(other, 'keep.txt'), 'utf8'), 'mine');
  });
});

test('a missing, truncated or corrupt file, or another format version, fails with a UserError naming the file', async () => {
  await withTempDir(async (root) => {
    const dir = join(root, 'model');
    await saveModelDirectory(dir, await contents());
    const listed = (JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path);
    const pristine = new Map(listed.map((p) => [p, readFileSync(join(dir, p))]));
    const restore = () => {
      for (const [p, bytes] of pristine) writeFileSync(join(dir, p), bytes);
    };

    rmSync(join(dir, 'docids.bin'));
    await rejectsUserError(loadModelDirectory(dir), /docids\.bin: missing from the model directory/);
    restore();

    const weights = readFileSync(join(dir, 'model.safetensors'));
    weights[weights.length - 3] ^= 0xff;
    writeFileSync(join(dir, 'model.safetensors'), weights);
    await rejectsUserError(loadModelDirectory(dir), /model\.safetensors: checksum does not match/);
    restore();

    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(dir, 'tokenizer.json')).subarray(0, 100));
    await rejectsUserError(loadModelDirectory(dir), /tokenizer\.json: 100 bytes, but manifest\.json records \d+/);
    restore();

    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, formatVersion: MODEL_DIRECTORY_FORMAT_VERSION + 1 }));
    await rejectsUserError(loadModelDirectory(dir), /manifest\.json: model directory format version 2 .* reads version 1/);
    rmSync(join(dir, MANIFEST_FILE));
    await rejectsUserError(loadModelDirectory(dir), /manifest\.json: missing/);
    await rejectsUserError(loadModelDirectory(join(root, 'nowhere')), /nowhere: model directory not found/);
    assert.ok(existsSync(join(dir, 'config.json')));
  });
});
