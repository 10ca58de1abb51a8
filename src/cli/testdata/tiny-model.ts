/**
 * A tiny untrained model directory and its BEIR dataset, for CLI tests that need a real model
 * (ONNX graphs, tokenizer, docid trie) but not a trained one: seconds to build, milliseconds to search.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDocids } from '../../docids/build.js';
import { t5Config } from '../../model/config.js';
import { saveModelDirectory } from '../../retriever/directory.js';
import { T5Model } from '../../model/t5.js';
import { SubwordTokenizer } from '../../text/tokenizer/index.js';
import { specFromJson } from '../../text/tokenizer/spec.js';

export const TINY_CORPUS = [
  { id: 'd1', title: 'Alpine rivers', text: 'Rivers in the Alps carry melt water from glaciers to the lowlands.' },
  { id: 'd2', title: 'Desert plants', text: 'Cacti store water in thick stems and survive long droughts.' },
  { id: 'd3', title: 'Ocean tides', text: 'The moon pulls the oceans and makes the tides rise and fall.' },
  { id: 'd4', title: 'Forest birds', text: 'Woodpeckers drum on trees to find insects under the bark.' },
];

export const TINY_QUERIES = [
  { _id: 'q1', text: 'where does glacier melt water go' },
  { _id: 'q2', text: 'why do tides rise' },
];

/** Writes the corpus as a BEIR folder (`<dir>`, test split; `titles: false` leaves them empty) and returns its path. */
export function writeTinyDataset(dir: string, options: { titles?: boolean } = {}): string {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), TINY_CORPUS.map((d) => JSON.stringify({ _id: d.id, title: options.titles === false ? '' : d.title, text: d.text })).join('\n') + '\n');
  writeFileSync(join(dir, 'queries.jsonl'), TINY_QUERIES.map((q) => JSON.stringify(q)).join('\n') + '\n');
  writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n');
  return dir;
}

/** Writes a randomly initialised one-layer model with atomic docids over TINY_CORPUS to `dir`. */
/**
 * `dataset` goes into the manifest: a BEIR folder's path there lets BM25 and snippets find the
 * corpus. `titles: false` saves empty titles, as for a corpus without them (MED).
 */
export async function writeTinyModel(dir: string, dataset: Record<string, unknown> = { id: 'tiny' }, options: { titles?: boolean } = {}): Promise<string> {
  const base = SubwordTokenizer.train(TINY_CORPUS.map((d) => `${d.title} ${d.text}`), { vocabSize: 300 });
  const docids = await buildDocids(TINY_CORPUS, { scheme: 'atomic', textVocabSize: base.subwordVocabSize, eosId: base.eosId });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'tiny-model'), docidCount: docids.layout.docidVocabSize });
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize, docidVocabSize: docids.layout.docidVocabSize, dModel: 16, dKv: 4, numHeads: 4, dFf: 32, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0,
  });
  const model = T5Model.create(config, 3, { threads: 1 });
  try {
    await saveModelDirectory(dir, { model, tokenizer, docids, titles: new Map(TINY_CORPUS.map((d) => [d.id, options.titles === false ? '' : d.title])), dataset });
  } finally {
    await model.release();
  }
  return dir;
}
