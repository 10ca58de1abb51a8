/** `--device` on the commands that run a model, through the real CLI process (CPU-only machines). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeToySquad } from '../../train/methods/sft/testdata/toy-squad.js';
import { runGenir, trainSftArgs } from '../testing.js';

const ortRoot = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
const hasCuda = existsSync(join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));

test(
  'genir train sft / search / eval --device cuda without the CUDA binaries: one line, exit 2, nothing written',
  { skip: hasCuda ? 'this install has the CUDA provider' : false },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'genir-device-'));
    try {
      const dataset = writeToySquad(root);
      const out = join(root, 'model');
      const runs = [
        await runGenir(trainSftArgs(dataset, 'atomic', out, ['--device', 'cuda'])),
        await runGenir(['search', '--model', out, '--device', 'cuda', 'a query']),
        await runGenir(['eval', '--model', out, '--dataset', dataset, '--device', 'cuda']),
      ];
      for (const result of runs) {
        assert.equal(result.code, 2, result.stderr);
        assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
        assert.match(
          result.stderr,
          /^genir: error: --device cuda: onnxruntime-node has no CUDA provider .*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false/,
        );
      }
      assert.ok(!existsSync(out) && !existsSync(`${out}.training`), 'nothing is written');
      const unknown = await runGenir(['search', '--model', out, '--device', 'tpu', 'q']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /--device tpu: expected cpu or cuda/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
