import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDataset } from '../data/registry.js';
import { evaluateRun } from '../eval/metrics.js';
import { EnglishAnalyzer } from '../text/analyzers/english.js';
import { Bm25Index } from './bm25-index.js';

const dataDir = process.env.GENIR_DATA_DIR;

test('SciFact BM25 matches Anserini (nDCG@10 0.6789, R@100 0.9253)', { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' }, async () => {
  const dataset = await openDataset({ id: 'scifact', dataDir });
  const index = await Bm25Index.build(dataset.docs(), { analyzer: new EnglishAnalyzer(), progress: false });
  assert.equal(index.documentCount, 5183);
  const queries = await dataset.queries('test');
  const hits = await index.searchBatch(queries, 1000, { threads: 1 });
  const { mean } = evaluateRun(index.toRun(queries, hits), await dataset.qrels('test'), ['nDCG@10', 'R@100']);
  assert.ok(Math.abs(mean['nDCG@10'] - 0.679) <= 0.005, `nDCG@10 ${mean['nDCG@10']}`);
  assert.ok(Math.abs(mean['R@100'] - 0.925) <= 0.01, `R@100 ${mean['R@100']}`);
});
