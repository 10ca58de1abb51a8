import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bm25Index } from '../../bm25/bm25-index.js';
import { UserError } from '../../util/errors.js';
import { main } from '../program.js';
import { defaultAnalyzerFor, runBm25 } from './bm25.js';

const dataDir = process.env.GENIR_DATA_DIR;

test('the default analyzer follows the languages of queries and corpus', () => {
  assert.equal(defaultAnalyzerFor({}), 'english');
  assert.equal(defaultAnalyzerFor({ lang: 'en', corpusLang: 'en' }), 'english');
  assert.equal(defaultAnalyzerFor({ lang: 'de', corpusLang: 'en' }), 'multilingual');
  assert.equal(defaultAnalyzerFor({ lang: 'en', corpusLang: 'all' }), 'multilingual');
});

test(
  'genir bm25 --json on cranfield: last line is the report; run and index files are written',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genir-bm25-cli-'));
    try {
      const runPath = join(dir, 'run.trec');
      const indexPath = join(dir, 'cranfield.bm25');
      let stdout = '';
      const options = {
        dataset: 'cranfield',
        dataDir,
        k1: '0.9',
        b: '0.4',
        fields: 'flat',
        topK: '100',
        runOut: runPath,
        indexOut: indexPath,
        json: true,
      };
      await runBm25(options, (text) => (stdout += text));
      const lines = stdout.trimEnd().split('\n');
      const report = JSON.parse(lines[lines.length - 1]) as Record<string, unknown> & { metrics: Record<string, number> };
      assert.deepEqual(Object.keys(report), ['dataset', 'split', 'docs', 'queries', 'metrics', 'index_ms', 'search_qps']);
      assert.deepEqual(Object.keys(report.metrics), ['nDCG@10', 'RR@10', 'R@1', 'R@5', 'R@10', 'R@100', 'R@1000']);
      assert.equal(report.docs, 1400);
      assert.equal(report.queries, 225);
      // Lucene-style BM25 on Cranfield reaches nDCG@10 of about 0.35 with graded gains.
      assert.ok(report.metrics['nDCG@10'] > 0.3 && report.metrics['nDCG@10'] < 0.45, String(report.metrics['nDCG@10']));
      const runLines = readFileSync(runPath, 'utf8').trimEnd().split('\n');
      assert.equal(runLines.length, 225 * 100);
      assert.match(runLines[0], /^\S+ Q0 \S+ 1 [0-9.]+ genir-bm25$/);
      assert.ok(existsSync(indexPath));
      assert.equal((await Bm25Index.load(indexPath)).documentCount, 1400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('bad options are user errors (exit code 2)', async () => {
  // main() prints the message on stderr and returns the exit code.
  assert.equal(await main(['node', 'genir', 'bm25', '--dataset', 'scifact', '--k1', 'fast']), 2);
  assert.equal(await main(['node', 'genir', 'bm25', '--dataset', 'scifact', '--fields', 'nested']), 2);
  assert.equal(await main(['node', 'genir', 'bm25', '--dataset', 'scifact', '--analyzer', 'klingon']), 2);
  const base = { dataset: 'scifact', k1: '0.9', b: '2', fields: 'flat', topK: '10' };
  await assert.rejects(
    runBm25(base, () => undefined),
    (err: unknown) => err instanceof UserError && /--b 2/.test(err.message),
  );
});
