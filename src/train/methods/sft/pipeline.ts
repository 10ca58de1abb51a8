/**
 * `genir train sft` as a library call: dataset → tokenizer → docids → pseudo-queries →
 * SFT stages → a self-contained model directory with a run report.
 *
 * While training, everything resumable lives in a work directory beside the output
 * (`<out>.training/`): the tokenizer and docids (so a resumed run uses exactly the same),
 * the doc2query run and one trainer run per stage with its checkpoints. When the model
 * directory has been saved the work directory is removed (unless `keepWork`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Document } from '../../../data/types.js';
import { buildDocids, type EmbeddingSource } from '../../../docids/build.js';
import { encodeNpy, parseNpy } from '../../../docids/embeddings.js';
import { loadDocidsSync, saveDocidsSync } from '../../../docids/io.js';
import { holdOutSentences, samplePseudoQueries, type SentenceHoldOut } from '../../../docids/pseudoQueries.js';
import type { DocidScheme, DocidTable } from '../../../docids/table.js';
import { checkDevice, type Device } from '../../../engine/device.js';
import { linearSchedule } from '../../../engine/optim/schedule.js';
import { parameterCount, t5Config, type T5Config, type T5Preset } from '../../../model/config.js';
import { saveModelDirectory, type ModelManifest } from '../../../retriever/directory.js';
import type { LoadedDenseDirectory } from '../../../retriever/dense-directory.js';
import { checkpointLabel, parametersOf, readHfCheckpoint, withDocidRows, type HfCheckpoint } from '../../../model/hf-import.js';
import { T5Model } from '../../../model/t5.js';
import { SubwordTokenizer, trainTokenizer, vocabSizeLimits } from '../../../text/tokenizer/index.js';
import { appendAll } from '../../../util/arrays.js';
import { writeFileAtomicSync } from '../../../util/atomic.js';
import { UserError, where } from '../../../util/errors.js';
import { onExitCleanup, sweepStaleTemporaries, TEMPORARY_NAME } from '../../../util/temporaries.js';
import { holdsAnyCheckpoint } from '../../loop/checkpoints.js';
import { cachedStage, claimOutput, PipelineRun, type Stage } from '../../loop/pipeline.js';
import type { LossRecord } from '../../loop/loss-log.js';
import { train } from '../../loop/trainer.js';
import { DevTracker, loadDevQueries, sampleDevQueries } from '../../loop/dev-eval.js';
import { resolveCacheDir, textsDigest } from '../../../util/cache.js';
import {
  cachedPseudoQueries,
  sampleQueries,
  trainDoc2Query,
  type Doc2QueryPair,
  type SampledQuery,
} from '../../sources/doc2query/doc2query.js';
import { loadSftCorpus, type SftCorpus } from '../../../data/training-corpus.js';
import { passageChunks, tokenizePairs, topTfidfTerms, type SftSource, type SourceExamples, type TextPair } from './examples.js';
import { denseKeyVectors, openDenseEmbeddings, RIPOR_PARTS, riporInitialise, type RiporInitReport, type RiporPart } from './ripor.js';
import { bm25LexicalInitialise, type LexicalInit, type LexicalInitReport } from './lexical-init.js';
import { buildRunReport, type StageReport, type SftRunReport } from './report.js';
import { formatStages, mixedTrainingData, parseStages, type SftStage } from './schedule.js';

/**
 * Where pseudo-queries come from: the in-house doc2query model, spans of the document (`spans`:
 * whole sentences or random word runs, half each; `sentences`: whole sentences only, inverse-cloze
 * style; `words`: random word runs only), or `both` (doc2query and `spans`).
 */
export type PseudoQueryMethod = 'doc2query' | 'spans' | 'sentences' | 'words' | 'both';
export const PSEUDO_QUERY_METHODS: readonly PseudoQueryMethod[] = ['doc2query', 'spans', 'sentences', 'words', 'both'];

/** The share of span draws that are whole sentences, per span-based method. */
const SENTENCE_PROBABILITY: Partial<Record<PseudoQueryMethod | 'none', number>> = { spans: 0.5, both: 0.5, sentences: 1, words: 0 };

export interface Doc2QuerySettings {
  model: T5Preset;
  overrides?: Partial<T5Config>;
  epochs: number;
  lr: number;
  batchSize: number;
}

export interface SftOptions {
  dataset: string;
  dataDir?: string;
  /** XQuAD languages: `all` (default), `en`, `en,de`. */
  lang?: string;
  trainSplit?: string;
  docids: DocidScheme;
  /** Embeddings for pq/rq/semantic docids (default: built-in LSA). */
  embeddings?: EmbeddingSource;
  /** A dense model directory (genir train dense) whose document vectors the pq/rq/semantic docids quantize (instead of `embeddings`). */
  denseEmbeddings?: string;
  /**
   * RIPOR's initialisation (rq docids from `denseEmbeddings`): docid-token vectors from the
   * codebooks' centroids and the encoder from the dense model (see ripor.ts).
   */
  riporInit?: boolean;
  /** Which halves of RIPOR's initialisation `riporInit` applies (default both: `tokens` and `encoder`). */
  riporParts?: readonly RiporPart[];
  /**
   * pq / rq code shape: `levels` tokens per docid before disambiguation (pq's sub-vectors M, rq's
   * levels) and `k` codes per position (default: defaultPqM / defaultPqK of the corpus size).
   */
  docidCodes?: { levels?: number; k?: number };
  /**
   * How a new lexical head starts (modelOverrides.lexicalHead): `zeros` (default), or `bm25`,
   * the corpus's BM25 weights over the model's subwords (see lexical-init.ts).
   */
  lexicalInit?: LexicalInit;
  model: T5Preset;
  /** Changes to the preset (dModel, dFf, layers, dropoutRate…); with `init`, only dropoutRate. */
  modelOverrides?: Partial<T5Config>;
  /**
   * A pre-trained Hugging Face T5 / Flan-T5 / mT5 directory (or `genir import hf` output) to
   * start from: its config, weights and tokenizer replace `model` and the trained tokenizer,
   * and the embedding (and untied head) get one new row per docid token.
   */
  init?: string;
  out: string;
  stages?: readonly SftStage[];
  /** Subword vocabulary of the tokenizer trained on the corpus (default 8000). */
  vocabSize?: number;
  /** Peak learning rate of every stage (default 1e-3, DDRO's). */
  lr?: number;
  batchSize?: number;
  /** Warm-up updates per stage (default: 5 % of the stage, at most 100). */
  warmupSteps?: number;
  /** Label smoothing ε of the token cross-entropy (default 0). */
  labelSmoothing?: number;
  seed?: number;
  /** Passage chunks: tokens per chunk (127) and chunks per document (10), as DDRO. */
  chunkTokens?: number;
  maxChunks?: number;
  /** Words per TF-IDF term list (20). */
  termCount?: number;
  /** Source tokens kept per example (default 128). */
  maxSourceTokens?: number;
  /** Default: spans (SFT_DEFAULTS.pseudo). */
  pseudo?: PseudoQueryMethod;
  pseudoPerDoc?: number;
  /**
   * Inverse-cloze hold-out of span pseudo-queries (default none): `keep` samples them only from
   * half of each document's sentences, `remove` also drops those sentences from the text the
   * model indexes (the BM25 prior, passage chunks and term lists).
   */
  sentenceHoldOut?: SentenceHoldOut;
  pseudoTopK?: number;
  pseudoMaxTokens?: number;
  doc2query?: Partial<Doc2QuerySettings>;
  cacheDir?: string;
  resume?: boolean;
  /** Replace an existing model directory at `out`. */
  overwrite?: boolean;
  keepWork?: boolean;
  /** Export ONNX inference graphs into the model directory (default true). */
  onnx?: boolean;
  threads?: number;
  /** Where ORT runs the SFT stages (default cpu; doc2query always runs on cpu). */
  device?: Device;
  /**
   * Whether idle ORT threads busy-wait (default false: on a shared 2-core machine a training
   * step was 25–40 % faster without spinning).
   */
  spinning?: boolean;
  /**
   * Evaluate a seeded sample of the dev split every this many updates (0 or undefined: never),
   * write the learning curve (dev.csv, dev.svg) and save the weights of the best evaluation.
   */
  evalEvery?: number;
  /** Split evaluated during training (default `dev`). */
  devSplit?: string;
  /** Dev queries per evaluation (a seeded sample; default 500, 0 = all). */
  devQueries?: number;
  /** Beam width of the dev evaluations (default 10). */
  evalBeam?: number;
  /** Stop after this many evaluations without a better dev RR@10 (default 0: never stop early). */
  patience?: number;
  /**
   * Training-time budget in minutes over all stages (evaluation excluded). The learning rate
   * then decays linearly to zero at whichever comes first, the stage's last update or the
   * end of the budget (budgeted training), and training stops when the budget is spent.
   */
  budgetMinutes?: number;
  checkpointEvery?: number;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface SftResult {
  dir: string;
  manifest: ModelManifest;
  report: SftRunReport;
}

export const DEFAULT_DOC2QUERY: Doc2QuerySettings = { model: 'tiny', epochs: 20, lr: 3e-3, batchSize: 32 };

/**
 * SFT's defaults, defined once (runSft, `genir train sft` and the recipes read them from here):
 * the best measured recipe (docs/results.md, "What the recipe's parts are worth"): atomic docids with
 * the BM25 prior (`defaultLexicalInit`), one epoch of word-run pseudo-queries and training questions.
 * DDRO's own schedule is `DDRO_STAGES` (`--stages chunks+terms:10,pseudo:20,queries:10`).
 */
export const SFT_DEFAULTS = {
  docids: 'atomic',
  model: 'tiny',
  stages: 'pseudo+queries:1',
  pseudo: 'words',
  vocabSize: 8000,
  lr: 1e-3,
  batchSize: 64,
  labelSmoothing: 0,
  seed: 0,
  chunkTokens: 127,
  maxChunks: 10,
  termCount: 20,
  maxSourceTokens: 128,
  pseudoPerDoc: 20,
  pseudoTopK: 10,
  pseudoMaxTokens: 32,
  doc2query: DEFAULT_DOC2QUERY,
  checkpointEvery: 500,
  evalEvery: 0,
  devSplit: 'dev',
  devQueries: 500,
  evalBeam: 10,
  patience: 0,
} as const;

/** The options that decide the trained model; a resumed run must use the same. */
function resolvedSettings(options: SftOptions, stages: readonly SftStage[], pseudo: PseudoQueryMethod | 'none') {
  return {
    dataset: options.dataset,
    lang: options.lang ?? null,
    trainSplit: options.trainSplit ?? null,
    docids: options.docids,
    embeddings: options.embeddings ?? null,
    denseEmbeddings: options.denseEmbeddings ?? null,
    riporInit: options.riporInit ?? false,
    // Only when given, so that runs from before these options keep their settings (and can resume).
    ...(options.riporInit && options.riporParts !== undefined ? { riporParts: [...options.riporParts] } : {}),
    ...(options.docidCodes !== undefined ? { docidCodes: options.docidCodes } : {}),
    lexicalInit: options.lexicalInit ?? 'zeros',
    model: options.init === undefined ? options.model : checkpointLabel(options.init),
    init: options.init === undefined ? null : resolve(options.init),
    modelOverrides: options.modelOverrides ?? {},
    stages: formatStages(stages),
    vocabSize: options.vocabSize ?? SFT_DEFAULTS.vocabSize,
    lr: options.lr ?? SFT_DEFAULTS.lr,
    batchSize: options.batchSize ?? SFT_DEFAULTS.batchSize,
    warmupSteps: options.warmupSteps ?? null,
    labelSmoothing: options.labelSmoothing ?? SFT_DEFAULTS.labelSmoothing,
    seed: options.seed ?? SFT_DEFAULTS.seed,
    chunkTokens: options.chunkTokens ?? SFT_DEFAULTS.chunkTokens,
    maxChunks: options.maxChunks ?? SFT_DEFAULTS.maxChunks,
    termCount: options.termCount ?? SFT_DEFAULTS.termCount,
    maxSourceTokens: options.maxSourceTokens ?? SFT_DEFAULTS.maxSourceTokens,
    pseudo,
    pseudoPerDoc: options.pseudoPerDoc ?? SFT_DEFAULTS.pseudoPerDoc,
    sentenceHoldOut: options.sentenceHoldOut ?? 'none',
    pseudoTopK: options.pseudoTopK ?? SFT_DEFAULTS.pseudoTopK,
    pseudoMaxTokens: options.pseudoMaxTokens ?? SFT_DEFAULTS.pseudoMaxTokens,
    doc2query: { ...SFT_DEFAULTS.doc2query, ...options.doc2query },
    budgetMinutes: options.budgetMinutes ?? null,
  };
}

export type SftSettings = ReturnType<typeof resolvedSettings>;

/** The corpus the model indexes: with `--sentence-hold-out remove`, each document without its held-out sentences. */
function indexedCorpus(corpus: SftCorpus, settings: SftSettings): SftCorpus {
  if (settings.sentenceHoldOut !== 'remove') return corpus;
  // A copy keeps the fields keyOf reads (id, relevanceId).
  return { ...corpus, docs: corpus.docs.map((doc) => ({ ...doc, text: holdOutSentences(doc, settings.seed).indexed })) };
}

/** The tokenizer with `count` docid tokens after its subwords (same vocabulary and merges). */
export function withDocidTokens(tokenizer: SubwordTokenizer, count: number): SubwordTokenizer {
  return tokenizer.withDocidTokens(count);
}

function representativeTitles(corpus: SftCorpus, docids: DocidTable): Map<string, string> {
  const titles = new Map<string, string>();
  for (const doc of corpus.docs) {
    const key = corpus.keyOf(doc);
    if (!titles.has(key) || doc.lang === 'en') titles.set(key, doc.title);
  }
  for (const key of docids.keys) if (!titles.has(key)) titles.set(key, key);
  return new Map(docids.keys.map((key) => [key, titles.get(key)!]));
}

/** (document in the query's language, query) pairs for doc2query training. */
export function doc2queryPairs(corpus: SftCorpus): Doc2QueryPair[] {
  const byKeyLang = new Map<string, Document>();
  for (const doc of corpus.docs) byKeyLang.set(`${corpus.keyOf(doc)}\u0000${doc.lang ?? ''}`, doc);
  const pairs: Doc2QueryPair[] = [];
  for (const query of corpus.trainQueries) {
    for (const key of query.keys) {
      const doc = byKeyLang.get(`${key}\u0000${query.lang ?? ''}`) ?? byKeyLang.get(`${key}\u0000${corpus.docs[0]?.lang ?? ''}`);
      if (doc) pairs.push({ document: doc.text, query: query.text });
    }
  }
  return pairs;
}

/** The subword tokenizer SFT trains on a corpus: every document's title and text, and the labelled training queries. */
export function trainSftTokenizer(corpus: SftCorpus, vocabSize: number): SubwordTokenizer {
  return trainTokenizer([...corpus.docs.map((d) => `${d.title}\n${d.text}`), ...corpus.trainQueries.map((q) => q.text)], { vocabSize });
}

/** How the indexing sources cut documents (SftOptions' chunkTokens, maxChunks and termCount, resolved). */
export interface SourcePairSettings {
  chunkTokens: number;
  maxChunks: number;
  termCount: number;
}

/**
 * The text → docid-key pairs of one SFT source, as SFT trains on them: passage chunks of at
 * most `chunkTokens` tokens by `count`, TF-IDF term lists, the pseudo-queries given, and the
 * labelled training queries (one pair per relevant key).
 */
export function sourcePairs(
  source: SftSource,
  corpus: SftCorpus,
  pseudoQueries: readonly SampledQuery[],
  count: (text: string) => number,
  settings: SourcePairSettings,
): TextPair[] {
  switch (source) {
    case 'chunks':
      return corpus.docs.flatMap((doc) =>
        passageChunks(doc, count, { maxTokens: settings.chunkTokens, maxChunks: settings.maxChunks }).map((text) => ({
          text,
          key: corpus.keyOf(doc),
        })),
      );
    case 'terms': {
      const terms = topTfidfTerms(corpus.docs, settings.termCount);
      return corpus.docs.map((doc, i) => ({ text: terms[i].join(' '), key: corpus.keyOf(doc) })).filter((p) => p.text !== '');
    }
    case 'pseudo': {
      const keyOfDoc = new Map(corpus.docs.map((d) => [d.id, corpus.keyOf(d)]));
      return pseudoQueries.map((q) => ({ text: q.text, key: keyOfDoc.get(q.docId) ?? q.docId }));
    }
    case 'queries':
      return corpus.trainQueries.flatMap((q) => q.keys.map((key) => ({ text: q.text, key })));
  }
}

export async function runSft(options: SftOptions): Promise<SftResult> {
  const run = new PipelineRun('sft', options.log);
  const log = run.log;
  const out = resolve(options.out);
  const work = `${out}.training`;
  const stages = options.stages ?? parseStages(SFT_DEFAULTS.stages);

  checkDevice(options.device ?? 'cpu');
  checkOptions(options);
  // Temporaries of an earlier run of this command that was killed before it could remove them.
  sweepStaleTemporaries(work, TEMPORARY_NAME, { recursive: true });
  claimOutput({ out, work, overwrite: options.overwrite, resume: options.resume, resumable: true, label: 'sft', log });
  if (options.lexicalInit === 'bm25' && options.modelOverrides?.lexicalHead !== true)
    throw new UserError('--lexical-init bm25 needs a lexical head (--lexical-head)');
  if (options.riporInit && (options.docids !== 'rq' || options.denseEmbeddings === undefined)) {
    throw new UserError('RIPOR initialisation needs --docids rq and --embeddings <dense model directory> (genir train dense)');
  }
  if (options.denseEmbeddings !== undefined && options.embeddings !== undefined)
    throw new UserError('give one embeddings source: a vector file or a dense model directory');

  const usesPseudo = stages.some((s) => s.sources.some((w) => w.source === 'pseudo'));
  const pseudo: PseudoQueryMethod | 'none' = !usesPseudo ? 'none' : (options.pseudo ?? SFT_DEFAULTS.pseudo);
  const holdOut = options.sentenceHoldOut ?? 'none';
  if (holdOut !== 'none' && SENTENCE_PROBABILITY[pseudo] === undefined)
    throw new UserError(`--sentence-hold-out ${holdOut}: needs span pseudo-queries (--pseudo sentences, words or spans)`);
  const corpus = await run.time('load', () =>
    loadSftCorpus({ dataset: options.dataset, dataDir: options.dataDir, lang: options.lang, trainSplit: options.trainSplit }),
  );
  if ((pseudo === 'doc2query' || pseudo === 'both') && corpus.trainQueries.length === 0) {
    throw new UserError(`dataset ${corpus.datasetId} has no labelled training queries for doc2query; use --pseudo spans`);
  }
  if (stages.some((s) => s.sources.some((w) => w.source === 'queries')) && corpus.trainQueries.length === 0) {
    throw new UserError(`dataset ${corpus.datasetId} has no labelled training queries; drop the 'queries' source from --stages`);
  }
  const settings = resolvedSettings(options, stages, pseudo);
  const overrides = Object.keys(options.modelOverrides ?? {}).filter((key) => key !== 'dropoutRate');
  if (options.init !== undefined && overrides.length > 0) {
    throw new UserError(
      `--init ${options.init}: a pre-trained model keeps its shape; drop ${overrides.join(', ')} (only the dropout rate can change)`,
    );
  }
  const checkpoint: HfCheckpoint | undefined = options.init === undefined ? undefined : readHfCheckpoint(resolve(options.init));
  const fresh = !existsSync(work);
  mkdirSync(work, { recursive: true });
  // A run that ends before its first checkpoint (a user error found late, a crash, SIGINT or
  // SIGTERM) has nothing worth resuming: the work directory it made goes, so that the corrected
  // command runs as it is, without --resume or --overwrite.
  const discardUnstarted = () => {
    if (fresh && !holdsAnyCheckpoint(work)) rmSync(work, { recursive: true, force: true });
  };
  const releaseWork = onExitCleanup(discardUnstarted);
  try {
    const indexed = indexedCorpus(corpus, settings);
    return await trainInWorkDirectory(run, { options, out, work, stages, corpus, indexed, pseudo, settings, checkpoint });
  } catch (err) {
    discardUnstarted();
    throw err;
  } finally {
    releaseWork();
  }
}

/** Option values that would fail only later, after work has been done: checked before anything is read or written. */
function checkOptions(options: SftOptions): void {
  if (options.riporParts !== undefined && !options.riporInit)
    throw new UserError('--ripor-parts picks parts of --ripor-init: add --ripor-init');
  if (options.riporParts !== undefined && options.riporParts.length === 0) throw new UserError('--ripor-parts: name at least one part');
  if (options.docidCodes !== undefined && options.docids !== 'pq' && options.docids !== 'rq')
    throw new UserError(`--docid-levels and --docid-k shape pq and rq codes, not ${options.docids} docids`);
  const vocab = options.vocabSize ?? SFT_DEFAULTS.vocabSize;
  const limits = vocabSizeLimits();
  if (!Number.isInteger(vocab) || vocab < limits.min || vocab > limits.max)
    throw new UserError(`--vocab ${vocab}: expected an integer from ${limits.min} to ${limits.max}`);
  // The model's shape (the vocabulary sizes are only known later; these stand in).
  if (options.init === undefined) t5Config(options.model, { ...options.modelOverrides, vocabSize: vocab, docidVocabSize: 1 });
  if (options.warmupSteps !== undefined && !(Number.isInteger(options.warmupSteps) && options.warmupSteps >= 0)) {
    throw new UserError(`--warmup ${options.warmupSteps}: expected a non-negative integer`);
  }
  const smoothing = options.labelSmoothing;
  if (smoothing !== undefined && !(smoothing >= 0 && smoothing < 1))
    throw new UserError(`--label-smoothing ${smoothing}: expected a number in [0, 1)`);
  const embeddings = options.embeddings;
  if (embeddings?.kind === 'file') {
    if (!existsSync(embeddings.path)) throw new UserError(`${where(embeddings.path)}no such embeddings file (--embeddings)`);
    if (embeddings.idsPath !== undefined && !existsSync(embeddings.idsPath))
      throw new UserError(`${where(embeddings.idsPath)}no such ids file`);
  }
}

/** What every SFT stage reads: the options, the paths, the corpus and the resolved settings. */
interface SftContext {
  options: SftOptions;
  out: string;
  work: string;
  stages: readonly SftStage[];
  corpus: SftCorpus;
  /** The corpus as the model indexes it: `corpus`, or its documents without the held-out sentences. */
  indexed: SftCorpus;
  pseudo: PseudoQueryMethod | 'none';
  settings: SftSettings;
  /** The pre-trained checkpoint of --init, when given. */
  checkpoint: HfCheckpoint | undefined;
}

/** The tokenizer and docids of a run (kept in the work directory, so a resumed run uses exactly the same). */
interface Vocabulary {
  textTokenizer: SubwordTokenizer;
  /** The text tokenizer with the docid tokens after its subwords. */
  tokenizer: SubwordTokenizer;
  docids: DocidTable;
  /** RQ's codebooks (rq docids only), for RIPOR's initialisation. */
  rqCentroids: Float32Array[] | undefined;
  /** The dense model of `denseEmbeddings`, open until the model stage has used it. */
  dense: LoadedDenseDirectory | undefined;
}

interface PseudoQueries {
  queries: SampledQuery[];
  info: Record<string, unknown>;
}

interface Examples {
  sets: Map<SftSource, SourceExamples>;
  counts: Record<string, number>;
}

interface InitialModel {
  config: T5Config;
  model: T5Model;
  ripor: RiporInitReport | undefined;
  lexical: LexicalInitReport | undefined;
}

interface TrainedStages {
  reports: StageReport[];
  lossRows: { stage: string; offset: number; records: LossRecord[] }[];
  tracker: DevTracker | undefined;
}

const vocabularyStage: Stage<SftContext, Vocabulary> = {
  name: 'vocabulary',
  async run({ options, work, corpus, settings, checkpoint }, run) {
    const codebookPath = join(work, 'rq-codebook.npy');
    const dense =
      options.denseEmbeddings === undefined ? undefined : await run.time('docids', () => openDenseEmbeddings(options.denseEmbeddings!));
    let rqCentroids: Float32Array[] | undefined;
    const inputs = {
      dataset: settings.dataset,
      lang: settings.lang,
      trainSplit: settings.trainSplit,
      docids: settings.docids,
      embeddings: settings.embeddings,
      denseEmbeddings: settings.denseEmbeddings,
      ...(settings.docidCodes !== undefined ? { docidCodes: settings.docidCodes } : {}),
      init: settings.init,
      vocabSize: settings.vocabSize,
      seed: settings.seed,
    };
    const { value } = await cachedStage({
      name: 'vocabulary',
      dir: work,
      inputs,
      files: ['tokenizer.json', 'docids.bin'],
      load: () => {
        const docids = loadDocidsSync(join(work, 'docids.bin'));
        if (existsSync(codebookPath)) {
          const { shape, data } = parseNpy(readFileSync(codebookPath), codebookPath);
          const k = docids.params.k as number;
          rqCentroids = Array.from({ length: shape[0] / k }, (_, level) => data.slice(level * k * shape[1], (level + 1) * k * shape[1]));
        }
        return { textTokenizer: SubwordTokenizer.fromFile(join(work, 'tokenizer.json')), docids };
      },
      compute: async () => {
        let embeddings = options.embeddings;
        if (dense !== undefined) {
          const keys = [...new Set(corpus.docs.map((doc) => corpus.keyOf(doc)))];
          const vectors = await run.time('docids', () => denseKeyVectors(dense, corpus.docs, (doc) => corpus.keyOf(doc), keys));
          embeddings = { kind: 'vectors', ids: keys, dim: dense.dim, vectors };
          run.log(`sft: docid embeddings from the dense model ${options.denseEmbeddings} (${keys.length} × ${dense.dim})`);
        }
        const textTokenizer =
          checkpoint !== undefined
            ? checkpoint.tokenizer.withDocidTokens(0)
            : await run.time('tokenizer', () => trainSftTokenizer(corpus, settings.vocabSize));
        const docids = await run.time('docids', () =>
          buildDocids(corpus.docs, {
            scheme: options.docids,
            textVocabSize: textTokenizer.subwordVocabSize,
            eosId: textTokenizer.eosId,
            encode: (text) => textTokenizer.encode(text),
            seed: settings.seed,
            groupBy: corpus.grouped ? 'relevanceId' : 'id',
            embeddings,
            ...(options.docidCodes !== undefined
              ? { pq: { m: options.docidCodes.levels, k: options.docidCodes.k }, rq: { ...options.docidCodes } }
              : {}),
            onRqCodebook: (centroids, dim) => {
              rqCentroids = [...centroids];
              const all = new Float32Array(centroids.reduce((n, c) => n + c.length, 0));
              centroids.forEach((c, level) => all.set(c, level * c.length));
              writeFileAtomicSync(codebookPath, encodeNpy(all, all.length / dim, dim));
            },
          }),
        );
        saveDocidsSync(docids, join(work, 'docids.bin'));
        textTokenizer.save(join(work, 'tokenizer.json'));
        return { textTokenizer, docids };
      },
    });
    const { textTokenizer, docids } = value;
    const tokenizer = withDocidTokens(textTokenizer, docids.layout.docidVocabSize);
    run.log(
      `sft: tokenizer ${textTokenizer.subwordVocabSize} ${checkpoint ? `text ids (${textTokenizer.kind}, from ${checkpoint.files.tokenizer})` : 'subwords'}; ${docids.size} ${docids.scheme} docids (${docids.layout.docidVocabSize} docid tokens, ${docids.tokens.length / docids.size - 1} tokens per docid on average)`,
    );
    if (docids.scheme === 'rq') {
      const p = docids.params;
      run.log(
        `sft: rq codes ${String(p.levels)} levels × ${String(p.k)}: ${((p.distinctFraction as number) * 100).toFixed(1)} % of documents distinct before disambiguation, reconstruction error ${(p.reconstructionError as number).toFixed(4)} (${((p.relativeError as number) * 100).toFixed(1)} % of the vectors' energy)`,
      );
    }
    return { textTokenizer, tokenizer, docids, rqCentroids, dense };
  },
};

const pseudoQueryStage: Stage<SftContext & { textTokenizer: SubwordTokenizer }, PseudoQueries> = {
  name: 'pseudo-queries',
  async run({ options, work, corpus, pseudo, settings, textTokenizer }, run) {
    const log = run.log;
    const info: Record<string, unknown> = { method: pseudo };
    const queries: SampledQuery[] = [];
    const sentenceProbability = SENTENCE_PROBABILITY[pseudo];
    if (sentenceProbability !== undefined) {
      const sampled =
        settings.sentenceHoldOut === 'none'
          ? corpus.docs
          : corpus.docs.map((doc) => ({ ...doc, text: holdOutSentences(doc, settings.seed).heldOut }));
      const spans = await run.time('pseudo-queries', () =>
        samplePseudoQueries(sampled, { perDoc: settings.pseudoPerDoc, seed: settings.seed, sentenceProbability }),
      );
      if (settings.sentenceHoldOut !== 'none') {
        info.sentenceHoldOut = settings.sentenceHoldOut;
        log(
          `sft: pseudo-queries from held-out sentences (${settings.sentenceHoldOut}): ${spans.length} from ${new Set(spans.map((q) => q.docId)).size} documents`,
        );
      }
      appendAll(
        queries,
        spans.map((q) => ({ docId: q.docId, text: q.text })),
      );
      info.spans = spans.length;
    }
    if (pseudo === 'doc2query' || pseudo === 'both') {
      const d2q = settings.doc2query;
      const pairs = doc2queryPairs(corpus);
      const description = {
        kind: 'doc2query',
        version: 1,
        dataset: corpus.datasetId,
        languages: corpus.languages ?? null,
        trainSplit: corpus.trainSplit ?? null,
        data: textsDigest([...pairs.flatMap((p) => [p.document, p.query]), '\u0001', ...corpus.docs.flatMap((d) => [d.id, d.text])]),
        tokenizer: textsDigest([textTokenizer.toJson()]),
        model: d2q,
        seed: settings.seed,
        sampling: { perDoc: settings.pseudoPerDoc, topK: settings.pseudoTopK, maxTokens: settings.pseudoMaxTokens },
      };
      const cacheDir = resolveCacheDir(options.cacheDir);
      const cached = await run.time('pseudo-queries', () =>
        cachedPseudoQueries(cacheDir, description, async () => {
          log(`sft: training doc2query (${d2q.model}, ${pairs.length} pairs, ${d2q.epochs} epochs)`);
          const trained = await run.time('doc2query-train', () =>
            trainDoc2Query(pairs, textTokenizer, {
              preset: d2q.model,
              overrides: d2q.overrides,
              epochs: d2q.epochs,
              lr: d2q.lr,
              batchSize: d2q.batchSize,
              seed: settings.seed,
              threads: options.threads,
              spinning: options.spinning ?? false,
              runDir: join(work, 'doc2query'),
              resume: options.resume,
              progress: options.progress,
            }),
          );
          info.doc2queryUpdates = trained.updates;
          info.doc2queryLoss = trained.finalLoss;
          log(
            `sft: sampling ${settings.pseudoPerDoc} queries per document (top-${settings.pseudoTopK}, <= ${settings.pseudoMaxTokens} tokens)`,
          );
          const sampled = await run.time('doc2query-sample', () =>
            sampleQueries(
              trained.model,
              textTokenizer,
              corpus.docs.map((d) => ({ id: d.id, text: d.text })),
              {
                perDoc: settings.pseudoPerDoc,
                topK: settings.pseudoTopK,
                maxTokens: settings.pseudoMaxTokens,
                seed: settings.seed,
                progress: options.progress,
              },
            ),
          );
          await trained.model.release();
          return sampled;
        }),
      );
      info.doc2query = cached.queries.length;
      info.cache = { path: cached.path, hit: cached.hit };
      info.examples = cached.queries.slice(0, 5).map((q) => q.text);
      log(`sft: ${cached.queries.length} doc2query pseudo-queries (${cached.hit ? 'from cache' : 'generated'}: ${cached.path})`);
      appendAll(queries, cached.queries);
    }
    return { queries, info };
  },
};

/** Examples of every source the stages use. */
const examplesStage: Stage<SftContext & { vocabulary: Vocabulary; pseudoQueries: PseudoQueries }, Examples> = {
  name: 'examples',
  async run({ stages, indexed, settings, vocabulary, pseudoQueries }, run) {
    const { tokenizer, docids } = vocabulary;
    const encode = (text: string) => tokenizer.encode(text);
    const count = (text: string) => tokenizer.encode(text).length;
    const needed = new Set(stages.flatMap((s) => s.sources.map((w) => w.source)));
    const sets = new Map<SftSource, SourceExamples>();
    const counts: Record<string, number> = {};
    await run.time('examples', () => {
      for (const source of needed) {
        const tokenized = tokenizePairs(
          source,
          sourcePairs(source, indexed, pseudoQueries.queries, count, settings),
          docids,
          encode,
          settings.maxSourceTokens,
        );
        sets.set(source, tokenized);
        counts[source] = tokenized.examples.length;
        if (tokenized.skipped > 0) run.log(`sft: warning: ${tokenized.skipped} ${source} examples name documents without a docid; skipped`);
      }
    });
    run.log(
      `sft: examples ${Object.entries(counts)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
    );
    return { sets, counts };
  },
};

/** The model to train: created from the preset, or the --init checkpoint with docid rows; RIPOR's initialisation applied. */
const modelStage: Stage<SftContext & { vocabulary: Vocabulary }, InitialModel> = {
  name: 'model',
  async run({ options, work, stages, indexed, settings, checkpoint, vocabulary }, run) {
    const { tokenizer, docids, rqCentroids, dense } = vocabulary;
    const runtime = {
      threads: options.threads,
      spinning: options.spinning ?? false,
      device: options.device,
      labelSmoothing: settings.labelSmoothing,
    };
    let config: T5Config;
    let model: T5Model;
    if (checkpoint !== undefined) {
      const dropout = options.modelOverrides?.dropoutRate;
      const extended = withDocidRows(
        { ...checkpoint.config, ...(dropout === undefined ? {} : { dropoutRate: dropout }) },
        checkpoint.weights,
        docids.layout.docidVocabSize,
        settings.seed,
      );
      config = extended.config;
      model = new T5Model(config, parametersOf(config, extended.weights), runtime);
      run.log(
        `sft: initialised from ${checkpoint.dir} (${config.feedForward}, ${config.tieWordEmbeddings ? 'tied' : 'untied'} head); docid rows added: ${config.docidVocabSize}`,
      );
    } else {
      config = t5Config(options.model, {
        ...options.modelOverrides,
        vocabSize: tokenizer.subwordVocabSize,
        docidVocabSize: docids.layout.docidVocabSize,
      });
      model = T5Model.create(config, settings.seed, runtime);
    }
    let ripor: RiporInitReport | undefined;
    if (options.riporInit) {
      if (rqCentroids === undefined)
        throw new UserError(`${work}: the rq codebook of this run is missing; remove the work directory and start again`);
      ripor = riporInitialise(model, docids, rqCentroids, dense, tokenizer, options.riporParts);
      run.log(
        `sft: RIPOR initialisation: ${ripor.docidTokens} docid tokens from the rq centroids (${(options.riporParts ?? RIPOR_PARTS).filter((part) => part !== 'encoder' && (part !== 'outputs' || ripor!.outputRows)).join(', ') || 'none'}); encoder ${ripor.encoderCopied ? 'copied from the dense model' : `not copied (${ripor.encoderSkipped})`}`,
      );
    }
    if (dense !== undefined) await dense.model.release();
    let lexical: LexicalInitReport | undefined;
    if (options.lexicalInit === 'bm25' && checkpoint === undefined) {
      lexical = bm25LexicalInitialise(model, docids, indexed.docs, (doc) => indexed.keyOf(doc), tokenizer, {
        keepTrunkDocidRows: ripor?.outputRows === true,
      });
      run.log(
        `sft: lexical head from the corpus's BM25 weights (k1 ${lexical.k1}, b ${lexical.b}): ${lexical.nonZero} non-zero weights over ${lexical.docidTokens} docid tokens; the output head's docid rows ${lexical.trunkDocidRowsZeroed ? 'set to 0' : 'kept'}`,
      );
    }
    run.log(`sft: model ${settings.model} (${(parameterCount(config) / 1e6).toFixed(2)}M parameters); stages ${formatStages(stages)}`);
    return { config, model, ripor, lexical };
  },
};

/** The schedule of every SFT stage and its training, with dev evaluations, the budget and early stopping. */
const trainingStage: Stage<SftContext & { vocabulary: Vocabulary; examples: Examples; initial: InitialModel }, TrainedStages> = {
  name: 'training',
  async run({ options, work, stages, corpus, settings, vocabulary, examples, initial }, run) {
    const log = run.log;
    const { tokenizer, docids } = vocabulary;
    const { model, config } = initial;
    const evalEvery = options.evalEvery ?? SFT_DEFAULTS.evalEvery;
    const patience = options.patience ?? SFT_DEFAULTS.patience;
    let tracker: DevTracker | undefined;
    if (evalEvery > 0) {
      const devSplit = options.devSplit ?? SFT_DEFAULTS.devSplit;
      const evalBeam = options.evalBeam ?? SFT_DEFAULTS.evalBeam;
      const dev = await run.time('dev-load', async () =>
        sampleDevQueries(
          await loadDevQueries(corpus.datasetId, corpus.languages ?? null, options.dataDir, devSplit),
          options.devQueries ?? SFT_DEFAULTS.devQueries,
          settings.seed,
        ),
      );
      if (dev.queries.length === 0)
        throw new UserError(`dataset ${corpus.datasetId}: split '${devSplit}' has no judged queries to evaluate during training`);
      tracker = new DevTracker({
        model,
        tokenizer,
        docids,
        dev,
        beam: evalBeam,
        maxQueryTokens: settings.maxSourceTokens,
        threads: options.threads,
        outDir: work,
        log,
        label: 'sft',
      });
      log(`sft: dev evaluation every ${evalEvery} updates on ${dev.queries.length} '${devSplit}' queries (beam ${evalBeam})`);
    }
    const budgetSeconds = settings.budgetMinutes === null ? Infinity : settings.budgetMinutes * 60;
    let spentSeconds = 0;
    let budgetSpent = false;
    const reports: StageReport[] = [];
    const lossRows: TrainedStages['lossRows'] = [];
    let offset = 0;
    for (const [index, stage] of stages.entries()) {
      if (budgetSpent) break;
      const mixed = mixedTrainingData(examples.sets, stage, {
        batchSize: settings.batchSize,
        seed: settings.seed + index,
        padId: tokenizer.padId,
        eosId: tokenizer.eosId,
        decoderStartId: config.decoderStartTokenId,
        maxSourceLength: settings.maxSourceTokens,
      });
      const totalUpdates = Math.max(1, Math.ceil(stage.epochs * mixed.batchesPerEpoch));
      const warmup = settings.warmupSteps ?? Math.min(100, Math.ceil(totalUpdates * 0.05));
      const runDir = join(work, `stage-${index + 1}-${stage.name.replace(/\+/g, '-')}`);
      log(
        `sft: stage ${index + 1}/${stages.length} ${stage.name}: ${mixed.examplesPerEpoch} examples per epoch, ${stage.epochs} epochs, ${totalUpdates} updates`,
      );
      const stageStart = performance.now();
      const spentBefore = spentSeconds;
      const baseSchedule = linearSchedule({ peak: settings.lr, warmupSteps: Math.min(warmup, totalUpdates), totalSteps: totalUpdates });
      // With a budget, the decay is also driven by the training time spent, so the learning rate
      // reaches zero when the budget runs out even if the stage's updates would not.
      let stageSeconds = 0;
      const schedule = (update: number): number => {
        const lr = baseSchedule(update);
        if (!Number.isFinite(budgetSeconds) || update <= warmup) return lr;
        const byTime = Math.max(0, 1 - (spentBefore + stageSeconds) / budgetSeconds);
        return Math.min(lr, settings.lr * byTime);
      };
      const result = await run.time('training', () =>
        train({
          model,
          data: mixed.data,
          totalUpdates,
          schedule,
          seed: settings.seed + index,
          runDir,
          resume: options.resume,
          checkpointEvery: options.checkpointEvery ?? SFT_DEFAULTS.checkpointEvery,
          progress: options.progress,
          label: `stage ${index + 1} ${stage.name}`,
          onUpdate: async (record) => {
            stageSeconds = record.elapsedS;
            spentSeconds = spentBefore + record.elapsedS;
            if (spentSeconds >= budgetSeconds) budgetSpent = true;
            const due = tracker !== undefined && (record.update % evalEvery === 0 || record.update === totalUpdates || budgetSpent);
            if (due) {
              await tracker!.evaluate(offset + record.update, record.epoch, spentSeconds);
              if (patience > 0 && tracker!.sinceBest >= patience) {
                log(`sft: dev RR@10 has not improved for ${patience} evaluations; stopping`);
                budgetSpent = true;
              }
            }
            return budgetSpent ? 'stop' : undefined;
          },
        }),
      );
      if (budgetSpent && Number.isFinite(budgetSeconds))
        log(`sft: stopped at update ${result.update} of stage ${index + 1} (${(spentSeconds / 60).toFixed(1)} training minutes)`);
      const last = result.records[result.records.length - 1];
      reports.push({
        name: stage.name,
        sources: stage.sources,
        epochs: stage.epochs,
        updates: result.update,
        examplesPerEpoch: mixed.examplesPerEpoch,
        finalLoss: last?.loss ?? null,
        trainingSeconds: last?.elapsedS ?? 0,
        wallSeconds: (performance.now() - stageStart) / 1000,
        resumedFrom: result.resumedFrom ?? null,
      });
      lossRows.push({ stage: stage.name, offset, records: result.records });
      offset += result.update;
    }
    return { reports, lossRows, tracker };
  },
};

/** The run report and the self-contained model directory. */
const saveStage: Stage<
  SftContext & { vocabulary: Vocabulary; examples: Examples; pseudoQueries: PseudoQueries; initial: InitialModel; trained: TrainedStages },
  SftResult
> = {
  name: 'save',
  async run({ options, out, work, stages, corpus, settings, vocabulary, examples, pseudoQueries, initial, trained }, run) {
    const { tokenizer, docids } = vocabulary;
    const { model, config, ripor, lexical } = initial;
    const { tracker } = trained;
    const chosen = tracker?.restoreBest() ?? null;
    if (chosen !== null)
      run.log(`sft: keeping the weights of update ${chosen.update} (best dev RR@10 ${chosen.metrics['RR@10'].toFixed(4)})`);
    const report = buildRunReport({
      settings,
      corpus: {
        dataset: corpus.datasetId,
        languages: corpus.languages ?? null,
        documents: corpus.docs.length,
        docids: docids.size,
        trainQueries: corpus.trainQueries.length,
        trainSplit: corpus.trainSplit ?? null,
      },
      docids: {
        scheme: docids.scheme,
        ...docids.layout,
        params: { ...docids.params },
        ...(options.denseEmbeddings !== undefined ? { denseEmbeddings: options.denseEmbeddings } : {}),
        ...(ripor ? { riporInit: ripor } : {}),
        ...(lexical ? { lexicalInit: lexical } : {}),
      },
      model: { preset: settings.model, parameters: parameterCount(config), config },
      sources: examples.counts,
      pseudoQueries: pseudoQueries.info,
      stages: trained.reports,
      timings: run.timings,
      wallSeconds: run.wallSeconds(),
      ...(tracker
        ? {
            dev: {
              split: options.devSplit ?? SFT_DEFAULTS.devSplit,
              queries: tracker.devQueryCount,
              points: tracker.points,
              chosenUpdate: chosen?.update ?? null,
            },
          }
        : {}),
    });
    const reportFiles = report.files(trained.lossRows);
    const manifest = await run.time('save', () =>
      saveModelDirectory(out, {
        model,
        tokenizer,
        docids,
        titles: representativeTitles(corpus, docids),
        dataset: {
          id: corpus.datasetId,
          languages: corpus.languages ?? null,
          trainSplit: corpus.trainSplit ?? null,
          documents: corpus.docs.length,
          keys: corpus.grouped ? 'relevance ids (translations share a docid)' : 'document ids',
        },
        onnx: options.onnx,
        extraFiles: reportFiles,
        extra: {
          report: 'report.json',
          stages: formatStages(stages),
          training: { wallSeconds: report.json.wallSeconds, peakRssMb: report.json.peakRssMb },
        },
      }),
    );
    await model.release();
    if (!options.keepWork) rmSync(work, { recursive: true, force: true });
    run.log(`sft: model saved to ${out} (${report.json.wallSeconds.toFixed(1)} s, peak RSS ${report.json.peakRssMb.toFixed(0)} MB)`);
    return { dir: out, manifest, report: report.json };
  },
};

/** The part of runSft that works in the work directory: its stages, from the tokenizer and docids to the model directory. */
async function trainInWorkDirectory(run: PipelineRun, context: SftContext): Promise<SftResult> {
  const { work, corpus, settings } = context;
  const settingsPath = join(work, 'settings.json');
  if (existsSync(settingsPath)) {
    const before = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
    const now = JSON.parse(JSON.stringify(settings)) as Record<string, unknown>;
    const changed = Object.keys(now).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
    if (changed.length > 0)
      throw new UserError(
        `${settingsPath}: the run being resumed used different ${changed.join(', ')}; resume with the same options, or pass --overwrite without --resume to discard it`,
      );
  } else {
    writeFileAtomicSync(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
  }
  run.log(
    `sft: ${corpus.datasetId}${corpus.languages ? ` (${corpus.languages.join(',')})` : ''}: ${corpus.docs.length} documents, ${corpus.trainQueries.length} labelled training queries`,
  );
  const vocabulary = await run.run(vocabularyStage, context);
  const pseudoQueries = await run.run(pseudoQueryStage, { ...context, textTokenizer: vocabulary.textTokenizer });
  const examples = await run.run(examplesStage, { ...context, vocabulary, pseudoQueries });
  const initial = await run.run(modelStage, { ...context, vocabulary });
  const trained = await run.run(trainingStage, { ...context, vocabulary, examples, initial });
  return await run.run(saveStage, { ...context, vocabulary, examples, pseudoQueries, initial, trained });
}
