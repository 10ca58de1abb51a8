/**
 * `genir experiment docid-schemes`: docid designs compared at an equal training budget.
 *
 * 1. A dense dual encoder is trained for the budget (`genir train dense`) and evaluated: the
 *    dense baseline, and the vectors RIPOR's rq docids quantize.
 * 2. One SFT model per docid scheme, same recipe and the same training-time budget; rq docids
 *    come from the dense model's vectors with RIPOR's initialisation, pq and semantic from
 *    the built-in LSA vectors (their default), title and atomic need none. The recipe is
 *    `genir train sft`'s: the CLI reads recipes/budgeted-sft.json with `--docids <scheme>`
 *    (`sftFor`); a library caller without `sftFor` gets runSft's defaults. (Until session 11 it
 *    was the DDRO ablation's 30-epoch mix cut by the budget, whose learning rate had barely left
 *    its peak when the budget ran out: test RR@10 0.004–0.008 at 4 minutes, against 0.51 for one
 *    epoch of the default recipe.)
 * 3. Optionally DDRO on top of each SFT model (SFT+DDRO).
 * 4. Every model, BM25 and the dense model on the test split (xquad: per query language,
 *    against the English paragraphs; the tables give the mean over languages).
 *
 * Trained models are cached under the work directory by a hash of their recipe, so a second
 * run reuses them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DocidScheme } from '../docids/table.js';
import { formatTable, formatValue } from '../eval/report.js';
import { MANIFEST_FILE, loadModelDirectory } from '../retriever/directory.js';
import type { T5Config } from '../model/config.js';
import { loadDenseModelDirectory } from '../retriever/dense-directory.js';
import { DenseSearcher } from '../search/dense.js';
import { clampBeam, GenerativeSearcher } from '../search/searcher.js';
import { runDdro } from '../train/methods/rank/ddro.js';
import { runDenseTraining, type DenseTrainingOptions } from '../train/methods/dense/pipeline.js';
import { datasetLanguages } from '../data/training-corpus.js';
import { runSft, SFT_DEFAULTS, type SftOptions } from '../train/methods/sft/pipeline.js';
import { defaultLexicalInit } from '../train/methods/sft/lexical-init.js';
import { peakRssMb } from '../train/methods/sft/report.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import {
  ABLATION_METRICS,
  ablationRecipe,
  bm25Runs,
  keyed,
  perQuery,
  testSets,
  type AblationDataset,
  type AblationRecipe,
  type AblationRuns,
} from './ddro-ablation.js';

export const SCHEME_ORDER: readonly DocidScheme[] = ['rq', 'pq', 'semantic', 'title', 'atomic'];

export interface DocidSchemesOptions {
  dataset: AblationDataset;
  /** Training-time budget of every model (the dense encoder and each SFT model), in minutes. */
  minutes: number;
  /** The ablation recipe's runs (recipes/ddro-ablation.json): DDRO's settings, the beam, the test queries (and --quick's SFT). */
  runs: AblationRuns;
  /**
   * The SFT settings of a scheme's model (the dataset, languages, seed, budget, rq's embeddings
   * and `codes` are set here). Default: runSft's defaults with the scheme's default lexical
   * head. Not used with `quick`.
   */
  sftFor?: (scheme: DocidScheme) => Omit<SftOptions, 'out'>;
  /**
   * A trained dense model directory (genir train dense) to use instead of training one for the
   * budget: the dense row and rq's vectors, so a comparison can reuse a known encoder.
   */
  denseModel?: string;
  /** pq / rq code shape (SftOptions.docidCodes) of both schemes, so that they stay the same length. */
  codes?: { levels?: number; k?: number };
  docids?: readonly DocidScheme[];
  /** Also train DDRO on top of each SFT model. */
  ddro?: boolean;
  lang?: string;
  /** A micro configuration that runs every step in about a minute (a smoke test, not a result). */
  quick?: boolean;
  dataDir?: string;
  workDir?: string;
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface SchemeRow {
  docids: DocidScheme;
  method: 'sft' | 'sft+ddro';
  /** Mean over the evaluation sets (xquad: query languages). */
  metrics: Record<string, number>;
  /** Per query language (xquad). */
  byLang?: Record<string, Record<string, number>>;
  /** rq / pq: share of documents whose codes alone are distinct, and the docid length. */
  docidStats?: Record<string, number>;
}

export interface DocidSchemesResult {
  dataset: AblationDataset;
  rows: SchemeRow[];
  dense: Record<string, number>;
  bm25: Record<string, number>;
  table: string;
  files: string[];
  seconds: number;
  peakRssMb: number;
}

const MICRO: Partial<T5Config> = { dModel: 32, dKv: 8, numHeads: 4, dFf: 64, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 };

function mean(results: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metric of ABLATION_METRICS) out[metric] = results.reduce((s, r) => s + r[metric], 0) / results.length;
  return out;
}

/** The dense recipe: the seq2seq recipe's model and tokenizer (so rq's RIPOR initialisation can copy the encoder), trained for the budget. */
function denseRecipe(
  options: DocidSchemesOptions,
  lang: string | undefined,
  seed: number,
): Omit<DenseTrainingOptions, 'out' | 'dataDir' | 'threads' | 'log'> {
  const quick = options.quick ?? false;
  return {
    dataset: options.dataset,
    ...(lang !== undefined ? { lang } : {}),
    model: 'tiny',
    modelOverrides: quick ? MICRO : { dropoutRate: 0.1 },
    vocabSize: quick ? 1000 : 8000,
    epochs: quick ? 1 : 30,
    lr: 3e-3,
    maxPassageTokens: 128,
    budgetMinutes: options.minutes,
    seed,
    onnx: false,
  };
}

/** runSft's defaults for one scheme, as `genir train sft --dataset … --docids <scheme>` without a recipe. */
function defaultSftSettings(dataset: string, lang: string | undefined, scheme: DocidScheme, seed: number): Omit<SftOptions, 'out'> {
  const lexicalInit = defaultLexicalInit(scheme, false);
  return {
    dataset,
    ...(lang !== undefined ? { lang } : {}),
    docids: scheme,
    model: SFT_DEFAULTS.model,
    seed,
    ...(lexicalInit !== undefined ? { lexicalInit, modelOverrides: { lexicalHead: true } } : {}),
  };
}

/** Fields of SFT options that belong to one run, not to the model: kept out of the cached model's key. */
const RUN_FIELDS = ['out', 'dataDir', 'threads', 'log', 'progress', 'cacheDir', 'resume', 'overwrite', 'keepWork'] as const;

function withoutRunFields(recipe: Omit<SftOptions, 'out'>): Omit<SftOptions, 'out' | (typeof RUN_FIELDS)[number]> {
  const settings: Record<string, unknown> = { ...recipe };
  for (const field of RUN_FIELDS) delete settings[field];
  return settings as Omit<SftOptions, 'out' | (typeof RUN_FIELDS)[number]>;
}

/**
 * The SFT settings (without the run's folders and threads) of one scheme's model: `--quick`'s
 * micro run, else `sftFor` (the CLI: the default recipe) or runSft's defaults; then the command
 * line's dataset, languages, seed and budget, the code shape of pq and rq, and rq's dense
 * vectors with RIPOR's initialisation.
 */
export function schemeSftSettings(
  options: Pick<DocidSchemesOptions, 'dataset' | 'minutes' | 'quick' | 'sftFor' | 'codes'>,
  scheme: DocidScheme,
  context: { base: AblationRecipe['sft']; lang: string | undefined; seed: number; denseDir: string },
): Omit<SftOptions, 'out' | (typeof RUN_FIELDS)[number]> {
  const { lang, seed } = context;
  const recipe: Omit<SftOptions, 'out'> =
    options.quick === true
      ? { ...context.base, docids: scheme }
      : (options.sftFor?.(scheme) ?? defaultSftSettings(options.dataset, lang, scheme, seed));
  return {
    ...withoutRunFields(recipe),
    // The command line's dataset, languages and seed, whatever the recipe says.
    dataset: options.dataset,
    ...(lang !== undefined ? { lang } : {}),
    seed,
    budgetMinutes: options.minutes,
    docids: scheme,
    ...((scheme === 'pq' || scheme === 'rq') && options.codes !== undefined ? { docidCodes: options.codes } : {}),
    ...(scheme === 'rq' ? { denseEmbeddings: context.denseDir, riporInit: true } : {}),
  };
}

export async function runDocidSchemes(options: DocidSchemesOptions): Promise<DocidSchemesResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!(options.minutes > 0)) throw new UserError(`--minutes ${options.minutes}: expected a positive number`);
  const seed = options.seed ?? 0;
  const quick = options.quick ?? false;
  const schemes = options.docids ?? SCHEME_ORDER;
  if (schemes.length === 0) throw new UserError('--docids: no scheme given');
  if (options.denseModel !== undefined && !existsSync(join(options.denseModel, MANIFEST_FILE)))
    throw new UserError(`--dense-model ${options.denseModel}: not a model directory (no ${MANIFEST_FILE}; genir train dense writes one)`);
  const work = resolve(options.workDir ?? 'runs/docid-schemes');
  mkdirSync(work, { recursive: true });
  const base = ablationRecipe(options.runs, options.dataset, quick, options.lang, seed);
  const lang = base.sft.lang;
  const languages = datasetLanguages(options.dataset, lang);
  const sets = await testSets(options.dataset, options.dataDir, languages, base.testQueries, seed);
  const common = { dataDir: options.dataDir, threads: options.threads, log };

  // 1. The dense model: baseline and rq's vectors.
  const dense = denseRecipe(options, lang, seed);
  const denseDir = options.denseModel !== undefined ? resolve(options.denseModel) : join(work, keyed(`${options.dataset}-dense`, dense));
  if (options.denseModel !== undefined) {
    log(`docid-schemes: dense encoder: ${denseDir} (given, not trained for the budget)`);
  } else if (!existsSync(join(denseDir, MANIFEST_FILE))) {
    log(`docid-schemes: dense encoder → ${denseDir}`);
    await runDenseTraining({ ...dense, ...common, out: denseDir, overwrite: true, progress: false });
  } else log(`docid-schemes: dense encoder: reusing ${denseDir}`);
  const loadedDense = await loadDenseModelDirectory(denseDir, { threads: options.threads, bakeInferenceWeights: true, verify: 'size' });
  const denseResults: Record<string, number>[] = [];
  const denseByLang: Record<string, Record<string, number>> = {};
  try {
    for (const set of sets) {
      // The test corpus (xquad: the English paragraphs) encoded by the dense model.
      const searcher = await DenseSearcher.fromDocuments(loadedDense.model, loadedDense.tokenizer, set.docs, { threads: options.threads });
      const run = await searcher.searchRun(set.queries, { k: 10 });
      await searcher.index.release();
      const result = perQuery(run, set.qrels).mean;
      denseResults.push(result);
      if (set.lang) denseByLang[set.lang] = result;
    }
  } finally {
    await loadedDense.model.release();
  }
  const bm25Results = (await bm25Runs(sets)).map((run, i) => perQuery(run, sets[i].qrels).mean);

  // 2-3. One SFT model per scheme (and DDRO on top), the same recipe and budget.
  const rows: SchemeRow[] = [];
  for (const scheme of schemes) {
    const sft = schemeSftSettings(options, scheme, { base: base.sft, lang, seed, denseDir });
    const sftDir = join(work, keyed(`${options.dataset}-${scheme}-sft`, sft));
    if (!existsSync(join(sftDir, MANIFEST_FILE))) {
      log(`docid-schemes: SFT ${scheme} → ${sftDir}`);
      await runSft({ ...sft, ...common, cacheDir: join(work, 'cache'), out: sftDir, overwrite: true, progress: false });
    } else log(`docid-schemes: SFT ${scheme}: reusing ${sftDir}`);
    const models: ['sft' | 'sft+ddro', string][] = [['sft', sftDir]];
    if (options.ddro) {
      const ddroDir = join(work, keyed(`${options.dataset}-${scheme}-ddro`, { sft: sftDir, ...base.ddro }));
      if (!existsSync(join(ddroDir, MANIFEST_FILE))) {
        log(`docid-schemes: DDRO ${scheme} → ${ddroDir}`);
        await runDdro({ ...base.ddro, ...common, from: sftDir, out: ddroDir, overwrite: true, progress: false });
      }
      models.push(['sft+ddro', ddroDir]);
    }
    for (const [method, dir] of models) {
      const loaded = await loadModelDirectory(dir, { threads: options.threads, verify: 'size' });
      const searcher = await GenerativeSearcher.fromModel(loaded.model, loaded, { threads: options.threads });
      const results: Record<string, number>[] = [];
      const byLang: Record<string, Record<string, number>> = {};
      try {
        for (const set of sets) {
          const run = await searcher.searchRun(set.queries, { ...clampBeam(loaded.docids.size, base.beam), progress: false });
          const result = perQuery(run, set.qrels).mean;
          results.push(result);
          if (set.lang) byLang[set.lang] = result;
        }
      } finally {
        await searcher.release();
        await loaded.model.release();
      }
      const p = loaded.docids.params;
      const docidStats: Record<string, number> = {
        tokensPerDocid: loaded.docids.tokens.length / loaded.docids.size - 1,
        collided: Number(p.collided ?? 0),
      };
      if (typeof p.distinctFraction === 'number') docidStats.distinctFraction = p.distinctFraction;
      if (typeof p.relativeError === 'number') docidStats.relativeError = p.relativeError;
      rows.push({ docids: scheme, method, metrics: mean(results), ...(languages ? { byLang } : {}), docidStats });
    }
  }

  const denseMean = mean(denseResults);
  const bm25Mean = mean(bm25Results);
  const table = formatTable([
    ['system', 'docids', ...ABLATION_METRICS],
    ['BM25', '–', ...ABLATION_METRICS.map((m) => formatValue(bm25Mean[m]))],
    ['dense', '–', ...ABLATION_METRICS.map((m) => formatValue(denseMean[m]))],
    ...rows.map((r) => [r.method, r.docids, ...ABLATION_METRICS.map((m) => formatValue(r.metrics[m]))]),
  ]);
  const resultsDir = join(work, `results-${options.dataset}${quick ? '-quick' : ''}`);
  mkdirSync(resultsDir, { recursive: true });
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    dataset: options.dataset,
    minutes: options.minutes,
    quick,
    seed,
    rows,
    dense: { ...denseMean, ...(languages ? { byLang: denseByLang } : {}) },
    bm25: bm25Mean,
    seconds,
    peakRssMb: peakRssMb(),
  };
  const files = [join(resultsDir, 'results.json'), join(resultsDir, 'results.md')];
  writeFileAtomicSync(files[0], `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomicSync(
    files[1],
    `# Docid schemes at ${options.minutes} training minutes each: ${options.dataset}${quick ? ' (quick)' : ''}\n\n${table}\n`,
  );
  return { dataset: options.dataset, rows, dense: denseMean, bm25: bm25Mean, table, files, seconds, peakRssMb: peakRssMb() };
}
