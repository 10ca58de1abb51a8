import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir } from '../cli/testing.js';
import { writeToySquad } from '../train/methods/sft/testdata/toy-squad.js';

test(
  'genir experiment budgeted-sft: trains within the budget, then GenIR, BM25 and hybrid on test with p-values, as the last JSON line',
  { timeout: 300_000 },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'genir-budgeted-'));
    try {
      const dataset = writeToySquad(root);
      const recipe = join(root, 'recipe.json');
      writeFileSync(
        recipe,
        JSON.stringify({
          docids: 'keywords',
          model: 'tiny',
          dModel: 16,
          dFf: 32,
          layers: 1,
          heads: 4,
          dropout: 0,
          stages: 'chunks+terms+queries*2:500',
          vocab: 330,
          lr: 0.01,
          batchSize: 8,
          evalEvery: 5,
          devQueries: 0,
          evalBeam: 6,
        }),
      );
      const result = await runGenir([
        'experiment',
        'budgeted-sft',
        '--dataset',
        dataset,
        '--minutes',
        '0.05',
        '--recipe',
        recipe,
        '--work',
        join(root, 'work'),
        '--beam',
        '6',
        '--threads',
        '1',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const last = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(last).slice(0, 6), ['dataset', 'minutes', 'genir', 'bm25', 'hybrid', 'p_hybrid_vs_bm25']);
      assert.equal(last.minutes, 0.05);
      for (const system of ['genir', 'bm25', 'hybrid']) {
        const metrics = last[system] as Record<string, number>;
        for (const m of ['RR@10', 'R@1', 'R@10']) assert.ok(metrics[m] >= 0 && metrics[m] <= 1, `${system} ${m}`);
      }
      const p = last.p_hybrid_vs_bm25 as number;
      assert.ok(p >= 0 && p <= 1);
      const trained = last.trained as { minutes: number; updates: number };
      assert.ok(trained.updates < 500 * 3, `the budget ended training early (${trained.updates} updates)`);
      assert.ok(trained.minutes >= 0.05 && trained.minutes < 1, `${trained.minutes} training minutes`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
