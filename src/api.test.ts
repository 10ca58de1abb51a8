// The examples of docs/api.md, compiled with the library (a renamed export breaks the build) and
// run where they take a second; and the line between the public API and the internals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as genir from './index.js';
import {
  Bm25Index,
  buildDocids,
  cachedStage,
  claimOutput,
  fuseRuns,
  PipelineRun,
  readQrels,
  readRun,
  tuneFusionWeights,
  type Stage,
  evaluateRun,
  GenerativeSearcher,
  getAnalyzer,
  openDataset,
  pairedTTest,
  runDdro,
  runSft,
  startServer,
  trainTokenizer,
  type Document,
  type Qrels,
  type Run,
} from './index.js';

const docs: Document[] = [
  { id: 'd1', title: 'Glaciers', text: 'Glaciers melt faster in warm summers.' },
  { id: 'd2', title: 'Rivers', text: 'Rivers carry melt water to the sea.' },
  { id: 'd3', title: 'Deserts', text: 'Deserts get little rain.' },
];

// docs/api.md, "Data".
export async function dataExample(): Promise<number> {
  const dataset = await openDataset({ id: 'xquad/de/en' }); // German queries, English corpus
  const queries = await dataset.queries(dataset.defaultSplit);
  return queries.length;
}

// docs/api.md, "Evaluation".
function evaluationExample(): { ndcg: number; p: number } {
  const qrels: Qrels = new Map([
    ['q1', new Map([['d1', 1]])],
    ['q2', new Map([['d2', 1]])],
  ]);
  const run: Run = new Map([
    [
      'q1',
      [
        { docId: 'd1', score: 2 },
        { docId: 'd2', score: 1 },
      ],
    ],
    [
      'q2',
      [
        { docId: 'd1', score: 2 },
        { docId: 'd2', score: 1 },
      ],
    ],
  ]);
  const result = evaluateRun(run, qrels, ['nDCG@10', 'RR@10']);
  const perQuery = [...result.perQuery.values()].map((values) => values['RR@10']);
  return { ndcg: result.mean['nDCG@10'], p: pairedTTest(perQuery, [1, 1]).p };
}

// docs/api.md, "BM25".
async function bm25Example(): Promise<Run> {
  const index = await Bm25Index.build(docs, { analyzer: getAnalyzer('english'), progress: false });
  const queries = [{ id: 'q1', text: 'glacier melting' }];
  const hits = await index.searchBatch(queries, 10, { threads: 1 });
  return index.toRun(queries, hits);
}

// docs/api.md, "Tokenizer and docids".
async function docidsExample(): Promise<number> {
  const tokenizer = trainTokenizer(
    docs.map((d) => `${d.title}\n${d.text}`),
    { vocabSize: 300 },
  );
  const docids = await buildDocids(docs, {
    scheme: 'title',
    textVocabSize: tokenizer.subwordVocabSize,
    eosId: tokenizer.eosId,
    encode: (text) => tokenizer.encode(text),
  });
  return docids.size;
}

// docs/api.md, "Training" (minutes: compiled here, not run).
export async function trainingExample(): Promise<string> {
  const { dir } = await runSft({ dataset: 'xquad', docids: 'title', model: 'tiny', out: 'runs/xquad-title' });
  await runDdro({ from: dir, out: 'runs/xquad-ddro' });
  return dir;
}

// docs/api.md, "Training": a stage of a new method (writes under runs/: compiled here, not run).
export async function pipelineExample(): Promise<number> {
  const run = new PipelineRun('mine');
  claimOutput({ out: 'runs/m', work: 'runs/m.training', resumable: true, resume: true, label: 'mine', log: run.log });
  const vocabulary: Stage<string[], number> = {
    name: 'vocabulary',
    run: async (texts) =>
      (
        await cachedStage({
          name: 'vocabulary',
          dir: 'runs/m.training',
          inputs: { texts },
          files: ['v.txt'],
          load: () => 1,
          compute: () => 1,
        })
      ).value,
  };
  return run.run(vocabulary, ['a text']);
}

// docs/api.md, "Search": fusing runs of any retrievers (reads run files: compiled here, not run).
export async function fusionExample(): Promise<Run> {
  const dev = await Promise.all(['genir.dev.run', 'bm25.dev.run', 'dense.dev.run'].map(readRun));
  const tuned = tuneFusionWeights(dev, await readQrels('dev.qrels'), { method: 'interp', metric: 'RR@10' });
  const test = await Promise.all(['genir.test.run', 'bm25.test.run', 'dense.test.run'].map(readRun));
  return fuseRuns(test, tuned.spec, 100);
}

// docs/api.md, "Serving" (compiled, not run).
export async function servingExample(): Promise<void> {
  const server = await startServer({ model: 'runs/xquad-title' });
  await server.close();
}

// docs/api.md, "Search" (needs a trained model directory: compiled here, not run).
export async function searchExample(): Promise<string[]> {
  const searcher = await GenerativeSearcher.open('runs/xquad-title');
  try {
    const [hits] = await searcher.search(['where do glaciers melt?'], { beam: 10, k: 10 });
    return hits.map((hit) => `${hit.rank} ${hit.docId} ${hit.score.toFixed(3)}`);
  } finally {
    await searcher.release();
  }
}

test('docs/api.md: the evaluation, BM25 and docid examples run', async () => {
  const { ndcg } = evaluationExample();
  assert.ok(ndcg > 0.8 && ndcg < 1, `nDCG@10 ${ndcg}`);
  const run = await bm25Example();
  assert.equal(run.get('q1')?.[0].docId, 'd1');
  assert.equal(await docidsExample(), 3);
});

test(
  'docs/api.md: the data example reads xquad/de/en',
  { skip: process.env.GENIR_DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    assert.equal(await dataExample(), 212);
  },
);

test('internals stay out of the package root (reachable from their modules, not the API)', () => {
  const root = genir as Record<string, unknown>;
  for (const name of [
    'regularizedIncompleteBeta',
    'studentTCdf',
    'studentTTwoSidedP',
    'intToByte4',
    'byte4ToInt',
    'negLogSigmoid',
    'sampleTopK',
    'mix64',
    'hashUnit',
    'padSequences',
    'meanPoolNormalize',
    // Training internals: loss and graph builders, batch makers and negative sampling are
    // reached through the training runs (runSft, runDdro, runLtrgr, runDenseTraining).
    'buildPreferenceTrainingGraph',
    'buildDenseTrainingGraph',
    'infoNceLoss',
    'dpoLoss',
    'prefixMarginRankLoss',
    'makePreferenceBatch',
    'dpoTrainingData',
    'keyedRng',
    'sampleStratified',
    'mixedTrainingData',
    'copyReverseExamples',
    'GradientAccumulator',
    'MicroBatcher',
    'riporInitialise',
  ]) {
    assert.equal(root[name], undefined, `${name} is exported from src/index.ts`);
  }
  for (const name of [
    'openDataset',
    'evaluateRun',
    'Bm25Index',
    'trainTokenizer',
    'buildDocids',
    'T5Model',
    'GenerativeSearcher',
    'runSft',
    'runDdro',
    'runLtrgr',
    'runDenseTraining',
    'DenseSearcher',
    'startServer',
    'parseDatasetId',
    // What a new training method composes (docs/api.md, "Training").
    'PipelineRun',
    'claimOutput',
    'cachedStage',
    'withModelSearcher',
  ]) {
    assert.equal(typeof root[name], 'function', `${name} is missing from src/index.ts`);
  }
});
