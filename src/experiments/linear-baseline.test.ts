import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir } from '../cli/testing.js';
import {
  featureVector,
  inverseDocumentFrequencies,
  runLinearBaseline,
  sparseExamples,
  SparseSoftmaxRegression,
  trainingScratch,
} from './linear-baseline.js';

test('features: (1 + ln tf) · idf per subword id, ids ascending, unit length; idf smoothed over the training texts', () => {
  const texts = [[5, 3, 5], [3, 7], [3]];
  const idf = inverseDocumentFrequencies(texts, 8);
  // df: 3 → 3, 5 → 1, 7 → 1, others 0; N = 3.
  assert.ok(Math.abs(idf[3] - (Math.log(4 / 4) + 1)) < 1e-6);
  assert.ok(Math.abs(idf[5] - (Math.log(4 / 2) + 1)) < 1e-6);
  const { features, values } = featureVector([5, 3, 5], idf);
  assert.deepEqual(features, [3, 5]);
  const raw = [idf[3], (1 + Math.log(2)) * idf[5]];
  const norm = Math.hypot(...raw);
  assert.ok(Math.abs(values[0] - raw[0] / norm) < 1e-6 && Math.abs(values[1] - raw[1] / norm) < 1e-6);
  assert.deepEqual(featureVector([], idf), { features: [], values: [] });
});

test('softmax regression: the first Adam step moves every touched weight by lr against its gradient; untouched rows stay 0', () => {
  const idf = new Float32Array(6).fill(1);
  const data = sparseExamples(
    [
      [1, 2],
      [2, 4],
    ],
    [0, 2],
    idf,
  );
  const model = new SparseSoftmaxRegression(6, 3);
  // All-zero weights: softmax is uniform (1/3), so dL/dW[f, c] = mean over examples of x_f · (1/3 − [c = label]).
  const loss = model.update(data, [0, 1], 0.1, trainingScratch(6, 3));
  assert.ok(Math.abs(loss - Math.log(3)) < 1e-12);
  const x = 1 / Math.SQRT2;
  const gradient = (f: number, c: number) => {
    let g = 0;
    [
      [[1, 2], 0],
      [[2, 4], 2],
    ].forEach(([features, label]) => {
      if ((features as number[]).includes(f)) g += (x * (1 / 3 - (c === label ? 1 : 0))) / 2;
    });
    return g;
  };
  for (let f = 0; f < 6; f++) {
    for (let c = 0; c < 3; c++) {
      const g = gradient(f, c);
      const w = model.weights[f * 3 + c];
      if (g === 0) assert.equal(w, 0, `feature ${f} class ${c}`);
      else assert.ok(Math.abs(w + 0.1 * Math.sign(g)) < 1e-6, `feature ${f} class ${c}: ${w}`);
    }
  }
});

test('softmax regression learns a separable toy problem and ranks the right class first', () => {
  const texts = [
    [0, 1],
    [0, 2],
    [3, 4],
    [3, 5],
    [6, 7],
    [6, 8],
  ];
  const labels = [0, 0, 1, 1, 2, 2];
  const idf = inverseDocumentFrequencies(texts, 9);
  const data = sparseExamples(texts, labels, idf);
  const model = new SparseSoftmaxRegression(9, 3);
  const scratch = trainingScratch(9, 3);
  const losses: number[] = [];
  for (let step = 0; step < 50; step++) losses.push(model.update(data, [0, 1, 2, 3, 4, 5], 0.1, scratch));
  assert.ok(losses[49] < losses[0] / 10, `loss ${losses[0]} → ${losses[49]}`);
  const logits = new Float64Array(3);
  for (const [query, label] of [
    [[0], 0],
    [[4], 1],
    [[8, 6], 2],
  ] as const) {
    const { features, values } = featureVector(query, idf);
    model.logits(features, values, logits);
    assert.equal(logits.indexOf(Math.max(...logits)), label);
  }
});

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'genir-linear-'));
  const corpus = [
    ['d1', 'Alpine rivers', 'Rivers in the Alps carry melt water from glaciers to the lowlands.'],
    ['d2', 'Desert plants', 'Cacti store water in thick stems and survive long droughts.'],
    ['d3', 'Ocean tides', 'The moon pulls the oceans and makes the tides rise and fall.'],
    ['d4', 'Volcano types', 'Shield volcanoes erupt runny lava while stratovolcanoes explode.'],
  ];
  const queries = [
    ['t1', 'glacier melt water'],
    ['t2', 'cacti in droughts'],
    ['t3', 'moon and tides'],
    ['t4', 'lava of volcanoes'],
    ['v1', 'alps rivers'],
    ['v2', 'thick stems'],
    ['q1', 'where does melt water go'],
    ['q2', 'why do tides rise'],
    ['q3', 'how do volcanoes explode'],
  ];
  mkdirSync(join(root, 'qrels'), { recursive: true });
  writeFileSync(join(root, 'corpus.jsonl'), corpus.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join('\n') + '\n');
  writeFileSync(join(root, 'queries.jsonl'), queries.map(([id, text]) => JSON.stringify({ _id: id, text })).join('\n') + '\n');
  const qrels = (pairs: string[][]) => 'query-id\tcorpus-id\tscore\n' + pairs.map(([q, d]) => `${q}\t${d}\t1\n`).join('');
  writeFileSync(
    join(root, 'qrels', 'train.tsv'),
    qrels([
      ['t1', 'd1'],
      ['t2', 'd2'],
      ['t3', 'd3'],
      ['t4', 'd4'],
    ]),
  );
  writeFileSync(
    join(root, 'qrels', 'dev.tsv'),
    qrels([
      ['v1', 'd1'],
      ['v2', 'd2'],
    ]),
  );
  writeFileSync(
    join(root, 'qrels', 'test.tsv'),
    qrels([
      ['q1', 'd1'],
      ['q2', 'd3'],
      ['q3', 'd4'],
    ]),
  );
});
after(() => rmSync(root, { recursive: true, force: true }));

test("runLinearBaseline: SFT's examples of every source, the best dev epoch, seeded (two runs are identical)", async () => {
  const options = { dataset: root, vocabSize: 300, chunkTokens: 127, pseudoPerDoc: 3, epochs: 4, lr: 0.1, batchSize: 4, log: () => {} };
  const [first, second] = [await runLinearBaseline(options), await runLinearBaseline(options)];
  assert.deepEqual(first.metrics, second.metrics);
  assert.deepEqual(first.epochs, second.epochs);
  assert.equal(first.docs, 4);
  assert.equal(first.queries, 3);
  // One chunk and one term list per short document, 3 pseudo-queries each, 4 training questions.
  assert.deepEqual(first.examples, { chunks: 4, terms: 4, pseudo: 12, queries: 4 });
  const bestDev = Math.max(...first.epochs.map((e) => e.devRR10!));
  assert.equal(first.epochs[first.bestEpoch - 1].devRR10, bestDev);
  assert.ok(first.epochs[3].loss < first.epochs[0].loss);
  assert.equal(first.metrics['R@10'], 1);
});

test('genir experiment linear-baseline: metrics as JSON on the last stdout line; bad options are one-line errors', async () => {
  const [ok, badSource, badSplit] = await Promise.all([
    runGenir([
      'experiment',
      'linear-baseline',
      '--dataset',
      root,
      '--vocab',
      '300',
      '--pseudo-per-doc',
      '3',
      '--epochs',
      '2',
      '--lr',
      '0.1',
      '--batch-size',
      '4',
      '--json',
    ]),
    runGenir(['experiment', 'linear-baseline', '--dataset', root, '--sources', 'chunks,titles']),
    runGenir(['experiment', 'linear-baseline', '--dataset', root, '--vocab', '300', '--split', 'final']),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const json = JSON.parse(ok.stdout.trimEnd().split('\n').pop()!) as { metrics: Record<string, number>; best_epoch: number; docs: number };
  for (const metric of ['RR@10', 'R@1', 'R@10']) assert.ok(json.metrics[metric] >= 0 && json.metrics[metric] <= 1, metric);
  assert.equal(json.docs, 4);
  for (const [result, pattern] of [
    [badSource, /--sources chunks,titles: unknown source 'titles'/],
    [badSplit, /has no split 'final'/],
  ] as const) {
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, pattern);
  }
});

const dataDir = process.env.GENIR_DATA_DIR;
test(
  'linear baseline on XQuAD English (real data): far above chance after 3 epochs',
  { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false },
  async () => {
    const result = await runLinearBaseline({ dataset: 'xquad', lang: 'en', dataDir, epochs: 3, log: () => {} });
    assert.equal(result.docs, 240);
    assert.equal(result.queries, 212);
    // Chance RR@10 over 240 documents is about 0.012; BM25 reaches 0.957 and the quickstart GenIR 0.70.
    assert.ok(result.metrics['RR@10'] > 0.7, `RR@10 ${result.metrics['RR@10']}`);
  },
);
