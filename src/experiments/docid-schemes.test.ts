import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runGenir } from '../cli/testing.js';

const dataDir = process.env.GENIR_DATA_DIR;

test(
  'genir experiment docid-schemes --quick: rq (from the dense model) and atomic beside dense and BM25; the last line is the JSON the issue asks for; models are reused',
  { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'genir-schemes-'));
    try {
      const args = [
        'experiment',
        'docid-schemes',
        '--dataset',
        'xquad',
        '--quick',
        '--minutes',
        '0.05',
        '--docids',
        'rq,atomic',
        '--work',
        work,
        '--threads',
        '1',
        '--json',
      ];
      const first = await runGenir(args, { env: { GENIR_DATA_DIR: dataDir } });
      assert.equal(first.code, 0, first.stderr);
      const summary = JSON.parse(first.stdout.trimEnd().split('\n').pop()!) as {
        rows: { docids: string; method: string; 'RR@10': number; docid_stats: Record<string, number> }[];
        dense: { 'RR@10': number };
        bm25: { 'RR@10': number };
      };
      assert.deepEqual(
        summary.rows.map((r) => [r.docids, r.method]),
        [
          ['rq', 'sft'],
          ['atomic', 'sft'],
        ],
      );
      for (const value of [...summary.rows.map((r) => r['RR@10']), summary.dense['RR@10'], summary.bm25['RR@10']])
        assert.ok(value >= 0 && value <= 1);
      assert.ok(summary.bm25['RR@10'] > 0.8, 'BM25 on English XQuAD');
      assert.ok(summary.rows[0].docid_stats.distinctFraction > 0 && summary.rows[0].docid_stats.relativeError >= 0);
      assert.match(
        first.stderr,
        /RIPOR initialisation: \d+ docid tokens from the rq centroids \(inputs, outputs\); encoder copied from the dense model/,
      );
      // A second run trains nothing.
      const second = await runGenir(args, { env: { GENIR_DATA_DIR: dataDir } });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /dense encoder: reusing/);
      assert.doesNotMatch(second.stderr, /sft: model saved/);
      assert.equal(
        second.stdout.trimEnd().split('\n').pop(),
        first.stdout
          .trimEnd()
          .split('\n')
          .pop()!
          .replace(/"seconds":[\d.]+/, second.stdout.match(/"seconds":[\d.]+/)![0]),
      );
      const bad = await runGenir(['experiment', 'docid-schemes', '--dataset', 'xquad', '--minutes', '0', '--work', work]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--minutes 0: expected a positive number/);
      // A given dense model is used as it is, for the dense row and rq's vectors.
      const denseDir = /dense encoder: reusing (\S+)/.exec(second.stderr)![1];
      const given = await runGenir([...args.map((a) => (a === 'rq,atomic' ? 'rq' : a)), '--dense-model', denseDir], {
        env: { GENIR_DATA_DIR: dataDir },
      });
      assert.equal(given.code, 0, given.stderr);
      assert.match(given.stderr, /dense encoder: \S+ \(given, not trained for the budget\)/);
      const givenSummary = JSON.parse(given.stdout.trimEnd().split('\n').pop()!) as typeof summary;
      assert.equal(givenSummary.dense['RR@10'], summary.dense['RR@10']);
      const missing = await runGenir([...args, '--dense-model', join(work, 'none')], { env: { GENIR_DATA_DIR: dataDir } });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--dense-model \S+: not a model directory/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
