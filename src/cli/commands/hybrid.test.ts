import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bm25Index } from '../../bm25/bm25-index.js';
import { BeirDataset } from '../../data/beir.js';
import { readRun } from '../../data/trec.js';
import type { Query, Run } from '../../data/types.js';
import { evaluateRun } from '../../eval/metrics.js';
import { saveModelDirectory } from '../../retriever/directory.js';
import { microAtomicModel } from '../../retriever/testdata/micro-model.js';
import { fuseLists, fuseRuns, interpolation } from '../../search/hybrid.js';
import { GenerativeSearcher } from '../../search/searcher.js';
import { getAnalyzer } from '../../text/analyzers/index.js';
import { runGenir, type CliResult } from '../testing.js';

const corpus = [
  { id: 'd1', title: 'Alpine rivers', text: 'Rivers in the Alps carry melt water from glaciers to the lowlands.' },
  { id: 'd2', title: 'Desert plants', text: 'Cacti store water in thick stems and survive long droughts.' },
  { id: 'd3', title: 'Ocean tides', text: 'The moon pulls the oceans and makes the tides rise and fall.' },
  { id: 'd4', title: 'Volcano types', text: 'Shield volcanoes erupt runny lava while stratovolcanoes explode.' },
  { id: 'd5', title: 'Forest birds', text: 'Woodpeckers drum on trees to find insects under the bark.' },
  { id: 'd6', title: 'Polar ice', text: 'Sea ice near the poles grows in winter and melts in summer.' },
  { id: 'd7', title: 'River deltas', text: 'Deltas form where rivers drop sand and mud at the sea.' },
  { id: 'd8', title: 'Mountain lakes', text: 'Glacier lakes in the mountains are cold and very clear.' },
];
const queries = [
  { _id: 'q1', text: 'where does glacier melt water go' },
  { _id: 'q2', text: 'why do tides rise' },
  { _id: 'q3', text: 'how do woodpeckers find food' },
  { _id: 'q4', text: 'what happens to sea ice in summer' },
  { _id: 'q5', text: 'how do cacti survive droughts' },
  { _id: 'q6', text: 'where do rivers drop sand' },
];
const testQrels = [
  ['q1', 'd1'],
  ['q2', 'd3'],
  ['q3', 'd5'],
];
const devQrels = [
  ['q4', 'd6'],
  ['q5', 'd2'],
  ['q6', 'd7'],
];

let root: string;
let modelDir: string;
let datasetDir: string;
let noDevDir: string;
let orphanModelDir: string;
let otherCorpusDir: string;

function writeBeir(dir: string, splits: Record<string, string[][]>): void {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(
    join(dir, 'corpus.jsonl'),
    corpus.map((d) => JSON.stringify({ _id: d.id, title: d.title, text: d.text })).join('\n') + '\n',
  );
  writeFileSync(join(dir, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  for (const [split, pairs] of Object.entries(splits)) {
    writeFileSync(join(dir, 'qrels', `${split}.tsv`), 'query-id\tcorpus-id\tscore\n' + pairs.map(([q, d]) => `${q}\t${d}\t1\n`).join(''));
  }
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-hybrid-'));
  datasetDir = join(root, 'data');
  noDevDir = join(root, 'data-no-dev');
  writeBeir(datasetDir, { test: testQrels, dev: devQrels });
  writeBeir(noDevDir, { test: testQrels });
  otherCorpusDir = join(root, 'data-other');
  mkdirSync(join(otherCorpusDir, 'qrels'), { recursive: true });
  writeFileSync(
    join(otherCorpusDir, 'corpus.jsonl'),
    `${JSON.stringify({ _id: 'x1', title: 'Other', text: 'rivers of another corpus' })}\n`,
  );
  writeFileSync(join(otherCorpusDir, 'queries.jsonl'), `${JSON.stringify({ _id: 'o1', text: 'rivers' })}\n`);
  writeFileSync(join(otherCorpusDir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\no1\tx1\t1\n');

  const texts = [...corpus.map((d) => `${d.title} ${d.text}`), ...queries.map((q) => q.text)];
  const { model, tokenizer, docids } = await microAtomicModel(corpus, texts, { vocabSize: 330, seed: 5 });
  const titles = new Map(corpus.map((d) => [d.id, d.title]));
  // The manifest names the dataset the model was trained on: hybrid search indexes its corpus.
  modelDir = join(root, 'model');
  await saveModelDirectory(modelDir, { model, tokenizer, docids, titles, dataset: { id: datasetDir, languages: null } });
  orphanModelDir = join(root, 'orphan');
  await saveModelDirectory(orphanModelDir, { model, tokenizer, docids, titles, dataset: { id: join(root, 'gone') } });
  await model.release();
});

after(() => rmSync(root, { recursive: true, force: true }));

function lastJson<T>(result: CliResult): T {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as T;
}

/** A user error: exit code 2 and exactly one line on stderr, no stack trace. */
function assertUserError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /^genir: error: /);
  assert.match(lines[0], pattern);
}

async function bm25Index(): Promise<Bm25Index> {
  return Bm25Index.build(corpus, { analyzer: getAnalyzer('english', 'en') });
}

/** The two systems `eval --mode hybrid` fuses, searched here: GenIR's beam of 4 and BM25's top 1000. */
async function componentRuns(queries: Query[]): Promise<{ genir: Run; bm25: Run }> {
  const searcher = await GenerativeSearcher.open(modelDir, { threads: 1 });
  const genir = await searcher.searchRun(queries, { beam: 4, k: 4 });
  await searcher.release();
  const index = await bm25Index();
  const bm25 = index.toRun(
    queries,
    await index.searchBatch(
      queries.map((q) => ({ text: q.text })),
      1000,
      { threads: 1 },
    ),
  );
  return { genir, bm25 };
}

interface SearchJson {
  mode: string;
  fusion?: { method: string };
  results: { rank: number; docId: string; title: string | null; score: number; genir_rank?: number | null; bm25_rank?: number | null }[];
}

test("genir search --mode hybrid: RRF of the model's beam and BM25 over its corpus, with each system's rank", async () => {
  const query = 'glacier melt water';
  const json = lastJson<SearchJson>(
    await runGenir(['search', '--model', modelDir, '--mode', 'hybrid', '--beam', '5', '--k', '8', '--threads', '1', '--json', query]),
  );
  assert.equal(json.mode, 'hybrid');
  assert.deepEqual(json.fusion, { method: 'rrf', k: 60 });
  const searcher = await GenerativeSearcher.open(modelDir, { threads: 1 });
  const [beam] = await searcher.search([query], { beam: 5, k: 5 });
  await searcher.release();
  const genirList = beam.map((h) => ({ docId: h.docId, score: h.score }));
  const bm25List = (await bm25Index()).search(query, 1000);
  const expected = fuseLists([genirList, bm25List], { method: 'rrf' }, 8);
  assert.deepEqual(
    json.results.map((r) => r.docId),
    expected.map((e) => e.docId),
  );
  json.results.forEach((r, i) => {
    assert.ok(Math.abs(r.score - expected[i].score) < 1e-12);
    assert.equal(r.title, corpus.find((d) => d.id === r.docId)!.title);
    const genirRank = genirList.findIndex((e) => e.docId === r.docId);
    const bm25Rank = bm25List.findIndex((e) => e.docId === r.docId);
    assert.equal(r.genir_rank, genirRank < 0 ? null : genirRank + 1);
    assert.equal(r.bm25_rank, bm25Rank < 0 ? null : bm25Rank + 1);
  });
  // BM25 ranks d1 first and GenIR's beam of 5 (of 8 documents) cannot hide it: the fusion surfaces documents either system finds.
  assert.equal(bm25List[0].docId, 'd1');
  assert.ok(json.results.slice(0, 3).some((r) => r.docId === 'd1'));
});

test('genir search --mode bm25 and --mode hybrid --fusion interp; a saved index (--index) gives the same ranking as one built from the dataset', async () => {
  const query = 'rivers drop sand at the sea';
  const bm25 = lastJson<SearchJson>(
    await runGenir(['search', '--model', modelDir, '--mode', 'bm25', '--k', '3', '--threads', '1', '--json', query]),
  );
  const expected = (await bm25Index()).search(query, 3);
  assert.deepEqual(
    bm25.results.map((r) => [r.docId, r.score]),
    expected.map((e) => [e.docId, e.score]),
  );
  assert.equal(bm25.results[0].title, 'River deltas');

  const indexPath = join(root, 'corpus.bm25');
  await (await bm25Index()).save(indexPath);
  const args = [
    'search',
    '--model',
    modelDir,
    '--mode',
    'hybrid',
    '--fusion',
    'interp',
    '--alpha',
    '0.3',
    '--normalization',
    'zscore',
    '--beam',
    '4',
    '--threads',
    '1',
    '--json',
    query,
  ];
  const [built, loaded] = await Promise.all([runGenir(args), runGenir([...args, '--index', indexPath])]);
  const builtJson = lastJson<SearchJson>(built);
  assert.deepEqual(builtJson.fusion, interpolation(0.3, 'zscore'));
  assert.deepEqual(lastJson<SearchJson>(loaded).results, builtJson.results);
});

test('genir search: bad hybrid settings and indexes are one-line user errors (exit 2)', async () => {
  const otherIndex = join(root, 'other.bm25');
  await (
    await Bm25Index.build([{ id: 'x1', title: 'Other', text: 'another corpus entirely' }], { analyzer: getAnalyzer('english', 'en') })
  ).save(otherIndex);
  const search = (...args: string[]) => runGenir(['search', '--model', modelDir, '--threads', '1', ...args, 'rivers']);
  const results = await Promise.all([
    search('--mode', 'dense'),
    search('--mode', 'hybrid', '--fusion', 'interp'),
    search('--mode', 'hybrid', '--fusion', 'interp', '--alpha', '1.5'),
    search('--fusion', 'rrf'),
    search('--mode', 'hybrid', '--alpha', '0.5'),
    search('--mode', 'hybrid', '--index', join(root, 'missing.bm25')),
    search('--mode', 'hybrid', '--index', otherIndex),
    runGenir(['search', '--model', orphanModelDir, '--mode', 'bm25', '--threads', '1', 'rivers']),
  ]);
  assertUserError(results[0], /--mode dense: expected genir, bm25 or hybrid/);
  assertUserError(results[1], /--fusion interp needs --alpha/);
  assertUserError(results[2], /--alpha 1\.5: expected a number in \[0, 1\]/);
  assertUserError(results[3], /--fusion applies to --mode hybrid, not --mode genir/);
  assertUserError(results[4], /--alpha applies to --fusion interp, not rrf/);
  assertUserError(results[5], /missing\.bm25/);
  assertUserError(results[6], /other\.bm25: none of its 1 documents is a docid of the model/);
  assertUserError(results[7], /gone/);
  for (const result of results) assert.doesNotMatch(result.stderr, /\n\s+at /);
});

interface EvalJson {
  mode: string;
  k: number;
  metrics: Record<string, number>;
  fusion: { method: string; weights?: number[] };
  tuning?: { alpha: number; value: number; split: string; queries: number; grid: { alpha: number; value: number }[] };
  components: { genir: Record<string, number>; bm25: Record<string, number> };
  significance: {
    bm25: Record<string, { delta: number; p_t: number; p_rand: number }>;
    genir: Record<string, { delta: number; p_t: number; p_rand: number }>;
  };
}

test('genir eval --model --mode hybrid: fused metrics, each system alone, paired tests; the written run scores the same', async () => {
  const runPath = join(root, 'hybrid.trec');
  const json = lastJson<EvalJson>(
    await runGenir([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      datasetDir,
      '--mode',
      'hybrid',
      '--beam',
      '4',
      '--run-out',
      runPath,
      '--threads',
      '1',
      '--json',
    ]),
  );
  assert.equal(json.mode, 'hybrid');
  assert.equal(json.k, 100);
  const dataset = await BeirDataset.open(datasetDir);
  const [testQueries, qrels] = await Promise.all([dataset.queries('test'), dataset.qrels('test')]);
  const run = await readRun(runPath);
  assert.deepEqual(evaluateRun(run, qrels, Object.keys(json.metrics)).mean, json.metrics);

  // The components, recomputed: GenIR's beam of 4 and BM25's top 1000, fused by RRF.
  const { genir: genirRun, bm25: bm25Run } = await componentRuns(testQueries);
  assert.deepEqual(json.components.genir, evaluateRun(genirRun, qrels, Object.keys(json.metrics)).mean);
  assert.deepEqual(json.components.bm25, evaluateRun(bm25Run, qrels, Object.keys(json.metrics)).mean);
  assert.deepEqual(
    run,
    new Map(
      [...fuseRuns([genirRun, bm25Run], { method: 'rrf' }, 100)].map(([id, entries]) => [
        id,
        entries.map((e) => ({ docId: e.docId, score: Number(String(e.score)) })),
      ]),
    ),
  );
  for (const metric of Object.keys(json.metrics)) {
    const vsBm25 = json.significance.bm25[metric];
    assert.ok(Math.abs(vsBm25.delta - (json.metrics[metric] - json.components.bm25[metric])) < 1e-12);
    assert.ok(vsBm25.p_t >= 0 && vsBm25.p_t <= 1 && vsBm25.p_rand > 0 && vsBm25.p_rand <= 1);
  }
});

test('genir eval --mode hybrid --fusion interp without --alpha tunes alpha on the dev split and applies it to the test split', async () => {
  const json = lastJson<EvalJson>(
    await runGenir([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      datasetDir,
      '--mode',
      'hybrid',
      '--fusion',
      'interp',
      '--beam',
      '4',
      '--k',
      '10',
      '--threads',
      '1',
      '--json',
    ]),
  );
  const tuning = json.tuning!;
  assert.equal(tuning.split, 'dev');
  assert.equal(tuning.queries, 3);
  assert.equal(tuning.grid.length, 21);
  // The chosen α is the first grid point with the best dev RR@10.
  const best = Math.max(...tuning.grid.map((g) => g.value));
  assert.equal(tuning.value, best);
  assert.equal(tuning.alpha, tuning.grid.find((g) => g.value === best)!.alpha);
  assert.deepEqual(json.fusion, interpolation(tuning.alpha, 'minmax'));
  // The dev choice, recomputed from the dev runs.
  const dataset = await BeirDataset.open(datasetDir);
  const [devQueries, devJudgments] = await Promise.all([dataset.queries('dev'), dataset.qrels('dev')]);
  const { genir: genirDev, bm25: bm25Dev } = await componentRuns(devQueries);
  for (const point of tuning.grid) {
    assert.equal(
      point.value,
      evaluateRun(fuseRuns([genirDev, bm25Dev], interpolation(point.alpha), 10), devJudgments, ['RR@10']).mean['RR@10'],
    );
  }
});

test('genir eval: hybrid settings that cannot apply are one-line user errors (exit 2)', async () => {
  const results = await Promise.all([
    runGenir(['eval', '--model', modelDir, '--dataset', noDevDir, '--mode', 'hybrid', '--fusion', 'interp', '--threads', '1']),
    runGenir([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      datasetDir,
      '--split',
      'dev',
      '--mode',
      'hybrid',
      '--fusion',
      'interp',
      '--threads',
      '1',
    ]),
    runGenir(['eval', '--run', join(root, 'hybrid.trec'), '--dataset', datasetDir, '--mode', 'hybrid']),
    runGenir(['eval', '--model', modelDir, '--dataset', datasetDir, '--mode', 'hybrid', '--rrf-k', '-3']),
    runGenir([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      datasetDir,
      '--mode',
      'hybrid',
      '--fusion',
      'interp',
      '--alpha',
      '0.2',
      '--tune-split',
      'dev',
    ]),
    runGenir([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      otherCorpusDir,
      '--mode',
      'hybrid',
      '--threads',
      '1',
      '--run-out',
      join(root, 'other.trec'),
    ]),
  ]);
  assertUserError(results[0], /has no split 'dev' to tune alpha on.*--alpha/);
  assertUserError(results[1], /--split dev is the split alpha would be tuned on/);
  assertUserError(results[2], /--mode applies to --model, not to a --run file/);
  assertUserError(results[3], /--rrf-k -3: expected a non-negative number/);
  assertUserError(results[4], /--tune-split applies to --mode hybrid --fusion interp without --alpha/);
  assertUserError(results[5], /data-other \(corpus en\) against the docids of .*model: none of its 1 documents is a docid of the model/);
  // Nothing half-written: no run files appeared for the failed commands.
  assert.deepEqual(
    readdirSync(root)
      .filter((f) => f.endsWith('.trec'))
      .sort(),
    ['hybrid.trec'],
  );
});
