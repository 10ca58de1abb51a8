import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, trainSftArgs } from '../cli/testing.js';
import { toyTrainingFlags, writeToySquad } from '../train/methods/sft/testdata/toy-squad.js';

test(
  'genir experiment rank-control: DDRO, LTRGR and the control run exactly --updates from one SFT model per seed, with paired tests and spread',
  { timeout: 300_000 },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'genir-rank-control-'));
    try {
      const dataset = writeToySquad(root);
      const sft = join(root, 'sft');
      const trained = await runGenir(
        trainSftArgs(dataset, 'atomic', sft, [
          '--lexical-init',
          'bm25',
          '--stages',
          'pseudo+queries:2',
          ...toyTrainingFlags(join(root, 'cache')),
        ]),
      );
      assert.equal(trained.code, 0, trained.stderr);
      const report = JSON.parse(readFileSync(join(sft, 'report.json'), 'utf8')) as { docids: { lexicalInit?: { init: string } } };
      assert.equal(report.docids.lexicalInit?.init, 'bm25');
      const result = await runGenir([
        'experiment',
        'rank-control',
        '--from',
        sft,
        '--dataset',
        dataset,
        '--updates',
        '3',
        '--seeds',
        '0,1',
        '--lr',
        '1e-3',
        '--dev-queries',
        '10',
        '--beam',
        '5',
        '--work',
        join(root, 'work'),
        '--threads',
        '1',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const last = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as {
        updates: number;
        seeds: number[];
        training: { method: string; seed: number; updates: number; chosenUpdate: number | null; keptSft: boolean }[];
        rows: {
          system: string;
          seed: number | null;
          metrics: Record<string, number>;
          p_vs_sft: number | null;
          p_vs_control: number | null;
        }[];
        summary: Record<string, { rr10_mean: number; rr10_sd: number; per_seed: number[] }>;
      };
      assert.equal(last.updates, 3);
      assert.deepEqual(last.seeds, [0, 1]);
      assert.deepEqual(
        last.training.map((t) => `${t.method}/${t.seed}/${t.updates}`),
        ['ddro/0/3', 'ltrgr/0/3', 'control/0/3', 'ddro/1/3', 'ltrgr/1/3', 'control/1/3'],
      );
      for (const t of last.training) assert.equal(t.keptSft, t.chosenUpdate === 0);
      const systems = new Set(last.rows.map((r) => r.system));
      for (const s of ['bm25', 'sft', 'hybrid (sft + bm25, RRF)', 'ddro', 'ltrgr', 'control']) assert.ok(systems.has(s), s);
      for (const row of last.rows.filter((r) => r.system === 'ddro' || r.system === 'ltrgr')) {
        assert.ok(row.p_vs_sft !== null && row.p_vs_control !== null, `${row.system} seed ${row.seed} has both tests`);
      }
      for (const method of ['ddro', 'ltrgr', 'control']) {
        const summary = last.summary[method];
        assert.equal(summary.per_seed.length, 2);
        assert.ok(summary.rr10_sd >= 0);
      }
      assert.match(result.stdout, /chosen update/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
