/**
 * `genir import hf`, `genir export hf` and `genir train sft --init` through the real CLI
 * process, on the committed tiny HF checkpoints (src/model/testdata/hf-t5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withToySquad } from '../../train/methods/sft/testdata/toy-squad.js';
import { runGenir } from '../testing.js';

const fixtures = join(fileURLToPath(new URL('../../model/testdata/hf-t5', import.meta.url)));

function lastJson<T>(stdout: string): T {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

function assertOneLineError(result: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

interface ImportSummary {
  feed_forward: string;
  tied_head: boolean;
  parameters: number;
  text_vocab: number;
  tokenizer: string;
  stored_dtypes: string[];
  docid_rows: number;
}

test('genir import hf: prints parameters, vocabulary and docid rows, writes a directory it imports again; user errors are one line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-import-cli-'));
  try {
    const out = join(root, 'mt5');
    const first = await runGenir(['import', 'hf', join(fixtures, 'mt5'), '--out', out, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /gated-gelu feed-forward, untied lm_head, d_model 16, 3\+1 layers, 2 heads of 6/);
    assert.match(first.stdout, /weights model-00001-of-00002\.safetensors, model-00002-of-00002\.safetensors, stored as BF16, now float32/);
    assert.match(first.stdout, /tokenizer: spiece\.model \(unigram\), text vocabulary 412: 300 pieces, 100 sentinels, 12 unused rows/);
    assert.match(first.stdout, /docid rows: 0 \(genir train sft --init .* adds one embedding and lm_head row per docid token\)/);
    const summary = lastJson<ImportSummary>(first.stdout);
    assert.deepEqual([summary.feed_forward, summary.tied_head, summary.text_vocab, summary.docid_rows], ['gated-gelu', false, 412, 0]);
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
      assert.ok(existsSync(join(out, file)), file);

    const again = await runGenir(['import', 'hf', out, '--out', join(root, 'again'), '--json']);
    assert.equal(again.code, 0, again.stderr);
    const second = lastJson<ImportSummary>(again.stdout);
    assert.equal(second.parameters, summary.parameters);
    assert.equal(second.tokenizer, 'tokenizer.json (unigram)');
    assert.deepEqual(second.stored_dtypes, ['F32']);

    assertOneLineError(
      await runGenir(['import', 'hf', join(root, 'nowhere'), '--out', join(root, 'x')]),
      /nowhere: model directory not found/,
    );
    assertOneLineError(
      await runGenir(['import', 'hf', join(fixtures, 'mt5'), '--out', out]),
      /--out .*mt5: exists and is not empty; pass --overwrite/,
    );
    const bad = join(root, 'bad');
    cpSync(join(fixtures, 't5-v1_0'), bad, { recursive: true });
    const config = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, feed_forward_proj: 'gelu' }));
    assertOneLineError(
      await runGenir(['import', 'hf', bad, '--out', join(root, 'y')]),
      /config\.json: feed_forward_proj "gelu" is not supported/,
    );
    assert.ok(!existsSync(join(root, 'y')), 'nothing is written for a checkpoint that cannot be imported');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train sft --init trains from an imported checkpoint on the toy corpus; export hf → import hf keeps the docid rows', async () => {
  await withToySquad('genir-init-cli-', async (root, dataset) => {
    const imported = join(root, 'flan');
    assert.equal((await runGenir(['import', 'hf', join(fixtures, 'flan-t5'), '--out', imported])).code, 0);
    const model = join(root, 'model');
    const common = [
      'train',
      'sft',
      '--dataset',
      dataset,
      '--docids',
      'atomic',
      '--stages',
      'chunks+pseudo:2,queries:3',
      '--pseudo',
      'spans',
      '--dropout',
      '0',
      '--batch-size',
      '8',
      '--lr',
      '1e-2',
      '--threads',
      '1',
      '--no-onnx',
      '--cache-dir',
      join(root, 'cache'),
    ];
    const trained = await runGenir([...common, '--init', imported, '--out', model, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stderr, /sft: initialised from .*flan \(gated-gelu, untied head\); docid rows added: 6/);
    const summary = lastJson<{ model: string; parameters: number; stages: { name: string; final_loss: number }[] }>(trained.stdout);
    assert.equal(summary.model, 'hf:flan');
    assert.ok(summary.stages.every((s) => Number.isFinite(s.final_loss)));
    const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as {
      docids: { textVocabSize: number; docidVocabSize: number };
    };
    assert.deepEqual(manifest.docids, { ...manifest.docids, textVocabSize: 408, docidVocabSize: 6 });

    const search = await runGenir(['search', '--model', model, '--threads', '1', '--json', 'what is a glacier']);
    assert.equal(search.code, 0, search.stderr);
    assert.equal(lastJson<{ results: unknown[] }>(search.stdout).results.length, 6);

    const exported = join(root, 'exported');
    const exportRun = await runGenir(['export', 'hf', '--model', model, '--out', exported]);
    assert.equal(exportRun.code, 0, exportRun.stderr);
    assert.match(exportRun.stdout, /414 rows \(408 text, 6 docid tokens\)/);
    const back = await runGenir(['import', 'hf', exported, '--out', join(root, 'back'), '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(lastJson<ImportSummary>(back.stdout).docid_rows, 6);

    mkdirSync(join(root, 'other'));
    assertOneLineError(
      await runGenir([...common, '--init', imported, '--model', 'tiny', '--out', join(root, 'other', 'm')]),
      /--init .*: the checkpoint sets the model; drop --model tiny/,
    );
    assertOneLineError(
      await runGenir([...common, '--init', imported, '--d-model', '32', '--out', join(root, 'other', 'm')]),
      /--init .*: a pre-trained model keeps its shape; drop dModel, dKv/,
    );
    // `base` is the shape of imported checkpoints, not a preset trained from scratch here.
    assertOneLineError(
      await runGenir([...common, '--model', 'base', '--out', join(root, 'other', 'm')]),
      /--model base: expected tiny, mini, medium, small/,
    );
  });
});
