/**
 * Pruned BM25 top-k against the exhaustive top-k on bench:scale's generated corpus: long
 * postings for the common words and the known-answer queries' rare ones, the workload the
 * pruning is for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import { Bm25Searcher, type PruningMode } from '../src/bm25/searcher.js';
import { openDataset } from '../src/data/registry.js';
import { EnglishAnalyzer } from '../src/text/analyzers/english.js';
import { corpusModel, generatedDocument, knownAnswerQueries } from './scale-corpus.js';

const dataDir = process.env.GENIR_DATA_DIR;
const DOCS = 10000;

test(
  'pruned top-k equals the exhaustive top-k bit for bit on the scale corpus (10,000 documents; k 1, 10, 100, 1000)',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const texts: string[] = [];
    for (const id of ['scifact', 'squad-dev']) {
      for await (const doc of (await openDataset({ id, dataDir })).docs())
        texts.push(doc.title === '' ? doc.text : `${doc.title} ${doc.text}`);
    }
    const model = corpusModel(texts);
    const builder = new Bm25IndexBuilder({ analyzer: new EnglishAnalyzer() });
    for (let i = 0; i < DOCS; i++) builder.add(generatedDocument(model, 0, i));
    const data = builder.finish();
    const known = knownAnswerQueries(model, DOCS, 0, 60).map((q) => q.text);
    // A repeated word (a boost) and an unknown word beside the known-answer queries.
    const queries = known.flatMap((text) => [text, `${text} ${text.split(' ')[0]}`, `${text} qqzxvunknownterm`]);
    const exhaustive = new Bm25Searcher(data, {}, undefined, { pruning: 'exhaustive' });
    const pruners = (['always', 'auto'] as PruningMode[]).map((pruning) => new Bm25Searcher(data, {}, undefined, { pruning }));
    for (const k of [1, 10, 100, 1000]) {
      for (const query of queries) {
        const expected = exhaustive.search(query, k);
        for (const pruner of pruners) {
          const hits = pruner.search(query, k);
          const where = `${pruner.pruning}, k ${k}, "${query}"`;
          assert.deepEqual(Array.from(hits.docs), Array.from(expected.docs), where);
          assert.deepEqual(new Uint32Array(hits.scores.buffer), new Uint32Array(expected.scores.buffer), where);
        }
      }
    }
    assert.ok(pruners[0].stats.pruned > queries.length, `always pruned ${pruners[0].stats.pruned}`);
    assert.ok(pruners[1].stats.pruned > 0, `auto pruned ${pruners[1].stats.pruned}`);
    // Pruning scored fewer postings in all.
    assert.ok(pruners[1].stats.postingsScored < exhaustive.stats.postingsScored);
  },
);
