import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyDataset, writeTinyModel } from '../cli/testdata/tiny-model.js';
import { GenirWorkers } from './genir-workers.js';

test('search workers that cannot open the model: start rejects with the reason and stops every worker', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-workers-'));
  try {
    const model = await writeTinyModel(join(root, 'model'), { id: writeTinyDataset(join(root, 'data')) });
    // A model directory broken after the main thread checked it: the workers' own load fails.
    writeFileSync(join(model, 'docids.bin'), 'not a docid table');
    await assert.rejects(GenirWorkers.start(2, { model, threads: 1 }), (err: Error) => {
      assert.match(err.message, /docids\.bin/);
      return true;
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
