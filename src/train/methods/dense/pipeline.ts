/**
 * `genir train dense` as a library call: dataset → tokenizer → training pairs (labelled
 * queries with BM25 hard negatives, inverse-cloze and crop pairs from the corpus) → InfoNCE
 * training of the dual encoder → every document encoded → a dense model directory.
 *
 * The tokenizer is trained on exactly the texts `genir train sft` trains its tokenizer on
 * (documents and training queries, same vocabulary size), so a seq2seq model of the same
 * corpus shares its subwords, and RIPOR's initialisation can copy the encoder across.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { linearSchedule } from '../../../engine/optim/schedule.js';
import { t5Config, type T5Config, type T5Preset } from '../../../model/config.js';
import { DENSE_MARKER_COUNT, DenseModel, passageText, type DenseSettings } from '../../../model/dense.js';
import { saveDenseModelDirectory, type DenseManifest } from '../../../retriever/dense-directory.js';
import { encoderParameterSpecs } from '../../../model/dense-graph.js';
import { SubwordTokenizer, trainTokenizer } from '../../../text/tokenizer/index.js';
import { UserError } from '../../../util/errors.js';
import { appendAll } from '../../../util/arrays.js';
import type { Document } from '../../../data/types.js';
import { bm25KeyRankings } from '../../sources/negatives/bm25.js';
import { loadSftCorpus, type SftCorpus } from '../../../data/training-corpus.js';
import { withDocidTokens } from '../sft/pipeline.js';
import { peakRssMb } from '../sft/report.js';
import { train, type TrainResult } from '../../loop/trainer.js';
import { LossLog } from '../../loop/loss-log.js';
import { claimOutput } from '../../loop/pipeline.js';
import { denseTrainingData, syntheticPairs, tokenizePairs, type DensePair, type PassageText } from './data.js';
import type { DenseTemperature } from '../../../model/dense-train-graph.js';
import { DENSE_DEFAULTS } from './defaults.js';
import { applyLsaRows, lsaTokenEmbeddings, type EmbeddingInit } from './embedding-init.js';

export interface DenseTrainingOptions {
  dataset: string;
  dataDir?: string;
  /** XQuAD languages: `all` (default), `en`, `en,de`. */
  lang?: string;
  trainSplit?: string;
  model: T5Preset;
  modelOverrides?: Partial<T5Config>;
  out: string;
  /** Subword vocabulary (default 8000, as SFT). */
  vocabSize?: number;
  /** Peak learning rate (default 3e-3) with linear warm-up and decay. */
  lr?: number;
  /** Pairs per update (default 64). */
  batchSize?: number;
  epochs?: number;
  /** Updates to train (instead of epochs; the schedule decays over them). 0 saves the initial encoder untrained. */
  updates?: number;
  /** Token embeddings: random, or from the corpus's LSA (embedding-init.ts). */
  embeddingInit?: EmbeddingInit;
  warmupSteps?: number;
  /** Default: fixed 0.05. */
  temperature?: DenseTemperature;
  /** BM25 negatives per labelled query in each batch (default 1; 0: in-batch negatives only). */
  hardNegatives?: number;
  /** Negatives are drawn from BM25's top this many non-relevant keys (default 30). */
  negativeDepth?: number;
  /** A labelled query whose relevant document is not in BM25's top this many is dropped (default 200). */
  bm25Depth?: number;
  /** Inverse-cloze pairs per document (default 1). */
  ictPerDoc?: number;
  /** Two-crop pairs per document (default 1). */
  cropsPerDoc?: number;
  maxQueryTokens?: number;
  maxPassageTokens?: number;
  /** Training-time budget in minutes: the learning rate decays to 0 when it runs out, and training stops. */
  budgetMinutes?: number;
  seed?: number;
  threads?: number;
  spinning?: boolean;
  overwrite?: boolean;
  onnx?: boolean;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface DenseTrainingReport {
  dataset: string;
  languages: string[] | null;
  documents: number;
  pairs: { labelled: number; droppedNotInBm25: number; ict: number; crop: number };
  model: { preset: T5Preset; parameters: number; dModel: number };
  temperature: { kind: 'fixed' | 'learned'; final: number };
  hardNegatives: number;
  embeddingInit: EmbeddingInit;
  updates: number;
  epochs: number;
  finalLoss: number | null;
  finalAccuracy: number | null;
  trainingSeconds: number;
  encodeSeconds: number;
  wallSeconds: number;
  peakRssMb: number;
}

export interface DenseTrainingResult {
  dir: string;
  manifest: DenseManifest;
  report: DenseTrainingReport;
}

/**
 * The token lists the LSA initialisation factorises: whole documents, not the truncated training
 * passages, so every word of the corpus gets its co-occurrences. In a grouped (pooled
 * multilingual) corpus, a paragraph and its translations are one column, so words that translate
 * each other co-occur and start close (cross-language LSI).
 */
export function lsaDocuments(corpus: SftCorpus, encode: (doc: Document) => ArrayLike<number>): ArrayLike<number>[] {
  if (!corpus.grouped) return corpus.docs.map(encode);
  const columns = new Map<string, number[]>();
  for (const doc of corpus.docs) {
    const key = corpus.keyOf(doc);
    const column = columns.get(key);
    if (column) appendAll(column, Array.from(encode(doc)));
    else columns.set(key, Array.from(encode(doc)));
  }
  return [...columns.values()];
}

/** The texts genir train sft trains its tokenizer on, in the same order. */
export function tokenizerTexts(corpus: SftCorpus): string[] {
  return [...corpus.docs.map((d) => `${d.title}\n${d.text}`), ...corpus.trainQueries.map((q) => q.text)];
}

/**
 * Labelled and synthetic pairs over the corpus; passage i < docs.length is document i. A
 * labelled query whose relevant documents BM25 does not retrieve in its top `bm25Depth` is
 * dropped, and its hard negatives are BM25's best non-relevant documents (Tevatron's recipe).
 */
export async function denseTrainingPairs(
  corpus: SftCorpus,
  options: Pick<DenseTrainingOptions, 'bm25Depth' | 'negativeDepth' | 'ictPerDoc' | 'cropsPerDoc' | 'threads'>,
  seed: number,
  log: (line: string) => void = () => undefined,
): Promise<{ pairs: DensePair[]; passages: PassageText[]; dropped: number }> {
  const passages: PassageText[] = corpus.docs.map((doc) => ({ key: corpus.keyOf(doc), text: passageText(doc) }));
  const docsOfKey = new Map<string, number[]>();
  corpus.docs.forEach((doc, i) => {
    const key = corpus.keyOf(doc);
    const list = docsOfKey.get(key);
    if (list) list.push(i);
    else docsOfKey.set(key, [i]);
  });
  /** The document of `key` in `lang` (else the English one, else the first). */
  const docOf = (key: string, lang: string | undefined): number | undefined => {
    const list = docsOfKey.get(key);
    if (!list) return undefined;
    return list.find((i) => corpus.docs[i].lang === lang) ?? list.find((i) => corpus.docs[i].lang === 'en') ?? list[0];
  };
  const pairs: DensePair[] = [];
  let dropped = 0;
  const queries = corpus.trainQueries.filter((q) => q.keys.some((key) => docsOfKey.has(key)));
  if (queries.length > 0) {
    const depth = options.bm25Depth ?? DENSE_DEFAULTS.bm25Depth;
    const negativeDepth = options.negativeDepth ?? DENSE_DEFAULTS.negativeDepth;
    log(`dense: BM25 rankings (top ${depth}) of ${queries.length} labelled training queries`);
    const rankings = await bm25KeyRankings(corpus.docs, corpus.keyOf, queries, { depth, seed, threads: options.threads, fill: false });
    queries.forEach((query, qi) => {
      const relevant = new Set(query.keys);
      const ranking = rankings[qi];
      if (!ranking.some((key) => relevant.has(key))) {
        dropped++;
        return;
      }
      const negatives = ranking
        .filter((key) => !relevant.has(key))
        .slice(0, negativeDepth)
        .map((key) => docOf(key, query.lang)!);
      for (const key of query.keys) {
        const own = docOf(key, query.lang);
        if (own === undefined) continue;
        // In a pooled multilingual corpus the English paragraph is a positive too: one space for all languages.
        const english = corpus.grouped ? docOf(key, 'en') : undefined;
        pairs.push({
          query: query.text,
          positives: english !== undefined && english !== own ? [own, english] : [own],
          relevantKeys: query.keys,
          negatives,
          source: 'labelled',
        });
      }
    });
  }
  const synthetic = {
    ictPerDoc: options.ictPerDoc ?? DENSE_DEFAULTS.ictPerDoc,
    cropsPerDoc: options.cropsPerDoc ?? DENSE_DEFAULTS.cropsPerDoc,
    seed,
  };
  if (synthetic.ictPerDoc > 0 || synthetic.cropsPerDoc > 0) {
    const passageOf = (passage: PassageText): number => passages.push(passage) - 1;
    corpus.docs.forEach((doc) => {
      const key = corpus.keyOf(doc);
      const translations = corpus.grouped ? (docsOfKey.get(key) ?? []).map((i) => corpus.docs[i]).filter((d) => d !== doc) : [];
      pairs.push(...syntheticPairs(doc, key, passageOf, synthetic, translations));
    });
  }
  return { pairs, passages, dropped };
}

export async function runDenseTraining(options: DenseTrainingOptions): Promise<DenseTrainingResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const out = resolve(options.out);
  const work = `${out}.training`;
  const seed = options.seed ?? DENSE_DEFAULTS.seed;
  claimOutput({ out, work, overwrite: options.overwrite, resumable: false, label: 'dense', log });
  const settings: DenseSettings = {
    temperature: options.temperature ?? DENSE_DEFAULTS.temperature,
    maxQueryTokens: options.maxQueryTokens ?? DENSE_DEFAULTS.maxQueryTokens,
    maxPassageTokens: options.maxPassageTokens ?? DENSE_DEFAULTS.maxPassageTokens,
  };
  if (settings.maxQueryTokens < 3 || settings.maxPassageTokens < 3)
    throw new UserError('dense: queries and passages need room for at least 3 tokens (marker, a token, EOS)');

  const corpus = await loadSftCorpus({
    dataset: options.dataset,
    dataDir: options.dataDir,
    lang: options.lang,
    trainSplit: options.trainSplit,
  });
  log(
    `dense: ${corpus.datasetId}${corpus.languages ? ` (${corpus.languages.join(',')})` : ''}: ${corpus.docs.length} documents, ${corpus.trainQueries.length} labelled training queries`,
  );
  const textTokenizer = trainTokenizer(tokenizerTexts(corpus), { vocabSize: options.vocabSize ?? DENSE_DEFAULTS.vocabSize });
  const tokenizer: SubwordTokenizer = withDocidTokens(textTokenizer, DENSE_MARKER_COUNT);
  const { pairs, passages, dropped } = await denseTrainingPairs(corpus, options, seed, log);
  const counts = {
    labelled: pairs.filter((p) => p.source === 'labelled').length,
    droppedNotInBm25: dropped,
    ict: pairs.filter((p) => p.source === 'ict').length,
    crop: pairs.filter((p) => p.source === 'crop').length,
  };
  if (pairs.length === 0)
    throw new UserError(`dataset ${corpus.datasetId}: no training pairs (no labelled queries and no synthetic pairs)`);
  log(
    `dense: ${pairs.length} pairs (labelled ${counts.labelled}, dropped ${dropped} not in BM25's top ${options.bm25Depth ?? DENSE_DEFAULTS.bm25Depth}; inverse cloze ${counts.ict}; crops ${counts.crop})`,
  );

  const config = t5Config(options.model, {
    ...options.modelOverrides,
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: DENSE_MARKER_COUNT,
  });
  const model = DenseModel.create(config, settings, seed, { threads: options.threads, spinning: options.spinning ?? false });
  const tokenized = tokenizePairs(pairs, passages, tokenizer, {
    query: (t, text) => model.queryTokens(t, text),
    passage: (t, text) => model.passageTokens(t, text),
  });
  const batchSize = Math.min(options.batchSize ?? DENSE_DEFAULTS.batchSize, pairs.length);
  const hardNegatives = options.hardNegatives ?? DENSE_DEFAULTS.hardNegatives;
  const data = denseTrainingData(tokenized, { batchSize, hardNegatives, seed, padId: tokenizer.padId });
  const epochs = options.epochs ?? DENSE_DEFAULTS.epochs;
  if (options.updates !== undefined && !(Number.isInteger(options.updates) && options.updates >= 0))
    throw new UserError(`dense: updates must be an integer >= 0, got ${options.updates}`);
  const totalUpdates = options.updates ?? Math.max(1, Math.ceil(epochs * data.batchesPerEpoch));
  const lr = options.lr ?? DENSE_DEFAULTS.lr;
  const warmup = Math.min(options.warmupSteps ?? Math.min(100, Math.ceil(totalUpdates * 0.05)), totalUpdates);
  const parameters = encoderParameterSpecs(config).reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  log(
    `dense: model ${options.model} encoder (${(parameters / 1e6).toFixed(2)}M parameters), temperature ${settings.temperature.kind === 'fixed' ? `fixed ${settings.temperature.value}` : `learned from ${settings.temperature.initial}`}; ${totalUpdates} updates (${options.updates === undefined ? `${epochs} epochs` : `${(totalUpdates / data.batchesPerEpoch).toFixed(2)} epochs`} of ${data.batchesPerEpoch} batches of ${batchSize} pairs (+${hardNegatives} BM25 negative${hardNegatives === 1 ? '' : 's'} per labelled query))`,
  );
  const embeddingInit = options.embeddingInit ?? DENSE_DEFAULTS.embeddingInit;
  if (embeddingInit === 'lsa') {
    const lsaStart = performance.now();
    const embedding = model.parameters.find((p) => p.name === 'shared.weight')!;
    const spec = encoderParameterSpecs(config).find((p) => p.name === 'shared.weight')!;
    const std = spec.init.kind === 'normal' ? spec.init.std : 1;
    const documents = lsaDocuments(corpus, (doc) => tokenizer.encode(passageText(doc)));
    const lsa = lsaTokenEmbeddings(documents, { vocabRows: embedding.shape[0], dims: config.dModel, std, seed });
    const replaced = applyLsaRows(embedding.data, lsa, config.dModel);
    log(
      `dense: token embeddings from the corpus's LSA (${replaced} of ${embedding.shape[0]} tokens, rank ${lsa.singularValues.length}) in ${((performance.now() - lsaStart) / 1000).toFixed(1)} s`,
    );
  }
  const baseSchedule = linearSchedule({ peak: lr, warmupSteps: warmup, totalSteps: totalUpdates });
  const budgetSeconds = options.budgetMinutes === undefined ? Infinity : options.budgetMinutes * 60;
  let spent = 0;
  // With a budget the decay also follows the time spent, so the rate reaches 0 when it runs out.
  const schedule = (update: number): number => {
    const rate = baseSchedule(update);
    if (!Number.isFinite(budgetSeconds) || update <= warmup) return rate;
    return Math.min(rate, lr * Math.max(0, 1 - spent / budgetSeconds));
  };
  // Written by the update callback: an object, so the compiler does not narrow it to its initial null.
  const tracked: { accuracy: number | null } = { accuracy: null };
  const trainingStart = performance.now();
  let result: Pick<TrainResult, 'records' | 'update' | 'stopped'>;
  try {
    if (totalUpdates === 0) {
      // The initial encoder as it is: what the initialisation alone retrieves.
      mkdirSync(work, { recursive: true });
      LossLog.create(join(work, 'loss.csv'));
      result = { records: [], update: 0, stopped: false };
    } else
      result = await train({
        model,
        data,
        totalUpdates,
        schedule,
        seed,
        runDir: work,
        progress: options.progress,
        label: 'dense',
        onUpdate: (record) => {
          spent = record.elapsedS;
          tracked.accuracy = model.lastAccuracy;
          return spent >= budgetSeconds ? 'stop' : undefined;
        },
      });
  } catch (err) {
    await model.release();
    throw err;
  }
  const trainingSeconds = (performance.now() - trainingStart) / 1000;
  if (result.stopped) log(`dense: training budget spent after ${result.update} of ${totalUpdates} updates`);
  const last = result.records[result.records.length - 1];
  log(
    `dense: ${result.update} updates in ${trainingSeconds.toFixed(1)} s, final loss ${last?.loss.toFixed(4) ?? '-'}, in-batch accuracy ${tracked.accuracy === null ? '-' : tracked.accuracy.toFixed(3)}, temperature ${model.temperature().toFixed(4)}`,
  );

  const encodeStart = performance.now();
  const vectors = await model.encode(tokenized.passages.slice(0, corpus.docs.length));
  const encodeSeconds = (performance.now() - encodeStart) / 1000;
  log(`dense: encoded ${corpus.docs.length} documents in ${encodeSeconds.toFixed(1)} s`);
  const report: DenseTrainingReport = {
    dataset: corpus.datasetId,
    languages: corpus.languages ?? null,
    documents: corpus.docs.length,
    pairs: counts,
    model: { preset: options.model, parameters, dModel: config.dModel },
    temperature: { kind: settings.temperature.kind, final: model.temperature() },
    hardNegatives,
    embeddingInit,
    updates: result.update,
    epochs: result.update / data.batchesPerEpoch,
    finalLoss: last?.loss ?? null,
    finalAccuracy: tracked.accuracy,
    trainingSeconds,
    encodeSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssMb: peakRssMb(),
  };
  const manifest = await saveDenseModelDirectory(out, {
    model,
    tokenizer,
    ids: corpus.docs.map((d) => d.id),
    titles: corpus.docs.map((d) => d.title ?? ''),
    vectors,
    dataset: {
      id: corpus.datasetId,
      languages: corpus.languages ?? null,
      trainSplit: corpus.trainSplit ?? null,
      documents: corpus.docs.length,
    },
    onnx: options.onnx,
    extraFiles: [
      { path: 'report.json', data: `${JSON.stringify(report, null, 2)}\n` },
      { path: 'loss.csv', data: readFileSync(join(work, 'loss.csv')) },
    ],
    extra: { report: 'report.json', embeddingInit },
  });
  await model.release();
  rmSync(work, { recursive: true, force: true });
  log(`dense: model saved to ${out} (${report.wallSeconds.toFixed(1)} s, peak RSS ${report.peakRssMb.toFixed(0)} MB)`);
  return { dir: out, manifest, report };
}
