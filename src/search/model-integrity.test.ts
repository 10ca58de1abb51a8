/**
 * A model directory that is tampered with, mixed with another model's files or corrupt is
 * refused by `genir search` with one line naming the file (exit code 2, no stack trace).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, type CliResult } from '../cli/testing.js';
import { buildDocids } from '../docids/build.js';
import { t5Config } from '../model/config.js';
import { MANIFEST_FILE, loadModelDirectory, saveModelDirectory, type ModelManifest } from '../retriever/directory.js';
import { T5Model } from '../model/t5.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { specFromJson } from '../text/tokenizer/spec.js';
import { UserError } from '../util/errors.js';

const corpus = [
  { id: 'd1', title: 'Alpine rivers', text: 'Rivers in the Alps carry melt water from glaciers to the lowlands.' },
  { id: 'd2', title: 'Desert plants', text: 'Cacti store water in thick stems and survive long droughts.' },
  { id: 'd3', title: 'Ocean tides', text: 'The moon pulls the oceans and makes the tides rise and fall.' },
  { id: 'd4', title: 'Volcano types', text: 'Shield volcanoes erupt runny lava while stratovolcanoes explode.' },
];

interface Shape {
  vocabSize: number;
  dModel: number;
  numLayers: number;
  numDecoderLayers: number;
}

async function writeModel(dir: string, shape: Shape): Promise<void> {
  const base = SubwordTokenizer.train(
    corpus.map((d) => `${d.title} ${d.text}`),
    { vocabSize: shape.vocabSize },
  );
  const docids = await buildDocids(corpus, { scheme: 'atomic', textVocabSize: base.subwordVocabSize, eosId: base.eosId });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'test'), docidCount: docids.layout.docidVocabSize });
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: docids.layout.docidVocabSize,
    dModel: shape.dModel,
    dKv: 4,
    numHeads: 4,
    dFf: 32,
    numLayers: shape.numLayers,
    numDecoderLayers: shape.numDecoderLayers,
    dropoutRate: 0,
  });
  const model = T5Model.create(config, 5, { threads: 1 });
  await saveModelDirectory(dir, {
    model,
    tokenizer,
    docids,
    titles: new Map(corpus.map((d) => [d.id, d.title])),
    dataset: { id: 'fixture' },
  });
}

let root: string;
/** The model every case starts from: vocabulary about 310, d_model 16, one layer each side. */
let pristine: string;
/** Same corpus, vocabulary about 410. */
let otherVocab: string;
/** Same corpus and vocabulary, d_model 24, two encoder and two decoder layers. */
let otherLayers: string;
let variants = 0;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-integrity-'));
  pristine = join(root, 'pristine');
  otherVocab = join(root, 'other-vocab');
  otherLayers = join(root, 'other-layers');
  await writeModel(pristine, { vocabSize: 310, dModel: 16, numLayers: 1, numDecoderLayers: 1 });
  await writeModel(otherVocab, { vocabSize: 410, dModel: 16, numLayers: 1, numDecoderLayers: 1 });
  await writeModel(otherLayers, { vocabSize: 310, dModel: 24, numLayers: 2, numDecoderLayers: 2 });
});

after(() => rmSync(root, { recursive: true, force: true }));

function readManifest(dir: string): ModelManifest {
  return JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
}

function writeManifest(dir: string, manifest: ModelManifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
}

/**
 * Records the current size and sha256 of `path` in the manifest, as a manifest regenerated
 * after the file was swapped would: the loader must then catch the problem by parsing.
 */
function relist(dir: string, path: string): void {
  const manifest = readManifest(dir);
  const bytes = readFileSync(join(dir, path));
  const entry = { path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const index = manifest.files.findIndex((f) => f.path === path);
  if (index < 0) manifest.files.push(entry);
  else manifest.files[index] = entry;
  writeManifest(dir, manifest);
}

/** A fresh copy of the pristine model, changed by `change`. */
function variant(change: (dir: string) => void): string {
  const dir = join(root, `variant-${++variants}`);
  cpSync(pristine, dir, { recursive: true });
  change(dir);
  return dir;
}

function search(dir: string): Promise<CliResult> {
  return runGenir(['search', '--model', dir, '--threads', '1', 'melt water']);
}

/** Exit code 2 and exactly one stderr line, `genir: error: <pattern>`, with no stack trace. */
function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit code 2 expected; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line expected, got:\n${result.stderr}`);
  assert.match(lines[0], /^genir: error: /);
  assert.match(lines[0], pattern);
  assert.equal(result.stdout, '');
}

test('a manifest path that leaves the model directory (../../../etc/passwd) is refused before anything is read', async () => {
  const escaping = variant((dir) => {
    const manifest = readManifest(dir);
    const passwd = readFileSync('/etc/passwd');
    // Size and checksum are right, so only the path check can stop it.
    manifest.files.push({ path: '../../../etc/passwd', bytes: passwd.length, sha256: createHash('sha256').update(passwd).digest('hex') });
    writeManifest(dir, manifest);
  });
  assertOneLineError(await search(escaping), /manifest\.json: file path '\.\.\/\.\.\/\.\.\/etc\/passwd' lies outside the model directory/);

  const absolute = variant((dir) => {
    const manifest = readManifest(dir);
    manifest.files.push({ path: '/etc/hostname', bytes: 1, sha256: '0'.repeat(64) });
    writeManifest(dir, manifest);
  });
  assertOneLineError(await search(absolute), /manifest\.json: file path '\/etc\/hostname' lies outside the model directory/);

  const onnxOutside = variant((dir) => {
    const manifest = readManifest(dir);
    const foreign = readManifest(otherVocab).files.find((f) => f.path === 'onnx/encoder.onnx')!;
    manifest.onnx = { encoder: '../other-vocab/onnx/encoder.onnx', decoderStep: 'onnx/decoder_step.onnx' };
    manifest.files.push({ ...foreign, path: '../other-vocab/onnx/encoder.onnx' });
    writeManifest(dir, manifest);
  });
  assertOneLineError(
    await search(onnxOutside),
    /manifest\.json: onnx\.encoder path '\.\.\/other-vocab\/onnx\/encoder\.onnx' lies outside the model directory/,
  );
});

test('a listed file that is a symbolic link out of the model directory is refused; a link inside it is fine', async () => {
  const outside = join(root, 'outside');
  mkdirSync(outside, { recursive: true });
  const linkedOut = variant((dir) => {
    cpSync(join(dir, 'tokenizer.json'), join(outside, 'tokenizer.json'));
    rmSync(join(dir, 'tokenizer.json'));
    symlinkSync(join(outside, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  });
  assertOneLineError(
    await search(linkedOut),
    /tokenizer\.json: a symbolic link to .*outside\/tokenizer\.json, outside the model directory/,
  );

  const linkedIn = variant((dir) => {
    cpSync(join(dir, 'docs.jsonl'), join(dir, 'docs-copy.jsonl'));
    rmSync(join(dir, 'docs.jsonl'));
    symlinkSync('docs-copy.jsonl', join(dir, 'docs.jsonl'));
  });
  const ok = await search(linkedIn);
  assert.equal(ok.code, 0, ok.stderr);
});

test("another model's ONNX graph (vocabulary, d_model, layer count) is refused, naming the file and the mismatch", async () => {
  const vocab = variant((dir) => {
    cpSync(join(otherVocab, 'onnx', 'decoder_step.onnx'), join(dir, 'onnx', 'decoder_step.onnx'));
    relist(dir, 'onnx/decoder_step.onnx');
  });
  const pristineVocab = readManifest(pristine).model.vocabSize;
  const foreignVocab = readManifest(otherVocab).model.vocabSize;
  assert.notEqual(pristineVocab, foreignVocab);
  assertOneLineError(
    await search(vocab),
    new RegExp(
      // The step returns asked-for columns, so the vocabulary shows in the embedding's shape.
      `onnx/decoder_step\\.onnx: does not match config\\.json: weight shared\\.weight is \\[${foreignVocab}, \\d+\\], the config needs \\[${pristineVocab}, \\d+\\]; the graph was exported for another model`,
    ),
  );

  const layers = variant((dir) => {
    cpSync(join(otherLayers, 'onnx', 'encoder.onnx'), join(dir, 'onnx', 'encoder.onnx'));
    relist(dir, 'onnx/encoder.onnx');
  });
  assertOneLineError(
    await search(layers),
    /onnx\/encoder\.onnx: does not match config\.json: .*; the graph was exported for another model/,
  );
});

test('a truncated ONNX graph is one line naming it, whether or not the manifest was updated', async () => {
  const relisted = variant((dir) => {
    const path = join(dir, 'onnx', 'encoder.onnx');
    writeFileSync(path, readFileSync(path).subarray(0, 5000));
    relist(dir, 'onnx/encoder.onnx');
  });
  assertOneLineError(await search(relisted), /onnx\/encoder\.onnx: not a readable ONNX model \(truncated or corrupt/);

  const stale = variant((dir) => {
    const path = join(dir, 'onnx', 'decoder_step.onnx');
    writeFileSync(path, readFileSync(path).subarray(0, 5000));
  });
  assertOneLineError(
    await search(stale),
    /onnx\/decoder_step\.onnx: 5000 bytes, but manifest\.json records \d+; the file is truncated or was changed/,
  );

  const unlisted = variant((dir) => {
    const manifest = readManifest(dir);
    manifest.files = manifest.files.filter((f) => f.path !== 'onnx/encoder.onnx');
    writeManifest(dir, manifest);
  });
  assertOneLineError(await search(unlisted), /manifest\.json: onnx\.encoder 'onnx\/encoder\.onnx' is not in the file list/);
});

test('corrupt or truncated weights, tokenizer, docids or titles are one line naming the file', async () => {
  const cases: [string, (bytes: Buffer) => Uint8Array | string, RegExp][] = [
    ['model.safetensors', (bytes) => bytes.subarray(0, bytes.length >> 1), /model\.safetensors: not a valid safetensors file/],
    ['model.safetensors', () => new Uint8Array(64).fill(0xff), /model\.safetensors: not a valid safetensors file/],
    ['tokenizer.json', (bytes) => bytes.subarray(0, bytes.length >> 1), /tokenizer\.json: not valid JSON/],
    ['tokenizer.json', () => '{"model": 3}', /tokenizer\.json: model: missing/],
    ['docids.bin', (bytes) => bytes.subarray(0, bytes.length >> 1), /docids\.bin: corrupt docid file/],
    ['docids.bin', () => 'not a docid table', /docids\.bin: not a genir docid file/],
    ['docs.jsonl', () => 'null\n', /docs\.jsonl:1: expected \{"id": string, "title": string\}/],
    ['docs.jsonl', (bytes) => bytes.subarray(0, 30), /docs\.jsonl:1: not valid JSON/],
    ['config.json', () => '[]', /config\.json: config is not a JSON object/],
  ];
  const dirs = cases.map(([path, corrupt]) =>
    variant((dir) => {
      writeFileSync(join(dir, path), corrupt(readFileSync(join(dir, path))));
      relist(dir, path);
    }),
  );
  const results = await Promise.all(dirs.map((dir) => search(dir)));
  results.forEach((result, i) => assertOneLineError(result, cases[i][2]));
});

test('a manifest whose model sizes disagree with config.json is refused', async () => {
  const dir = variant((d) => {
    const manifest = readManifest(d);
    manifest.model.dModel = 32;
    writeManifest(d, manifest);
  });
  await assert.rejects(loadModelDirectory(dir, { threads: 1 }), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /manifest\.json: records d_model 32, but config\.json has 16/);
    return true;
  });
});
