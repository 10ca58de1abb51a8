/**
 * `genir train ddro` and `genir train ltrgr` as library calls: a trained SFT model directory
 * → triples (mined once, scored once by the frozen SFT model, cached) → training on a
 * sequence-level objective with AdamW, warm-up + cosine decay and grad-norm clipping,
 * evaluating on the dev split every N updates, keeping the best weights and stopping early
 * → a model directory in the SFT format with a run report.
 *
 * The trainer's run directory (loss.csv, the last checkpoint) lives in `<out>.training/` and
 * is removed after the model is saved (unless keepWork).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Qrels, Query } from '../../../data/types.js';
import { cosineSchedule } from '../../../engine/optim/schedule.js';
import { evaluateRun } from '../../../eval/metrics.js';
import {
  DOCIDS_FILE,
  loadModelDirectory,
  saveModelDirectory,
  type ExtraFile,
  type LoadedModelDirectory,
  type ModelManifest,
} from '../../../retriever/directory.js';
import { WEIGHTS_FILE } from '../../../model/checkpoint.js';
import { UserError } from '../../../util/errors.js';
import { removeOnExit } from '../../../util/temporaries.js';
import type { LossRecord } from '../../loop/loss-log.js';
import { linePlotSvg, smooth } from '../../loop/plot.js';
import { train } from '../../loop/trainer.js';
import { loadDevQueries, sampleDevQueries } from '../../loop/dev-eval.js';
import { claimOutput, PipelineRun } from '../../loop/pipeline.js';
import { cacheKey, resolveCacheDir, textsDigest } from '../../../util/cache.js';
import { loadSftCorpus, type SftCorpus } from '../../../data/training-corpus.js';
import { clampBeam, withModelSearcher } from '../../../search/searcher.js';
import { peakRssMb } from '../sft/report.js';
import {
  buildTriples,
  cachedTriples,
  readTriples,
  tripleSettings,
  writeTriples,
  type NegativeMethod,
  type TripleGroup,
  type TripleOptions,
} from '../../sources/negatives/triples.js';
import type { DocidTable } from '../../../docids/table.js';
import { dpoTrainingData, encodeGroups, hardGroups, listwiseTrainingData, marginTrainingData, type PreferenceData } from './data.js';
import { hasPrefixes, type PreferenceObjective } from './graph.js';
import { PreferenceModel } from './model.js';
import { readTeacherRun, type TeacherRun } from './teacher.js';
import { DDRO_DEFAULTS, LTRGR_DEFAULTS, METHOD_DEFAULTS, RANK_DEFAULTS } from './defaults.js';

export type RankMethod = 'ddro' | 'ltrgr';

/** The dev metrics; the first one picks the best checkpoint. */
export const DEV_METRICS = ['RR@10', 'R@1', 'R@5', 'R@10'] as const;

export interface RankTrainingOptions {
  method: RankMethod;
  /** The SFT model directory to start from (also the frozen reference). */
  from: string;
  out: string;
  dataDir?: string;
  objective: PreferenceObjective;
  negatives: NegativeMethod;
  /** Model negatives per query (default 32 with `model`, 16 with `both`). */
  modelNegatives?: number;
  /** DDRO: negatives per encoder group (default 8). */
  negativesPerGroup?: number;
  /** LTRGR list-wise: documents per list, the positive included (default 8). */
  listSize?: number;
  /**
   * LTRGR margin loss: also rank the docids' prefixes (RIPOR's prefix-oriented loss), at
   * lengths L/n, 2L/n, … of the docid code length L, n = prefixLevels (≥ 2; 1 or undefined: whole docids only).
   */
  prefixLevels?: number;
  /**
   * MarginMSE (rank objective `margin-mse`): a TREC run over the training queries whose scores
   * are the teacher's; `teacherScale` converts them to nats (default 1).
   */
  teacherRun?: string;
  teacherScale?: number;
  /** LTRGR: keep only queries whose positive is not already ahead of the top negative by the margin (default true for margin). */
  hardOnly?: boolean;
  /** DDRO: (positive, negative) pairs per update (default 64); LTRGR: queries per update (default 16). */
  batchSize?: number;
  lr?: number;
  epochs?: number;
  /** Exactly this many updates (the data repeats as needed), instead of `epochs`: equal-compute comparisons. */
  updates?: number;
  /** Warm-up updates (default 10 % of the run, at most 1000). */
  warmupSteps?: number;
  clipNorm?: number;
  weightDecay?: number;
  seed?: number;
  /** Dev evaluation every this many updates (default: 4 times per epoch); 0 disables. */
  evalEvery?: number;
  /** Evaluations without improvement before stopping (default 4). */
  patience?: number;
  devSplit?: string;
  /** Dev queries evaluated (a seeded sample; default 500, 0 = all). */
  devQueries?: number;
  /** Beam width of the dev search (default 20; exhaustive when at least the number of docids). */
  beam?: number;
  maxSourceTokens?: number;
  /** Read or write the triples at this path instead of the cache. */
  triplesPath?: string;
  cacheDir?: string;
  threads?: number;
  overwrite?: boolean;
  keepWork?: boolean;
  onnx?: boolean;
  progress?: boolean;
  log?: (line: string) => void;
}

/** What `genir train ddro` and `genir train ltrgr` share (the method and its objective are set by runDdro / runLtrgr). */
export type CommonRankOptions = Omit<RankTrainingOptions, 'method' | 'objective' | 'negatives'> & { negatives?: NegativeMethod };

/** The object without its undefined fields, so that spreading it keeps the defaults it leaves open. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export interface DevEvaluation {
  update: number;
  epoch: number;
  metrics: Record<string, number>;
  seconds: number;
}

export interface RankTrainingReport {
  method: RankMethod;
  from: string;
  settings: Record<string, unknown>;
  triples: { path: string; cached: boolean; groups: number; triples: number; trainingGroups: number; seconds: number };
  data: { batchesPerEpoch: number; groupsPerEpoch: number; pairsPerEpoch: number };
  updates: number;
  stoppedEarly: boolean;
  evaluations: DevEvaluation[];
  best: DevEvaluation | null;
  /** Training seconds of each epoch (dev evaluations excluded); a partial last epoch is marked by `epochUpdates`. */
  epochSeconds: number[];
  epochUpdates: number[];
  timings: Record<string, number>;
  wallSeconds: number;
  peakRssMb: number;
}

export interface RankTrainingResult {
  dir: string;
  manifest: ModelManifest;
  report: RankTrainingReport;
}

/** The dev queries and judgments of the dataset the SFT model was trained on (XQuAD: every trained language). */
export async function devSet(
  manifest: ModelManifest,
  dataDir: string | undefined,
  split: string,
): Promise<{ queries: Query[]; qrels: Qrels }> {
  const languages = Array.isArray(manifest.dataset.languages) ? (manifest.dataset.languages as string[]) : null;
  return await loadDevQueries(String(manifest.dataset.id), languages, dataDir, split);
}

function manifestSha(manifest: ModelManifest, path: string): string {
  return manifest.files.find((f) => f.path === path)?.sha256 ?? 'unknown';
}

/** The corpus and training queries the SFT model was trained on. */
function trainingCorpus(manifest: ModelManifest, dataDir: string | undefined): Promise<SftCorpus> {
  return loadSftCorpus({
    dataset: String(manifest.dataset.id),
    dataDir,
    lang: Array.isArray(manifest.dataset.languages) ? (manifest.dataset.languages as string[]).join(',') : undefined,
    trainSplit: typeof manifest.dataset.trainSplit === 'string' ? manifest.dataset.trainSplit : undefined,
  });
}

/** Loads the triples for this model and these settings: the given path, else the cache, mining them when missing. */
async function prepareTriples(
  loaded: LoadedModelDirectory,
  corpus: SftCorpus,
  options: RankTrainingOptions,
  tripleOptions: TripleOptions,
  log: (line: string) => void,
): Promise<{ groups: TripleGroup[]; path: string; cached: boolean }> {
  const manifest = loaded.manifest;
  if (corpus.trainQueries.length === 0)
    throw new UserError(`dataset ${corpus.datasetId} has no labelled training queries to mine triples for`);
  const description = {
    kind: 'genir-triples',
    dataset: corpus.datasetId,
    languages: corpus.languages ?? null,
    trainSplit: corpus.trainSplit ?? null,
    queries: textsDigest(corpus.trainQueries.flatMap((q) => [q.id, q.text, ...q.keys])),
    model: manifestSha(manifest, WEIGHTS_FILE),
    docids: manifestSha(manifest, DOCIDS_FILE),
    settings: tripleSettings(tripleOptions),
  };
  const build = () =>
    buildTriples(
      {
        docs: corpus.docs,
        keyOf: corpus.keyOf,
        queries: corpus.trainQueries,
        model: loaded.model,
        tokenizer: loaded.tokenizer,
        docids: loaded.docids,
      },
      { ...tripleOptions, log },
    );
  if (options.triplesPath !== undefined) {
    const path = resolve(options.triplesPath);
    if (existsSync(path)) {
      const triples = readTriples(path);
      if (cacheKey(triples.header.description) !== cacheKey(description)) {
        throw new UserError(
          `${path}: these triples were mined for another model, dataset or setting; remove the file or choose another --triples path`,
        );
      }
      return { groups: triples.groups, path, cached: true };
    }
    const groups = await build();
    await writeTriples(path, description, groups);
    return { groups, path, cached: false };
  }
  const cached = await cachedTriples(resolveCacheDir(options.cacheDir), description, build);
  return { groups: cached.groups, path: cached.path, cached: cached.hit };
}

/** Loss parts of one update beside the trainer's record. */
interface StepParts {
  rankLoss: number;
  generationLoss: number | null;
  positiveShift: number;
  negativeShift: number;
}

function lossFiles(
  method: RankMethod,
  records: readonly LossRecord[],
  parts: ReadonlyMap<number, StepParts>,
  evaluations: readonly DevEvaluation[],
): ExtraFile[] {
  const csv = [
    'update,epoch,loss,rank_loss,generation_loss,positive_shift,negative_shift,lr,grad_norm,examples,elapsed_s',
    ...records.map((r) => {
      const p = parts.get(r.update);
      const fields = p ? [p.rankLoss, p.generationLoss ?? '', p.positiveShift, p.negativeShift] : ['', '', '', ''];
      return `${r.update},${r.epoch},${r.loss},${fields.join(',')},${r.lr},${r.gradNorm},${r.examples},${r.elapsedS.toFixed(3)}`;
    }),
  ];
  const dev = [
    `update,epoch,${DEV_METRICS.join(',')},seconds`,
    ...evaluations.map((e) => `${e.update},${e.epoch},${DEV_METRICS.map((m) => e.metrics[m]).join(',')},${e.seconds.toFixed(2)}`),
  ];
  const points = records.map((r) => [r.update, r.loss] as [number, number]);
  const svg = linePlotSvg(
    [
      { name: 'loss', points, color: '#9ecae1', width: 1 },
      { name: 'loss (smoothed)', points: smooth(points, 0.9), color: '#1f77b4', width: 2 },
    ],
    { title: `${method.toUpperCase()} training loss`, xLabel: 'update', yLabel: 'loss' },
  );
  return [
    { path: `${method}-loss.csv`, data: `${csv.join('\n')}\n` },
    { path: `${method}-loss.svg`, data: svg },
    { path: `${method}-dev.csv`, data: `${dev.join('\n')}\n` },
  ];
}

/**
 * The code length L of a docid table (docid tokens before the disambiguator and EOS): the
 * scheme's level or sub-space count when recorded, else the most common length.
 */
export function docidCodeLength(docids: DocidTable): number {
  const recorded = docids.params.levels ?? docids.params.m;
  if (typeof recorded === 'number') return recorded;
  const counts = new Map<number, number>();
  for (let i = 0; i < docids.size; i++) {
    const length = docids.offsets[i + 1] - docids.offsets[i] - 1;
    counts.set(length, (counts.get(length) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}

/** The objective with prefix lengths L/n, 2L/n, … (distinct, shorter than L) for the margin loss. */
export function withPrefixes(objective: PreferenceObjective, levels: number | undefined, docids: DocidTable): PreferenceObjective {
  if (levels === undefined || levels <= 1) return objective;
  if (objective.rank.kind !== 'margin' && objective.rank.kind !== 'margin-mse')
    throw new UserError('prefix levels apply to the margin and margin-mse rank losses');
  const length = docidCodeLength(docids);
  const lengths = [...new Set(Array.from({ length: levels - 1 }, (_, i) => Math.ceil((length * (i + 1)) / levels)))].filter(
    (p) => p >= 1 && p < length,
  );
  return { ...objective, rank: { ...objective.rank, prefixLengths: lengths } };
}

/** Trains an SFT model further on DDRO's or LTRGR's objective and saves the best model by dev RR@10. */
export async function runRankTraining(options: RankTrainingOptions): Promise<RankTrainingResult> {
  const distilling = options.objective.rank.kind === 'margin-mse';
  if (distilling && options.teacherRun === undefined)
    throw new UserError('--loss margin-mse needs --teacher-run <a TREC run over the training queries>');
  if (!distilling && options.teacherRun !== undefined) throw new UserError('--teacher-run applies to --loss margin-mse');
  const run = new PipelineRun(options.method, options.log);
  const out = resolve(options.out);
  const from = resolve(options.from);
  const work = `${out}.training`;
  if (out === from) throw new UserError(`--out ${options.out}: must differ from --from`);
  claimOutput({ out, work, overwrite: options.overwrite, resumable: false, label: options.method, log: run.log });
  // DDRO and LTRGR runs do not resume, so their work directory is scratch: a run that fails
  // or is interrupted removes it, and the next run needs no --overwrite.
  const releaseWork = removeOnExit(work);
  try {
    return await trainRankModel(run, options, { out, from, work });
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  } finally {
    releaseWork();
  }
}

async function trainRankModel(
  run: PipelineRun,
  options: RankTrainingOptions,
  paths: { out: string; from: string; work: string },
): Promise<RankTrainingResult> {
  const { out, from, work } = paths;
  const log = run.log;
  const method = options.method;
  const methodDefaults = METHOD_DEFAULTS[method];
  const timings = run.timings;

  const loaded = await run.time('load', () => loadModelDirectory(from, { threads: options.threads }));
  const { model, tokenizer, docids, manifest } = loaded;
  const seed = options.seed ?? RANK_DEFAULTS.seed;
  const objective = withPrefixes(options.objective, options.prefixLevels, docids);
  if (hasPrefixes(objective.rank))
    log(
      `${method}: prefix-oriented ${objective.rank.kind} loss on prefixes of ${objective.rank.prefixLengths.join(', ')} tokens and whole docids`,
    );
  const rank = objective.rank;
  const maxSourceTokens = options.maxSourceTokens ?? RANK_DEFAULTS.maxSourceTokens;
  const tripleOptions: TripleOptions = {
    negatives: options.negatives,
    seed,
    modelCount: options.modelNegatives,
    maxSourceTokens,
    threads: options.threads,
    progress: options.progress,
  };
  log(
    `${method}: from ${from} (${String(manifest.dataset.id)}, ${docids.size} ${docids.scheme} docids, ${(manifest.model.parameters / 1e6).toFixed(2)}M parameters)`,
  );
  // The dev set before the triples, so that a wrong --dev-split is reported before the mining.
  const evaluating = options.evalEvery === undefined || options.evalEvery > 0;
  const dev = evaluating
    ? await run.time('dev-load', () => devSet(manifest, options.dataDir, options.devSplit ?? RANK_DEFAULTS.devSplit))
    : { queries: [], qrels: new Map() as Qrels };
  const corpus = await run.time('corpus', () => trainingCorpus(manifest, options.dataDir));
  const teacherScale = options.teacherScale ?? 1;
  const teacherPath = options.teacherRun === undefined ? undefined : resolve(options.teacherRun);
  // The teacher before the triples too, so that a bad run file is reported before the mining.
  const teacher: TeacherRun | undefined = teacherPath === undefined ? undefined : await readTeacherRun(teacherPath, corpus, teacherScale);
  const triples = await run.time('triples', () => prepareTriples(loaded, corpus, options, tripleOptions, log));
  const tripleCount = triples.groups.reduce((s, g) => s + g.negatives.length, 0);
  log(`${method}: ${triples.groups.length} queries, ${tripleCount} triples (${triples.cached ? 'reused' : 'mined'}: ${triples.path})`);

  let encoded = encodeGroups(triples.groups, tokenizer, docids, maxSourceTokens, teacher?.score);
  const teacherLookups = teacher?.lookups();
  if (teacherLookups !== undefined)
    log(
      `${method}: teacher ${teacherPath} (× ${teacherScale} nats): ${teacherLookups.listed} of ${teacherLookups.total} positives and negatives listed in its rankings, the rest at their query's lowest score`,
    );
  const tokens = {
    padId: tokenizer.padId,
    eosId: tokenizer.eosId,
    decoderStartId: model.config.decoderStartTokenId,
    maxSourceLength: maxSourceTokens,
  };
  let data: PreferenceData;
  let settings: Record<string, unknown>;
  if (rank.kind === 'dpo') {
    const negativesPerGroup = options.negativesPerGroup ?? DDRO_DEFAULTS.negativesPerGroup;
    const batchSize = options.batchSize ?? DDRO_DEFAULTS.batchSize;
    data = dpoTrainingData(encoded, negativesPerGroup, {
      ...tokens,
      seed,
      groupsPerBatch: Math.max(1, Math.round(batchSize / negativesPerGroup)),
    });
    settings = { negativesPerGroup, batchSize };
  } else {
    const hardOnly = options.hardOnly ?? rank.kind === 'margin';
    if (hardOnly) {
      const margin = rank.kind === 'margin' ? rank.margin : 0;
      const before = encoded.length;
      encoded = hardGroups(encoded, margin);
      log(`${method}: ${encoded.length} of ${before} queries are hard (positive not ahead of the top negative by ${margin})`);
      if (encoded.length === 0) throw new UserError(`${method}: no hard query left; every positive is already ahead by the margin`);
    }
    const batchSize = options.batchSize ?? LTRGR_DEFAULTS.batchSize;
    const listSize = options.listSize ?? LTRGR_DEFAULTS.listSize;
    data =
      rank.kind === 'margin' || rank.kind === 'margin-mse'
        ? marginTrainingData(encoded, { ...tokens, seed, groupsPerBatch: batchSize })
        : listwiseTrainingData(encoded, listSize, { ...tokens, seed, groupsPerBatch: batchSize });
    settings = {
      batchSize,
      hardOnly,
      ...(rank.kind === 'listwise' ? { listSize } : {}),
      ...(teacherLookups === undefined
        ? {}
        : { teacherRun: teacherPath, teacherScale, teacherListed: teacherLookups.listed / teacherLookups.total }),
    };
  }
  const epochs = options.epochs ?? methodDefaults.epochs;
  const lr = options.lr ?? methodDefaults.lr;
  const totalUpdates = options.updates ?? Math.max(1, Math.ceil(epochs * data.batchesPerEpoch));
  const warmupSteps = Math.min(totalUpdates, options.warmupSteps ?? Math.min(1000, Math.ceil(totalUpdates * 0.1)));
  const clipNorm = options.clipNorm ?? RANK_DEFAULTS.clipNorm;
  const evalEvery = options.evalEvery ?? Math.max(1, Math.ceil(data.batchesPerEpoch / 4));
  const patience = options.patience ?? RANK_DEFAULTS.patience;
  settings = {
    ...settings,
    objective,
    negatives: options.negatives,
    modelNegatives: options.modelNegatives ?? null,
    lr,
    epochs,
    totalUpdates,
    warmupSteps,
    schedule: 'cosine',
    clipNorm,
    weightDecay: options.weightDecay ?? RANK_DEFAULTS.weightDecay,
    seed,
    evalEvery,
    patience,
    devSplit: options.devSplit ?? RANK_DEFAULTS.devSplit,
    devQueries: options.devQueries ?? RANK_DEFAULTS.devQueries,
    beam: options.beam ?? RANK_DEFAULTS.beam,
    maxSourceTokens,
  };
  log(
    `${method}: ${data.groupsPerEpoch} groups, ${data.pairsPerEpoch} pairs, ${data.batchesPerEpoch} updates per epoch; ${epochs} epochs, lr ${lr}, warm-up ${warmupSteps}`,
  );

  // Dev set: a seeded sample of the split's queries (none when evaluation is off).
  const { queries: devQueries, qrels: devQrels } = sampleDevQueries(dev, options.devQueries ?? RANK_DEFAULTS.devQueries, seed);
  const beam = options.beam ?? RANK_DEFAULTS.beam;
  const evaluations: DevEvaluation[] = [];
  const evaluate = async (update: number, epoch: number): Promise<DevEvaluation> => {
    const t = performance.now();
    const run = await withModelSearcher(model, { tokenizer, docids }, { threads: options.threads }, (searcher) =>
      searcher.searchRun(devQueries, { ...clampBeam(docids.size, beam), maxQueryTokens: maxSourceTokens, progress: false }),
    );
    const metrics = evaluateRun(run, devQrels, [...DEV_METRICS]).mean;
    const evaluation = { update, epoch, metrics, seconds: (performance.now() - t) / 1000 };
    timings.dev = (timings.dev ?? 0) + evaluation.seconds;
    evaluations.push(evaluation);
    log(
      `${method}: update ${update}: dev ${DEV_METRICS.map((m) => `${m} ${metrics[m].toFixed(4)}`).join(', ')} (${devQueries.length} queries, ${evaluation.seconds.toFixed(1)} s)`,
    );
    return evaluation;
  };
  const snapshot = () => model.parameters.map((p) => Float32Array.from(p.data));
  let best: DevEvaluation | null = null;
  let bestWeights: Float32Array[] | null = null;
  let sinceBest = 0;
  const consider = (evaluation: DevEvaluation): boolean => {
    if (best === null || evaluation.metrics[DEV_METRICS[0]] > best.metrics[DEV_METRICS[0]]) {
      best = evaluation;
      bestWeights = snapshot();
      sinceBest = 0;
      return true;
    }
    sinceBest += 1;
    return false;
  };
  if (evalEvery > 0 && devQueries.length > 0) consider(await evaluate(0, 0));

  const trainer = new PreferenceModel(model, objective, { threads: options.threads });
  let lastEvaluated = 0;
  const parts = new Map<number, StepParts>();
  const result = await run.time('training', () =>
    train({
      model: trainer,
      data: data.data,
      totalUpdates,
      schedule: cosineSchedule({ peak: lr, warmupSteps, totalSteps: totalUpdates }),
      optimizer: { weightDecay: options.weightDecay ?? RANK_DEFAULTS.weightDecay },
      clipNorm,
      seed,
      runDir: work,
      progress: options.progress,
      label: method,
      onUpdate: async (record) => {
        const last = trainer.last;
        if (last)
          parts.set(record.update, {
            rankLoss: last.rankLoss,
            generationLoss: last.generationLoss ?? null,
            positiveShift: last.positiveShift,
            negativeShift: last.negativeShift,
          });
        if (evalEvery <= 0 || devQueries.length === 0) return;
        if (record.update % evalEvery !== 0 && record.update !== totalUpdates) return;
        lastEvaluated = record.update;
        consider(await evaluate(record.update, record.epoch));
        return sinceBest >= patience ? 'stop' : undefined;
      },
    }),
  );
  await trainer.release();
  if (evalEvery > 0 && devQueries.length > 0 && lastEvaluated !== result.update)
    consider(await evaluate(result.update, result.records.at(-1)?.epoch ?? 0));
  const chosen = best as DevEvaluation | null;
  const chosenWeights = bestWeights as Float32Array[] | null;
  if (chosenWeights !== null) model.parameters.forEach((p, i) => p.data.set(chosenWeights[i]));
  if (chosen !== null)
    log(
      `${method}: best dev ${DEV_METRICS[0]} ${chosen.metrics[DEV_METRICS[0]].toFixed(4)} at update ${chosen.update}${chosen.update === 0 ? ' (the SFT model itself)' : ''}`,
    );

  // Per-epoch training time from the loss records (evaluation time is not in elapsedS).
  const epochSeconds: number[] = [];
  const epochUpdates: number[] = [];
  let previous = 0;
  for (const r of result.records) {
    epochSeconds[r.epoch] = (epochSeconds[r.epoch] ?? 0) + (r.elapsedS - previous);
    epochUpdates[r.epoch] = (epochUpdates[r.epoch] ?? 0) + 1;
    previous = r.elapsedS;
  }
  const report: RankTrainingReport = {
    method,
    from,
    settings,
    triples: {
      path: triples.path,
      cached: triples.cached,
      groups: triples.groups.length,
      triples: tripleCount,
      trainingGroups: encoded.length,
      seconds: timings.triples,
    },
    data: { batchesPerEpoch: data.batchesPerEpoch, groupsPerEpoch: data.groupsPerEpoch, pairsPerEpoch: data.pairsPerEpoch },
    updates: result.update,
    stoppedEarly: result.stopped,
    evaluations,
    best: chosen,
    epochSeconds: Array.from(epochSeconds, (s) => s ?? 0),
    epochUpdates: Array.from(epochUpdates, (n) => n ?? 0),
    timings,
    wallSeconds: run.wallSeconds(),
    peakRssMb: peakRssMb(),
  };
  const extraFiles: ExtraFile[] = [
    { path: `${method}-report.json`, data: `${JSON.stringify(report, null, 2)}\n` },
    ...lossFiles(method, result.records, parts, evaluations),
  ];
  const sftReport = join(from, 'report.json');
  if (existsSync(sftReport)) extraFiles.push({ path: 'sft-report.json', data: readFileSync(sftReport) });
  const saved = await run.time('save', () =>
    saveModelDirectory(out, {
      model,
      tokenizer,
      docids,
      titles: loaded.docs,
      dataset: manifest.dataset,
      onnx: options.onnx,
      extraFiles,
      extra: { method, from, report: `${method}-report.json`, best: chosen, sft: manifest.extra ?? null },
    }),
  );
  await model.release();
  if (!options.keepWork) rmSync(work, { recursive: true, force: true });
  log(`${method}: model saved to ${out} (${report.wallSeconds.toFixed(1)} s, peak RSS ${report.peakRssMb.toFixed(0)} MB)`);
  return { dir: out, manifest: saved, report };
}
