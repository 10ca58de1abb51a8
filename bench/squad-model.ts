/**
 * The model bench:serve and bench:int8 search: the `small` preset randomly initialised (seed 0;
 * latency does not depend on training) with an 8,000-subword tokenizer and PQ docids over
 * squad-dev's 2,067 paragraphs, saved as a model directory whose manifest names squad-dev.
 */
import { join } from 'node:path';
import { openDataset } from '../src/data/registry.js';
import type { Document } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import { t5Config } from '../src/model/config.js';
import { saveModelDirectory } from '../src/retriever/directory.js';
import { T5Model } from '../src/model/t5.js';
import { SubwordTokenizer, trainTokenizer } from '../src/text/tokenizer/index.js';
import { specFromJson } from '../src/text/tokenizer/spec.js';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A random `small` model with PQ docids over squad-dev, saved as a model directory. */
export async function buildSquadModel(dir: string): Promise<{ model: string; queries: string[] }> {
  const dataDir = process.env.GENIR_DATA_DIR;
  if (dataDir === undefined) throw new Error('bench:serve builds its model over squad-dev: set GENIR_DATA_DIR (or give --model <dir>)');
  const dataset = await openDataset({ id: 'squad-dev', dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  const started = performance.now();
  const base = trainTokenizer(
    docs.map((d) => `${d.title}\n${d.text}`),
    { vocabSize: 8000 },
  );
  const docids = await buildDocids(docs, { scheme: 'pq', textVocabSize: base.subwordVocabSize, eosId: base.eosId, seed: 0 });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'bench-serve'), docidCount: docids.layout.docidVocabSize });
  const config = t5Config('small', { vocabSize: tokenizer.subwordVocabSize, docidVocabSize: docids.layout.docidVocabSize, dropoutRate: 0 });
  const model = T5Model.create(config, 0, { threads: 1 });
  try {
    await saveModelDirectory(join(dir, 'model'), {
      model,
      tokenizer,
      docids,
      titles: new Map(docs.map((d) => [d.id, d.title])),
      dataset: { id: 'squad-dev' },
    });
  } finally {
    await model.release();
  }
  log(
    `model: small preset (random, seed 0), ${docids.size} PQ docids ${JSON.stringify(docids.params)}, built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const split = dataset.splits.includes('dev') ? 'dev' : dataset.defaultSplit;
  return { model: join(dir, 'model'), queries: (await dataset.queries(split)).map((q) => q.text) };
}
