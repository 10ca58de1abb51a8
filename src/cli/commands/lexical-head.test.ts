import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {} from 'node:os';
import { join } from 'node:path';
import { toyTrainingFlags, withToySquad } from '../../train/methods/sft/testdata/toy-squad.js';
import { readSafetensors } from '../../model/safetensors.js';
import { runGenir, trainSftArgs } from '../testing.js';

test('genir train sft --lexical-head: the model saves its head, searches, evaluates, and export hf refuses it in one line', async () => {
  await withToySquad('genir-lexical-cli-', async (root, dataset) => {
    const out = join(root, 'model');
    const trained = await runGenir(
      trainSftArgs(dataset, 'atomic', out, [
        '--lexical-head',
        '--stages',
        'chunks+pseudo+queries:4',
        ...toyTrainingFlags(join(root, 'cache')),
      ]),
    );
    assert.equal(trained.code, 0, trained.stderr);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      genir_lexical_head?: boolean;
      genir_lexical_head_scale?: number;
      genir_docid_vocab_size: number;
      vocab_size: number;
    };
    assert.equal(config.genir_lexical_head, true);
    assert.equal(config.genir_lexical_head_scale, 10);
    const head = readSafetensors(join(out, 'model.safetensors')).tensors.get('lexical_head.weight');
    assert.ok(head !== undefined, 'lexical_head.weight is saved');
    assert.deepEqual(head.shape, [config.vocab_size - config.genir_docid_vocab_size, config.genir_docid_vocab_size]);
    assert.ok(
      (head.data as Float32Array).some((v) => v !== 0),
      'the head was trained (it starts at 0)',
    );

    const searched = await runGenir(['search', '--model', out, 'toy question', '--k', '3', '--threads', '1', '--json']);
    assert.equal(searched.code, 0, searched.stderr);
    assert.ok(searched.stdout.trim().length > 0);
    const evaluated = await runGenir([
      'eval',
      '--model',
      out,
      '--dataset',
      dataset,
      '--beam',
      '4',
      '--k',
      '4',
      '--metrics',
      'RR@10,R@1',
      '--threads',
      '1',
      '--json',
    ]);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout.trimEnd().split('\n').pop()!) as { queries: number; metrics: Record<string, number> };
    assert.ok(report.queries > 0);
    assert.ok(report.metrics['RR@10'] >= 0 && report.metrics['RR@10'] <= 1);

    const exported = join(root, 'hf');
    const refused = await runGenir(['export', 'hf', '--model', out, '--out', exported]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /^genir: error: --model .*: has a lexical head .*cannot be exported/);
    assert.ok(!existsSync(exported), 'nothing is written');
  });
});
