import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGenir } from './testing.js';

const skip = process.env.GENIR_DATA_DIR ? false : 'GENIR_DATA_DIR is not set';

test('genir bm25 --dataset xquad/de/en is the run of --dataset xquad --lang de --corpus-lang en', { skip }, async () => {
  const fromPath = await runGenir(['bm25', '--dataset', 'xquad/de/en', '--json', '--threads', '1']);
  assert.equal(fromPath.code, 0, fromPath.stderr);
  const metrics = (JSON.parse(fromPath.stdout.trimEnd().split('\n').pop()!) as { metrics: Record<string, number> }).metrics;
  // regressions/bm25.json, bm25-xquad-de-en.
  assert.deepEqual(
    [metrics['nDCG@10'].toFixed(4), metrics['RR@10'].toFixed(4), metrics['R@100'].toFixed(4)],
    ['0.4355', '0.4017', '0.6509'],
  );
});

test('genir datasets info xquad/de and an id path that contradicts --lang', { skip }, async () => {
  const info = await runGenir(['datasets', 'info', 'xquad/de', '--json']);
  assert.equal(info.code, 0, info.stderr);
  assert.deepEqual((({ lang, corpusLang }) => ({ lang, corpusLang }))(JSON.parse(info.stdout) as { lang: string; corpusLang: string }), {
    lang: 'de',
    corpusLang: 'de',
  });
  const clash = await runGenir(['bm25', '--dataset', 'xquad/de', '--lang', 'fr']);
  assert.deepEqual(clash, {
    code: 2,
    stdout: '',
    stderr: "genir: error: dataset 'xquad/de' and --lang fr disagree; give the value once\n",
  });
});
