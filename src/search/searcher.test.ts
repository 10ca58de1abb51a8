import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runGenir, type CliResult } from '../cli/testing.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/program.js';
import { runModelEval } from '../cli/commands/eval-model.js';
import { runSearch } from '../cli/commands/search.js';
import { readRun } from '../data/trec.js';
import { buildDocids } from '../docids/build.js';
import { GENIR_METRICS, evaluateRun } from '../eval/metrics.js';
import { microT5Config } from '../model/testdata/micro-config.js';
import { loadModelDirectory, saveModelDirectory } from '../retriever/directory.js';
import { T5Model } from '../model/t5.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { specFromJson } from '../text/tokenizer/spec.js';
import { BeirDataset } from '../data/beir.js';
import { constrainedBeamSearch } from './beam.js';
import { GenerativeSearcher } from './searcher.js';

const corpus = [
  { id: 'd1', title: 'Alpine rivers', text: 'Rivers in the Alps carry melt water from glaciers to the lowlands.' },
  { id: 'd2', title: 'Desert plants', text: 'Cacti store water in thick stems and survive long droughts.' },
  { id: 'd3', title: 'Ocean tides', text: 'The moon pulls the oceans and makes the tides rise and fall.' },
  { id: 'd4', title: 'Volcano types', text: 'Shield volcanoes erupt runny lava while stratovolcanoes explode.' },
  { id: 'd5', title: 'Forest birds', text: 'Woodpeckers drum on trees to find insects under the bark.' },
  { id: 'd6', title: 'Polar ice', text: 'Sea ice near the poles grows in winter and melts in summer.' },
  { id: 'd7', title: 'River deltas', text: 'Deltas form where rivers drop sand and mud at the sea.' },
];
const queries = [
  { _id: 'q1', text: 'where does glacier melt water go' },
  { _id: 'q2', text: 'why do tides rise' },
  { _id: 'q3', text: 'how do woodpeckers find food' },
];
const qrels = [
  ['q1', 'd1'],
  ['q2', 'd3'],
  ['q3', 'd5'],
];

let root: string;
let modelDir: string;
let datasetDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-search-'));
  modelDir = join(root, 'model');
  datasetDir = join(root, 'data');
  mkdirSync(join(datasetDir, 'qrels'), { recursive: true });
  writeFileSync(
    join(datasetDir, 'corpus.jsonl'),
    corpus.map((d) => JSON.stringify({ _id: d.id, title: d.title, text: d.text })).join('\n') + '\n',
  );
  writeFileSync(join(datasetDir, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  writeFileSync(join(datasetDir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n' + qrels.map(([q, d]) => `${q}\t${d}\t1\n`).join(''));

  const texts = [...corpus.map((d) => `${d.title} ${d.text}`), ...queries.map((q) => q.text)];
  const base = SubwordTokenizer.train(texts, { vocabSize: 330 });
  // PQ with 2 codes per position over random vectors: docids share prefixes and some collide.
  const vectors = Float32Array.from({ length: corpus.length * 4 }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * 0.3));
  const docids = await buildDocids(corpus, {
    scheme: 'pq',
    textVocabSize: base.subwordVocabSize,
    eosId: base.eosId,
    pq: { m: 3, k: 2 },
    embeddings: { kind: 'vectors', ids: corpus.map((d) => d.id), dim: 4, vectors },
  });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'test'), docidCount: docids.layout.docidVocabSize });
  const config = microT5Config(tokenizer.subwordVocabSize, docids.layout.docidVocabSize);
  const model = T5Model.create(config, 3, { threads: 1 });
  await saveModelDirectory(modelDir, {
    model,
    tokenizer,
    docids,
    titles: new Map(corpus.map((d) => [d.id, d.title])),
    dataset: { id: 'fixture' },
  });
});

after(() => rmSync(root, { recursive: true, force: true }));

function genir(args: string[]): Promise<CliResult> {
  return runGenir(args);
}

test('GenerativeSearcher (ONNX graphs of a model directory) ranks as beam search over the saved weights does', async () => {
  const loaded = await loadModelDirectory(modelDir, { threads: 1 });
  const searcher = await GenerativeSearcher.open(modelDir, { threads: 1 });
  try {
    const texts = queries.map((q) => q.text);
    const hits = await searcher.search(texts, { beam: 7, k: 7, batchQueries: 2 });
    const direct = await constrainedBeamSearch(
      loaded.model,
      loaded.docids,
      texts.map((t) => loaded.tokenizer.encode(t)),
      { beam: 7, k: 7 },
    );
    hits.forEach((ranked, q) => {
      assert.deepEqual(
        ranked.map((h) => h.docId),
        direct[q].map((h) => loaded.docids.keys[h.doc]),
      );
      assert.deepEqual(
        ranked.map((h) => h.rank),
        [1, 2, 3, 4, 5, 6, 7],
      );
      ranked.forEach((hit, i) => {
        assert.ok(Math.abs(hit.score - direct[q][i].logProb) < 1e-4);
        assert.equal(hit.title, corpus.find((d) => d.id === hit.docId)!.title);
      });
    });
    // Beam as wide as the corpus: every document, once.
    assert.deepEqual(
      hits[0].map((h) => h.docId).sort(),
      corpus.map((d) => d.id),
    );
    assert.ok((loaded.docids.params.collided as number) > 0, 'the fixture should have colliding PQ codes (disambiguated docids)');
  } finally {
    await searcher.release();
    await loaded.model.release();
  }
});

test('genir search: ranked documents with titles; --json ends with one object', async () => {
  let out = '';
  const report = await runSearch(
    'glacier melt water',
    { model: modelDir, k: '3', beam: '5', json: true, threads: '1' },
    (text) => (out += text),
  );
  const lines = out.trimEnd().split('\n');
  const json = JSON.parse(lines[lines.length - 1]) as typeof report;
  assert.deepEqual(json, report);
  assert.equal(json.results.length, 3);
  assert.deepEqual(
    json.results.map((r) => r.rank),
    [1, 2, 3],
  );
  for (let i = 1; i < 3; i++) assert.ok(json.results[i - 1].score >= json.results[i].score);
  for (const r of json.results) assert.equal(r.title, corpus.find((d) => d.id === r.docId)!.title);
  assert.match(out, /rank\s+log p\s+document\s+title/);
  assert.ok(lines.some((line) => line.includes(json.results[0].docId) && line.includes(json.results[0].title!)));
  // Same top 3 as the library with beam 5.
  const searcher = await GenerativeSearcher.open(modelDir, { threads: 1 });
  const [hits] = await searcher.search(['glacier melt water'], { beam: 5, k: 3 });
  await searcher.release();
  assert.deepEqual(
    json.results.map((r) => r.docId),
    hits.map((h) => h.docId),
  );
});

test('genir eval --model: bm25-shaped report; the written run file evaluates to the same metrics', async () => {
  const runPath = join(root, 'run.trec');
  let out = '';
  const report = await runModelEval(
    { model: modelDir, dataset: datasetDir, beam: '7', k: '7', runOut: runPath, json: true, threads: '1' },
    (text) => (out += text),
  );
  const last = JSON.parse(out.trimEnd().split('\n').pop()!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(last).slice(0, 5), ['dataset', 'split', 'docs', 'queries', 'metrics']);
  assert.equal(last.split, 'test');
  assert.equal(last.docs, 7);
  assert.equal(last.queries, 3);
  assert.deepEqual(Object.keys(report.metrics), [...GENIR_METRICS]);
  assert.ok(typeof last.search_qps === 'number' && typeof last.ms_per_query === 'number');
  // Beam = k = corpus size: every document is retrieved for every query, so R@10 is exactly 1.
  assert.equal(report.metrics['R@10'], 1);
  const run = await readRun(runPath);
  assert.deepEqual([...run.keys()].sort(), ['q1', 'q2', 'q3']);
  for (const entries of run.values()) assert.equal(entries.length, 7);
  const dataset = await BeirDataset.open(datasetDir);
  const again = evaluateRun(run, await dataset.qrels('test'), [...GENIR_METRICS]);
  assert.deepEqual(again.mean, report.metrics);
});

test("genir eval --model through the command line: default metrics are the results tables' unless --metrics is given", async () => {
  const [first, second] = await Promise.all([
    genir(['eval', '--model', modelDir, '--dataset', datasetDir, '--beam', '4', '--threads', '1', '--json']),
    genir(['eval', '--model', modelDir, '--dataset', datasetDir, '--metrics', 'AP,R@3', '--threads', '1', '--json']),
  ]);
  assert.equal(first.code, 0);
  const defaults = JSON.parse(first.stdout.trimEnd().split('\n').pop()!) as { k: number; metrics: Record<string, number> };
  assert.deepEqual(Object.keys(defaults.metrics), [...GENIR_METRICS]);
  assert.equal(defaults.k, 4);
  assert.equal(second.code, 0);
  const chosen = JSON.parse(second.stdout.trimEnd().split('\n').pop()!) as { beam: number; k: number; metrics: Record<string, number> };
  assert.deepEqual(Object.keys(chosen.metrics), ['AP', 'R@3']);
  assert.deepEqual([chosen.beam, chosen.k], [10, 10]);
});

test('CLI: bad settings are one-line user errors with exit code 2', async () => {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['node', 'genir', 'search', '--model', modelDir, '--k', '6', '--beam', '3', 'rivers']), 2);
    assert.match(stderr, /--k 6 is larger than --beam 3/);
    stderr = '';
    assert.equal(await main(['node', 'genir', 'search', '--model', join(root, 'missing'), 'rivers']), 2);
    assert.match(stderr, /model directory not found/);
    stderr = '';
    assert.equal(await main(['node', 'genir', 'eval', '--model', modelDir]), 2);
    assert.match(stderr, /--model needs --dataset/);
    stderr = '';
    assert.equal(await main(['node', 'genir', 'eval', '--model', modelDir, '--dataset', datasetDir, '--per-query']), 2);
    assert.match(stderr, /--per-query applies to --run/);
  } finally {
    process.stderr.write = write;
  }
});

test('the genir binary runs search end to end', async () => {
  const { code, stdout } = await genir([
    'search',
    '--model',
    modelDir,
    'tides',
    'and',
    'the',
    'moon',
    '--k',
    '2',
    '--json',
    '--threads',
    '1',
  ]);
  assert.equal(code, 0);
  const json = JSON.parse(stdout.trimEnd().split('\n').pop()!) as { query: string; results: unknown[] };
  assert.equal(json.query, 'tides and the moon');
  assert.equal(json.results.length, 2);
});
