/**
 * How long a DDRO epoch takes next to an SFT epoch, on the same model, data and machine.
 *
 *   node --import tsx bench/ddro-epoch.ts --from <sft model dir> [--data-dir <dir>] [--threads 2]
 *        [--cache-dir <dir>] [--order sft,ddro] [--json]
 *
 * SFT epoch: one pass of the training loop over the mixed SFT data of the model's dataset
 * (passage chunks, TF-IDF terms, span pseudo-queries, labelled queries; batch 64), as
 * `genir train sft` builds it. DDRO epoch: one pass over the BM25 triples (every training
 * query × 32 stratified negatives; 64 pairs per update in groups of 8 negatives sharing one
 * encoder pass), as `genir train ddro` trains on them (triples mined first if not cached;
 * that time is reported apart). Both from the same SFT weights, no dev evaluation, updates
 * and checkpointing as in the real runs. With --json the last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { samplePseudoQueries } from '../src/docids/pseudoQueries.js';
import { constantSchedule } from '../src/engine/optim/schedule.js';
import { loadModelDirectory, type LoadedModelDirectory } from '../src/retriever/directory.js';
import { dpoTrainingData, encodeGroups } from '../src/train/methods/rank/data.js';
import { PreferenceModel } from '../src/train/methods/rank/model.js';
import { resolveCacheDir, cacheKey } from '../src/util/cache.js';
import { buildTriples, cachedTriples, tripleSettings } from '../src/train/sources/negatives/triples.js';
import { loadSftCorpus } from '../src/data/training-corpus.js';
import {
  passageChunks,
  tokenizePairs,
  topTfidfTerms,
  type SftSource,
  type SourceExamples,
  type TextPair,
} from '../src/train/methods/sft/examples.js';
import { mixedTrainingData, parseStages } from '../src/train/methods/sft/schedule.js';
import { train, type TrainableModel, type TrainingData } from '../src/train/loop/trainer.js';

function option(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const from = option('--from');
if (from === undefined) throw new Error('--from <sft model dir> is required');
const dataDir = option('--data-dir');
const threads = Number(option('--threads', '2'));
const json = process.argv.includes('--json');
const order = (option('--order', 'sft,ddro') ?? 'sft,ddro').split(',');
const log = (line: string) => process.stderr.write(`${line}\n`);

async function timeEpoch<Plan, Batch>(
  label: string,
  model: TrainableModel<Batch>,
  data: TrainingData<Plan, Batch>,
  updates: number,
): Promise<{ seconds: number; updates: number; perUpdate: number }> {
  const runDir = mkdtempSync(join(tmpdir(), `genir-bench-${label}-`));
  try {
    const result = await train({
      model,
      data,
      totalUpdates: updates,
      schedule: constantSchedule(1e-5, 0),
      seed: 0,
      runDir,
      progress: false,
      clipNorm: label === 'ddro' ? 0.5 : 1,
      label,
    });
    const seconds = result.records.at(-1)!.elapsedS;
    return { seconds, updates: result.update, perUpdate: seconds / result.update };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

async function load(): Promise<LoadedModelDirectory> {
  return loadModelDirectory(from!, { threads });
}

const first = await load();
const manifest = first.manifest;
const corpus = await loadSftCorpus({
  dataset: String(manifest.dataset.id),
  dataDir,
  lang: Array.isArray(manifest.dataset.languages) ? (manifest.dataset.languages as string[]).join(',') : undefined,
  trainSplit: typeof manifest.dataset.trainSplit === 'string' ? manifest.dataset.trainSplit : undefined,
});

// SFT data, as the SFT pipeline builds it (span pseudo-queries).
const { tokenizer, docids, model } = first;
const count = (text: string) => tokenizer.encode(text).length;
const pseudo = await samplePseudoQueries(corpus.docs, { perDoc: 10, seed: 0 });
const keyOfDoc = new Map(corpus.docs.map((d) => [d.id, corpus.keyOf(d)]));
const terms = topTfidfTerms(corpus.docs, 20);
const pairs: Record<SftSource, TextPair[]> = {
  chunks: corpus.docs.flatMap((doc) => passageChunks(doc, count).map((text) => ({ text, key: corpus.keyOf(doc) }))),
  terms: corpus.docs.map((doc, i) => ({ text: terms[i].join(' '), key: corpus.keyOf(doc) })).filter((p) => p.text !== ''),
  pseudo: pseudo.map((q) => ({ text: q.text, key: keyOfDoc.get(q.docId) ?? q.docId })),
  queries: corpus.trainQueries.flatMap((q) => q.keys.map((key) => ({ text: q.text, key }))),
};
const sets = new Map<SftSource, SourceExamples>();
for (const source of Object.keys(pairs) as SftSource[])
  sets.set(
    source,
    tokenizePairs(source, pairs[source], docids, (t) => tokenizer.encode(t), 128),
  );
const tokens = { padId: tokenizer.padId, eosId: tokenizer.eosId, decoderStartId: model.config.decoderStartTokenId, maxSourceLength: 128 };
const sft = mixedTrainingData(sets, parseStages('chunks+terms+pseudo+queries:1')[0], { ...tokens, batchSize: 64, seed: 0 });

// DDRO data: the BM25 triples (from the cache when they exist).
const tripleOptions = { negatives: 'bm25' as const, seed: 0, maxSourceTokens: 128, threads };
const description = {
  kind: 'genir-bench-triples',
  dataset: corpus.datasetId,
  model: manifest.files.find((f) => f.path === 'model.safetensors')?.sha256,
  settings: tripleSettings(tripleOptions),
};
const minedAt = performance.now();
const triples = await cachedTriples(resolveCacheDir(option('--cache-dir')), description, () =>
  buildTriples(
    { docs: corpus.docs, keyOf: corpus.keyOf, queries: corpus.trainQueries, model, tokenizer, docids },
    { ...tripleOptions, log },
  ),
);
const mineSeconds = (performance.now() - minedAt) / 1000;
const ddro = dpoTrainingData(encodeGroups(triples.groups, tokenizer, docids, 128), 8, { ...tokens, seed: 0, groupsPerBatch: 8 });
log(
  `bench: ${corpus.datasetId}, ${docids.size} docids; SFT epoch ${sft.examplesPerEpoch} examples / ${sft.batchesPerEpoch} updates; DDRO epoch ${ddro.pairsPerEpoch} triples / ${ddro.batchesPerEpoch} updates (triples ${triples.hit ? 'cached' : 'mined'} in ${mineSeconds.toFixed(1)} s, key ${cacheKey(description)})`,
);

const results: Record<string, { seconds: number; updates: number; perUpdate: number }> = {};
for (const which of order) {
  const loaded = which === order[0] ? first : await load();
  if (which === 'sft') results.sft = await timeEpoch('sft', loaded.model, sft.data, sft.batchesPerEpoch);
  else if (which === 'ddro')
    results.ddro = await timeEpoch(
      'ddro',
      new PreferenceModel(loaded.model, { rank: { kind: 'dpo', beta: 0.4 }, generationWeight: 0 }, { threads }),
      ddro.data,
      ddro.batchesPerEpoch,
    );
  else throw new Error(`--order: unknown '${which}'`);
  log(
    `bench: ${which} epoch ${results[which].seconds.toFixed(1)} s (${results[which].updates} updates, ${(results[which].perUpdate * 1000).toFixed(0)} ms each)`,
  );
  await loaded.model.release();
}
const summary = {
  dataset: corpus.datasetId,
  model: { dModel: model.config.dModel, layers: model.config.numLayers, parameters: manifest.model.parameters },
  threads,
  sft: { examples: sft.examplesPerEpoch, ...results.sft },
  ddro: {
    triples: ddro.pairsPerEpoch,
    groups: ddro.groupsPerEpoch,
    ...results.ddro,
    tripleMiningSeconds: triples.hit ? null : mineSeconds,
  },
  ratio: results.sft && results.ddro ? results.ddro.seconds / results.sft.seconds : null,
};
process.stdout.write(`DDRO epoch / SFT epoch: ${summary.ratio?.toFixed(2) ?? '-'}\n`);
if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
