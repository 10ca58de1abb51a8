/**
 * `--quantize int8` through the real CLI: `genir search`, `genir serve` and `genir eval --model`
 * over the tiny test model search with int8 inference graphs built from its weights, scoring the
 * documents close to the float32 graphs; a bad value, or the option where it means nothing, is one
 * line and exit code 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, serveGenir, type CliResult } from '../testing.js';
import { TINY_QUERIES, writeTinyDataset, writeTinyModel } from '../testdata/tiny-model.js';
import { readRun } from '../../data/trec.js';
import type { SearchReport } from './search.js';

let root: string;
let data: string;
let model: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-quantize-cli-'));
  data = writeTinyDataset(join(root, 'data'));
  model = await writeTinyModel(join(root, 'model'), { id: data });
});

after(() => rmSync(root, { recursive: true, force: true }));

function lastJson<T>(result: CliResult): T {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as T;
}

/** Largest score difference of a document both reports rank; every document of one is in the other (k = the corpus). */
function scoreDifference(a: SearchReport, b: SearchReport): number {
  const other = new Map(b.results.map((hit) => [hit.docId, hit.score]));
  assert.deepEqual([...other.keys()].sort(), a.results.map((hit) => hit.docId).sort());
  return Math.max(...a.results.map((hit) => Math.abs(hit.score - other.get(hit.docId)!)));
}

test('genir search --quantize int8 ranks every document with log-probabilities within 0.25 of float32, and serve answers the same', async () => {
  const query = 'where does glacier melt water go';
  const args = ['search', '--model', model, '--threads', '1', '--k', '4', '--beam', '4', '--json', query];
  const [float, int8] = await Promise.all([runGenir(args), runGenir([...args, '--quantize', 'int8'])]);
  const floatReport = lastJson<SearchReport>(float);
  const int8Report = lastJson<SearchReport>(int8);
  const difference = scoreDifference(floatReport, int8Report);
  assert.ok(difference > 0, 'int8 scores equal float32 scores: the quantized graphs were not used');
  assert.ok(difference < 0.25, `scores differ by ${difference}`);

  const served = await serveGenir(['--model', model, '--port', '0', '--threads', '1', '--quantize', 'int8']);
  try {
    const response = await fetch(`${served.url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, k: 4, beam: 4 }),
    });
    const body = (await response.json()) as { hits: { doc_id: string; score: number }[] };
    assert.equal(response.status, 200);
    assert.deepEqual(
      body.hits.map((hit) => [hit.doc_id, hit.score]),
      int8Report.results.map((hit) => [hit.docId, hit.score]),
    );
  } finally {
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0);
  }
});

test('a bad --quantize value, or --quantize where no beam search runs, is one line and exit code 2', async () => {
  const results = await Promise.all([
    runGenir(['search', '--model', model, '--quantize', 'int4', 'tides']),
    runGenir(['serve', '--model', model, '--port', '0', '--quantize', 'fp16']),
    runGenir(['eval', '--model', model, '--dataset', data, '--quantize', 'INT8']),
    runGenir(['search', '--model', model, '--mode', 'bm25', '--data-dir', root, '--quantize', 'int8', 'tides']),
    runGenir(['eval', '--run', join(root, 'missing.run'), '--dataset', data, '--quantize', 'int8']),
  ]);
  const patterns = [
    /^genir: error: --quantize int4: expected int8 \(leave the option out for float32\)$/,
    /^genir: error: --quantize fp16: expected int8/,
    /^genir: error: --quantize INT8: expected int8/,
    /^genir: error: --quantize applies to --mode genir or hybrid, not --mode bm25$/,
    /^genir: error: --quantize applies to --model, not to a --run file$/,
  ];
  results.forEach((result, i) => {
    assert.equal(result.code, 2, `${patterns[i]}: ${result.stderr}`);
    assert.equal(result.stdout, '', `${patterns[i]}`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], patterns[i]);
  });
});

test('genir eval --model --quantize int8 --batch 1 writes the run that genir search --quantize int8 ranks', async () => {
  // One query per batch: int8 activations are quantized with one scale per batch tensor, so a
  // query's int8 scores depend on the queries batched with it (docs/serving.md, "int8 inference").
  const runOut = join(root, 'int8.run');
  // The same model and search settings for both commands.
  const search = ['--model', model, '--threads', '1', '--beam', '4', '--k', '4', '--quantize', 'int8'];
  const [evaluated, searched] = await Promise.all([
    runGenir(['eval', ...search, '--dataset', data, '--batch', '1', '--run-out', runOut]),
    runGenir(['search', ...search, '--json', TINY_QUERIES[0].text]),
  ]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const entries = (await readRun(runOut)).get(TINY_QUERIES[0]._id) ?? [];
  assert.deepEqual(
    entries.map((entry) => [entry.docId, entry.score]),
    lastJson<SearchReport>(searched).results.map((hit) => [hit.docId, hit.score]),
  );
});
