import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { barChartSvg } from './plot.js';
import { readAblationRuns } from '../cli/ablation-recipe.js';
import { runDdroAblation } from './ddro-ablation.js';

const dataDir = process.env.GENIR_DATA_DIR;

test('bar chart: one bar per finite value, a legend entry per series', () => {
  const svg = barChartSvg(
    ['a', 'b'],
    [
      { name: 'x', values: [0.5, 0.25], color: '#000' },
      { name: 'y', values: [Number.NaN, 1], color: '#111' },
    ],
  );
  assert.equal((svg.match(/<rect /g) ?? []).length, 1 + 3 + 2);
  assert.ok(svg.includes('x a: 0.5000') && svg.includes('y b: 1.0000') && !svg.includes('y a:'));
  assert.throws(() => barChartSvg(['a'], [{ name: 'x', values: [1, 2], color: '#000' }]), RangeError);
});

test(
  'ddro-ablation --quick on XQuAD English: every method evaluated, p-values against SFT, models reused',
  { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'genir-ablation-'));
    try {
      const options = {
        dataset: 'xquad' as const,
        docids: ['atomic' as const],
        lang: 'en',
        quick: true,
        runs: readAblationRuns(),
        dataDir,
        workDir: work,
        threads: 1,
        log: () => {},
      };
      const result = await runDdroAblation(options);
      assert.deepEqual(
        result.rows.map((r) => r.method),
        ['bm25', 'sft', 'ltrgr', 'ddro'],
      );
      for (const row of result.rows) {
        assert.equal(row.lang, 'en');
        assert.equal(row.queries, options.runs.quick.testQueries, 'the test queries of recipes/ddro-ablation.json');
        for (const m of ['R@1', 'R@5', 'R@10', 'RR@10']) assert.ok(row.metrics[m] >= 0 && row.metrics[m] <= 1, `${row.method} ${m}`);
        if (row.method === 'sft') assert.equal(row.p_t_vs_sft, null);
        else assert.ok(row.p_rand_vs_sft! > 0 && row.p_rand_vs_sft! <= 1);
      }
      // BM25 on English XQuAD is near-perfect; the quick model is not, so the difference is significant.
      assert.ok(result.rows[0].metrics['RR@10'] > 0.8);
      assert.ok(result.rows[0].p_rand_vs_sft! < 0.01);
      // LTRGR and DDRO share one BM25 triples file.
      assert.equal(result.training.atomic.ltrgr!.triples.path, result.training.atomic.ddro!.triples.path);
      const json = JSON.parse(readFileSync(join(work, 'results-xquad-quick', 'results.json'), 'utf8')) as { rows: unknown[] };
      assert.equal(json.rows.length, 4);
      assert.ok(existsSync(join(work, 'results-xquad-quick', 'rr10-by-language-atomic.svg')));
      // A second run trains nothing and gives the same table.
      const again = await runDdroAblation(options);
      assert.equal(again.training.atomic.sftSeconds, null);
      assert.deepEqual(again.rows, result.rows);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
