import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, cpSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy } from '../../docids/embeddings.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { TOPICS, writeToySquad } from '../../train/methods/sft/testdata/toy-squad.js';
import { UserError } from '../../util/errors.js';
import { runGenir } from '../testing.js';
import { denseOptionsFrom, parseTemperature, type TrainDenseCommandOptions } from './train-dense.js';

/** A model small enough for a test to train in seconds: vocabulary, width, heads, feed-forward, layers. */
const MICRO_SHAPE = ['--vocab', '300', '--d-model', '32', '--heads', '2', '--d-ff', '64', '--layers', '1'];

const defaults: TrainDenseCommandOptions = {
  dataset: 'squad-dev',
  model: 'tiny',
  out: 'out',
  epochs: '10',
  embeddingInit: 'random',
  lr: '3e-3',
  batchSize: '64',
  temperature: '0.05',
  hardNegatives: '1',
  negativeDepth: '30',
  bm25Depth: '200',
  ict: '1',
  crops: '1',
  maxQueryTokens: '32',
  maxPassageTokens: '128',
  vocab: '8000',
  seed: '0',
  onnx: true,
};

test('train dense options: temperature fixed or learned, model changes; bad values are user errors', () => {
  assert.deepEqual(parseTemperature('0.07'), { kind: 'fixed', value: 0.07 });
  assert.deepEqual(parseTemperature('learned'), { kind: 'learned', initial: 0.05 });
  assert.deepEqual(parseTemperature('learned:0.1'), { kind: 'learned', initial: 0.1 });
  const parsed = denseOptionsFrom({ ...defaults, dModel: '32', heads: '2', layers: '1', hardNegatives: '0' });
  assert.deepEqual(parsed.modelOverrides, { dModel: 32, numHeads: 2, numLayers: 1, dKv: 16 });
  assert.equal(parsed.hardNegatives, 0);
  assert.equal(parsed.updates, undefined);
  assert.equal(parsed.embeddingInit, 'random');
  const counted = denseOptionsFrom({ ...defaults, updates: '0', embeddingInit: 'lsa' });
  assert.equal(counted.updates, 0);
  assert.equal(counted.embeddingInit, 'lsa');
  for (const bad of [
    { temperature: '0' },
    { temperature: 'hot' },
    { temperature: 'learned:-1' },
    { model: 'base' },
    { hardNegatives: '-1' },
    { ict: 'x' },
    { epochs: '0' },
    { seed: '1.5' },
    { dropout: '1' },
    { embeddingInit: 'svd' },
    { embeddingInit: '' },
    { updates: '-1' },
    { updates: '1.5' },
  ]) {
    assert.throws(() => denseOptionsFrom({ ...defaults, ...bad }), UserError, JSON.stringify(bad));
  }
});

let root: string;
let dataset: string;
let model: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-dense-cli-'));
  dataset = writeToySquad(root);
  model = join(root, 'dense');
  const result = await runGenir([
    'train',
    'dense',
    '--dataset',
    dataset,
    '--model',
    'tiny',
    '--out',
    model,
    '--epochs',
    '25',
    '--batch-size',
    '8',
    ...MICRO_SHAPE,
    '--dropout',
    '0',
    '--lr',
    '3e-3',
    '--temperature',
    'learned',
    '--threads',
    '1',
    '--json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  writeFileSync(join(root, 'train.json'), result.stdout.trimEnd().split('\n').pop()!);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('genir train dense writes a dense model directory: vectors.npy (one unit row per document) with its ids, and a JSON report', () => {
  const report = JSON.parse(readFileSync(join(root, 'train.json'), 'utf8')) as {
    documents: number;
    pairs: { labelled: number; ict: number; crop: number };
    temperature: { kind: string; final: number };
    finalAccuracy: number;
  };
  assert.equal(report.documents, TOPICS.length);
  assert.ok(
    report.pairs.labelled > 0 && report.pairs.ict === TOPICS.length && report.pairs.crop === TOPICS.length,
    JSON.stringify(report.pairs),
  );
  assert.equal(report.temperature.kind, 'learned');
  assert.notEqual(report.temperature.final, 0.05);
  const { shape, data } = parseNpy(readFileSync(join(model, 'vectors.npy')), 'vectors.npy');
  assert.deepEqual(shape, [TOPICS.length, 32]);
  for (let row = 0; row < shape[0]; row++) assert.ok(Math.abs(Math.hypot(...data.subarray(row * 32, (row + 1) * 32)) - 1) < 1e-4);
  assert.equal(readFileSync(join(model, 'vectors.ids.txt'), 'utf8').trimEnd().split('\n').length, TOPICS.length);
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as { format: string; onnx: { encoder: string } };
  assert.equal(manifest.format, 'genir-dense-model');
  assert.ok(statSync(join(model, manifest.onnx.encoder)).size > 0);
});

test('genir search --dense ranks the toy paragraph of the query first; --model finds the same dense model by its manifest', async () => {
  const dense = await runGenir(['search', '--dense', model, 'what causes tides', '--k', '3', '--json']);
  assert.equal(dense.code, 0, dense.stderr);
  const report = JSON.parse(dense.stdout.trimEnd().split('\n').pop()!) as {
    kind: string;
    results: { docId: string; title: string; score: number }[];
  };
  assert.equal(report.kind, 'dense');
  assert.equal(report.results.length, 3);
  assert.equal(report.results[0].title, 'Tides');
  assert.ok(report.results[0].score >= report.results[1].score);
  const viaModel = await runGenir(['search', '--model', model, 'what causes tides', '--k', '3', '--json']);
  assert.equal(viaModel.code, 0, viaModel.stderr);
  assert.deepEqual(JSON.parse(viaModel.stdout.trimEnd().split('\n').pop()!).results, report.results);
});

test('genir eval --dense: stored vectors for the same corpus, the documents encoded afresh for another corpus', async () => {
  const same = await runGenir(['eval', '--dense', model, '--dataset', dataset, '--split', 'train', '--json']);
  assert.equal(same.code, 0, same.stderr);
  const report = JSON.parse(same.stdout.trimEnd().split('\n').pop()!) as {
    reindexed: boolean;
    docs: number;
    metrics: Record<string, number>;
  };
  assert.equal(report.reindexed, false);
  assert.equal(report.docs, TOPICS.length);
  assert.ok(report.metrics['RR@10'] > 0.9, `train-split RR@10 ${report.metrics['RR@10']}`);
  // The whole printed report: the head lines (timings as the JSON has them), the metric table, the JSON line.
  const runOut = join(root, 'dense.train.run');
  const printed = await runGenir(['eval', '--dense', model, '--dataset', dataset, '--split', 'train', '--run-out', runOut, '--json']);
  assert.equal(printed.code, 0, printed.stderr);
  const jsonLine = printed.stdout.trimEnd().split('\n').pop()!;
  const shown = JSON.parse(jsonLine) as { dataset: string; queries: number; metrics: Record<string, number> } & Record<string, number>;
  assert.equal(
    printed.stdout,
    [
      `dataset ${shown.dataset}, split train: ${shown.queries} queries; dense model ${model}: ${TOPICS.length} documents`,
      `exact top 10: ${shown.ms_per_query} ms per query (${shown.search_qps} queries/s, query encoding included); loaded in ${shown.load_ms} ms`,
      `run written to ${runOut}`,
      '',
      formatTable([['metric', 'value'], ...Object.entries(shown.metrics).map(([name, value]) => [name, formatValue(value)])]),
      jsonLine,
      '',
    ].join('\n'),
  );
  // Another corpus: the same paragraphs with one more document; the model encodes it before searching.
  const other = join(root, 'other');
  cpSync(dataset, `${other}.json`);
  const json = JSON.parse(readFileSync(`${other}.json`, 'utf8')) as {
    data: { title: string; paragraphs: { context: string; qas: unknown[] }[] }[];
  };
  json.data.push({ title: 'Comets', paragraphs: [{ context: 'A comet is an icy body that releases gas near the sun.', qas: [] }] });
  writeFileSync(`${other}.json`, JSON.stringify(json));
  const moved = await runGenir(['eval', '--dense', model, '--dataset', `${other}.json`, '--split', 'train', '--json']);
  assert.equal(moved.code, 0, moved.stderr);
  const movedReport = JSON.parse(moved.stdout.trimEnd().split('\n').pop()!) as { reindexed: boolean; docs: number };
  assert.equal(movedReport.reindexed, true);
  assert.equal(movedReport.docs, TOPICS.length + 1);
  assert.match(moved.stderr, /encoding its 7 documents/);
});

test('dense search and eval refuse generative-only options and two models, in one line with exit code 2', async () => {
  for (const args of [
    ['search', '--dense', model, 'bees', '--beam', '5'],
    ['search', '--dense', model, '--model', model, 'bees'],
    ['eval', '--dense', model, '--dataset', dataset, '--beam', '4'],
    ['search', '--dense', root, 'bees'],
  ]) {
    const result = await runGenir(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^genir: error: /);
  }
});

test('a truncated vectors.npy is one line naming the file, before any search', async () => {
  const copy = join(root, 'broken');
  cpSync(model, copy, { recursive: true });
  truncateSync(join(copy, 'vectors.npy'), 100);
  const result = await runGenir(['search', '--dense', copy, 'bees']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /vectors\.npy: 100 bytes, but manifest\.json records \d+/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('genir train sft --docids rq --embeddings <dense dir> --ripor-init: rq codes of the dense vectors, docid tokens from the centroids, the dense encoder copied', async () => {
  const out = join(root, 'rq-sft');
  const args = [
    'train',
    'sft',
    '--dataset',
    dataset,
    '--docids',
    'rq',
    '--embeddings',
    model,
    '--ripor-init',
    '--model',
    'tiny',
    '--out',
    out,
    '--stages',
    'chunks+pseudo:1',
    '--pseudo',
    'spans',
    ...MICRO_SHAPE,
    '--dropout',
    '0',
    '--batch-size',
    '8',
    '--threads',
    '1',
    '--no-onnx',
    '--cache-dir',
    join(root, 'cache'),
    '--json',
  ];
  const result = await runGenir(args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /rq codes \d+ levels × \d+: [\d.]+ % of documents distinct before disambiguation, reconstruction error/);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    docids: { scheme: string; params: Record<string, number>; riporInit: { docidTokens: number; encoderCopied: boolean } };
  };
  assert.equal(report.docids.scheme, 'rq');
  assert.equal(report.docids.params.dim, 32);
  assert.ok(report.docids.params.distinctFraction > 0);
  assert.equal(report.docids.riporInit.docidTokens, report.docids.params.levels * report.docids.params.k);
  assert.equal(report.docids.riporInit.encoderCopied, true);
  // --ripor-init without rq docids is refused before any work.
  const refused = await runGenir([
    'train',
    'sft',
    '--dataset',
    dataset,
    '--docids',
    'pq',
    '--embeddings',
    model,
    '--ripor-init',
    '--model',
    'tiny',
    '--out',
    join(root, 'pq-sft'),
  ]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--ripor-init needs --docids rq/);
});

test('genir train dense --embedding-init lsa --updates 0: the initial encoder is saved untrained, the manifest and report name the initialisation', async () => {
  const out = join(root, 'lsa0');
  const args = (init: string, updates: string, dir: string): string[] => [
    'train',
    'dense',
    '--dataset',
    dataset,
    '--model',
    'tiny',
    '--out',
    dir,
    '--updates',
    updates,
    '--embedding-init',
    init,
    ...MICRO_SHAPE,
    '--threads',
    '1',
    '--no-onnx',
    '--json',
  ];
  const result = await runGenir(args('lsa', '0', out));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /token embeddings from the corpus's LSA \(\d+ of \d+ tokens, rank 6\)/);
  const report = JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as { updates: number; embeddingInit: string; finalLoss: null };
  assert.equal(report.updates, 0);
  assert.equal(report.embeddingInit, 'lsa');
  assert.equal(report.finalLoss, null);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { extra: { embeddingInit: string } };
  assert.equal(manifest.extra.embeddingInit, 'lsa');
  assert.equal(readFileSync(join(out, 'loss.csv'), 'utf8').trimEnd().split('\n').length, 1);
  // A bad value is one line with exit code 2, and nothing is written.
  for (const [init, updates] of [
    ['svd', '0'],
    ['lsa', '-3'],
  ]) {
    const refused = await runGenir(args(init, updates, join(root, `refused-${init}`)));
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, init === 'svd' ? /--embedding-init svd: expected lsa or random/ : /--updates -3/);
    assert.throws(() => statSync(join(root, `refused-${init}`)));
  }
});
