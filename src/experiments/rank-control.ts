/**
 * `genir experiment rank-control`: does direct document-level optimisation beat more token-level
 * training of the same model? From one SFT checkpoint, for each seed, three runs of exactly the
 * same number of updates:
 *
 *   ddro     DPO on whole-docid log-probabilities against the frozen SFT model, with DDRO's
 *            stratified BM25 negatives;
 *   ltrgr    LTRGR's margin rank loss plus its generation loss, with model-mined negatives;
 *   control  the DDRO run's batches and optimizer with the rank term switched off (rank weight 0,
 *            cross-entropy weight 1): plain token-level training on the same positives.
 *
 * Every run evaluates dev RR@10 four times and at its end, and keeps the best evaluation (update 0
 * included: a run whose best is update 0 *is* the SFT model, and is marked so). Test RR@10 per
 * query of each run is compared, paired over queries, with SFT and with the same seed's control
 * (t-test; on XQuAD the 12 per-language p-values of a run are Holm-adjusted). Across seeds the
 * mean and sample standard deviation of test RR@10 are reported.
 *
 * Datasets: squad-dev, or xquad (queries of each language against the English paragraphs' docids,
 * BM25 X→en and X→X and the RRF hybrid of SFT with BM25 X→en beside them, and a per-language plot).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Bm25Index } from '../bm25/bm25-index.js';
import { openDataset } from '../data/registry.js';
import type { Document, Run } from '../data/types.js';
import { datasetLanguages, languageViews } from '../data/training-corpus.js';
import { formatTable, formatValue } from '../eval/report.js';
import { holmAdjust, pairedTTest } from '../eval/significance.js';
import { MANIFEST_FILE, loadModelDirectory } from '../retriever/directory.js';
import { fuseRuns } from '../search/hybrid.js';
import { clampBeam, GenerativeSearcher } from '../search/searcher.js';
import { getAnalyzer } from '../text/analyzers/index.js';
import { runDdro } from '../train/methods/rank/ddro.js';
import { runLtrgr } from '../train/methods/rank/ltrgr.js';
import type { RankTrainingReport } from '../train/methods/rank/pipeline.js';
import { peakRssMb } from '../train/methods/sft/report.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { bm25Runs, keyed, perQuery, testSets } from './ddro-ablation.js';
import { barChartSvg } from './plot.js';

export const RANK_CONTROL_METHODS = ['ddro', 'ltrgr', 'control'] as const;
export type RankControlMethod = (typeof RANK_CONTROL_METHODS)[number];

export interface RankControlOptions {
  /** The SFT model directory every run starts from (and DDRO's frozen reference). */
  from: string;
  /** squad-dev, a SQuAD-format .json file, or xquad (per query language). */
  dataset: string;
  /** Updates of every run. */
  updates: number;
  seeds: readonly number[];
  /** Peak learning rate of every run (one value, so the runs differ only in their objective). */
  lr: number;
  work: string;
  dataDir?: string;
  threads?: number;
  /** Beam of the test searches (default 20). */
  beam?: number;
  /** Dev queries of checkpoint selection (default 500). */
  devQueries?: number;
  log?: (line: string) => void;
}

export interface RankControlTraining {
  method: RankControlMethod;
  seed: number;
  /** Queries that trained (LTRGR keeps only hard ones). */
  queries: number;
  updates: number;
  chosenUpdate: number | null;
  /** True when dev selection kept update 0: the row is the SFT model. */
  keptSft: boolean;
}

export interface RankControlRow {
  system: string;
  seed: number | null;
  lang: string | null;
  queries: number;
  metrics: Record<string, number>;
  p_vs_sft: number | null;
  p_vs_control: number | null;
  /** XQuAD: Holm-adjusted over the languages of this system and seed. */
  p_vs_sft_holm?: number | null;
  p_vs_control_holm?: number | null;
}

export interface RankControlResult {
  dataset: string;
  updates: number;
  seeds: number[];
  lr: number;
  training: RankControlTraining[];
  rows: RankControlRow[];
  /** Mean over languages (one value on squad-dev) of test RR@10, then mean and sd across seeds. */
  summary: Record<string, { rr10_mean: number; rr10_sd: number; per_seed: number[] }>;
  table: string;
  files: string[];
  seconds: number;
  peakRssMb: number;
}

function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}

const METRICS = ['RR@10', 'R@1', 'R@10'] as const;

/** Per-query RR@10 and the mean of the reported metrics, from one evaluation of the run. */
function measured(run: Run, qrels: Parameters<typeof perQuery>[1]): { mean: Record<string, number>; values: number[] } {
  const { mean, values } = perQuery(run, qrels);
  return { mean: Object.fromEntries(METRICS.map((m) => [m, mean[m]])), values };
}

/** Monolingual BM25 (query language X against the corpus in X), one run per evaluation set. */
async function monolingualBm25(sets: Awaited<ReturnType<typeof testSets>>, dataDir: string | undefined): Promise<Run[]> {
  const runs: Run[] = [];
  for (const set of sets) {
    const lang = set.lang ?? 'en';
    const dataset = await openDataset({ id: languageViews('xquad', [lang], lang)[0].id, dataDir });
    const docs: Document[] = [];
    for await (const doc of dataset.docs()) docs.push(doc);
    const index = await Bm25Index.build(docs, { analyzer: getAnalyzer(lang === 'en' ? 'english' : 'multilingual', lang) });
    const hits = await index.searchBatch(
      set.queries.map((q) => ({ text: q.text, lang })),
      100,
    );
    // A single-language view names each paragraph by the English paragraph's id, which the judgments use.
    runs.push(index.toRun(set.queries, hits));
  }
  return runs;
}

export async function runRankControl(options: RankControlOptions): Promise<RankControlResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(join(options.from, MANIFEST_FILE)))
    throw new UserError(`--from ${options.from}: not a genir model directory (no ${MANIFEST_FILE})`);
  if (options.seeds.length === 0) throw new UserError('--seeds: give at least one seed');
  const work = resolve(options.work);
  mkdirSync(work, { recursive: true });
  const beam = options.beam ?? 20;
  const languages = datasetLanguages(options.dataset, undefined);
  const sets = await testSets(options.dataset, options.dataDir, languages, 0, 0);
  const evalEvery = Math.max(1, Math.ceil(options.updates / 4));
  const common = {
    from: options.from,
    dataDir: options.dataDir,
    threads: options.threads,
    updates: options.updates,
    lr: options.lr,
    evalEvery,
    // Every run does all its updates: selection is by dev RR@10, not by stopping early.
    patience: 1_000_000,
    devQueries: options.devQueries ?? 500,
    cacheDir: join(work, 'cache'),
    progress: false,
    overwrite: true,
    log,
  };

  const training: RankControlTraining[] = [];
  const dirs = new Map<string, string>();
  for (const seed of options.seeds) {
    for (const method of RANK_CONTROL_METHODS) {
      // Keyed by what decides the run, so a run with other settings is not mistaken for this one.
      const out = join(
        work,
        keyed(`${method}-seed${seed}`, {
          from: resolve(options.from),
          updates: options.updates,
          lr: options.lr,
          devQueries: common.devQueries,
        }),
      );
      dirs.set(`${method}/${seed}`, out);
      const reportFile = join(out, `${method === 'ltrgr' ? 'ltrgr' : 'ddro'}-report.json`);
      let report: RankTrainingReport;
      if (existsSync(join(out, MANIFEST_FILE)) && existsSync(reportFile)) {
        log(`rank-control: ${method} seed ${seed}: reusing ${out}`);
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as RankTrainingReport;
      } else {
        log(`rank-control: ${method} seed ${seed}: ${options.updates} updates → ${out}`);
        const run =
          method === 'ltrgr'
            ? runLtrgr({ ...common, seed, out })
            : runDdro({ ...common, seed, out, negatives: 'bm25', ...(method === 'control' ? { sftWeight: 1, rankWeight: 0 } : {}) });
        report = (await run).report;
      }
      const chosen = report.best?.update ?? null;
      training.push({
        method,
        seed,
        queries: report.triples.trainingGroups,
        updates: report.updates,
        chosenUpdate: chosen,
        keptSft: chosen === 0,
      });
    }
  }

  const evaluateModel = async (dir: string) => {
    const loaded = await loadModelDirectory(dir, { threads: options.threads, verify: 'size' });
    const searcher = await GenerativeSearcher.fromModel(loaded.model, loaded, { threads: options.threads });
    try {
      const out: { mean: Record<string, number>; values: number[]; run: Run }[] = [];
      for (const set of sets) {
        const run = await searcher.searchRun(set.queries, { ...clampBeam(loaded.docids.size, beam, beam), progress: false });
        out.push({ ...measured(run, set.qrels), run });
      }
      return out;
    } finally {
      await searcher.release();
      await loaded.model.release();
    }
  };
  log('rank-control: evaluating SFT and every run on the test split');
  const sft = await evaluateModel(options.from);
  const rows: RankControlRow[] = [];
  const pushRows = (
    system: string,
    seed: number | null,
    results: { mean: Record<string, number>; values: number[] }[],
    control?: number[][],
  ) => {
    const pSft = results.map((r, i) => pairedTTest(r.values, sft[i].values).p);
    const pControl = control ? results.map((r, i) => pairedTTest(r.values, control[i]).p) : null;
    const holmSft = languages ? holmAdjust(pSft) : null;
    const holmControl = languages && pControl ? holmAdjust(pControl) : null;
    results.forEach((r, i) =>
      rows.push({
        system,
        seed,
        lang: sets[i].lang,
        queries: sets[i].queries.length,
        metrics: r.mean,
        p_vs_sft: pSft[i],
        p_vs_control: pControl ? pControl[i] : null,
        ...(holmSft ? { p_vs_sft_holm: holmSft[i], p_vs_control_holm: holmControl ? holmControl[i] : null } : {}),
      }),
    );
  };
  const bm25 = (await bm25Runs(sets)).map((run, i) => ({ ...measured(run, sets[i].qrels), run }));
  pushRows(languages ? 'bm25 X→en' : 'bm25', null, bm25);
  if (languages) {
    const mono = (await monolingualBm25(sets, options.dataDir)).map((run, i) => measured(run, sets[i].qrels));
    pushRows('bm25 X→X', null, mono);
  }
  rows.push(
    ...sft.map((r, i) => ({
      system: 'sft',
      seed: null,
      lang: sets[i].lang,
      queries: sets[i].queries.length,
      metrics: r.mean,
      p_vs_sft: null,
      p_vs_control: null,
    })),
  );
  const hybrid = sft.map((r, i) => {
    const run = fuseRuns([r.run, bm25[i].run], { method: 'rrf' }, 100);
    return measured(run, sets[i].qrels);
  });
  pushRows('hybrid (sft + bm25, RRF)', null, hybrid);

  const perSeed = new Map<string, number[]>();
  for (const seed of options.seeds) {
    const results = new Map<RankControlMethod, Awaited<ReturnType<typeof evaluateModel>>>();
    for (const method of RANK_CONTROL_METHODS) results.set(method, await evaluateModel(dirs.get(`${method}/${seed}`)!));
    const control = results.get('control')!.map((r) => r.values);
    for (const method of RANK_CONTROL_METHODS) {
      const results_ = results.get(method)!;
      pushRows(method, seed, results_, method === 'control' ? undefined : control);
      const mean = results_.reduce((s, r) => s + r.mean['RR@10'], 0) / results_.length;
      perSeed.set(method, [...(perSeed.get(method) ?? []), mean]);
    }
  }
  const summary: RankControlResult['summary'] = {
    sft: { rr10_mean: sft.reduce((s, r) => s + r.mean['RR@10'], 0) / sft.length, rr10_sd: 0, per_seed: [] },
  };
  for (const [method, values] of perSeed)
    summary[method] = { rr10_mean: values.reduce((a, b) => a + b, 0) / values.length, rr10_sd: sampleSd(values), per_seed: values };

  const p = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v < 0.001 ? '<0.001' : v.toFixed(3));
  const table = formatTable([
    [
      ...(languages ? ['lang'] : []),
      'system',
      'seed',
      ...METRICS,
      'p vs sft',
      'p vs control',
      ...(languages ? ['Holm vs sft', 'Holm vs control'] : []),
    ],
    ...rows.map((r) => [
      ...(languages ? [r.lang ?? ''] : []),
      r.system,
      r.seed === null ? '–' : String(r.seed),
      ...METRICS.map((m) => formatValue(r.metrics[m])),
      p(r.p_vs_sft),
      p(r.p_vs_control),
      ...(languages ? [p(r.p_vs_sft_holm), p(r.p_vs_control_holm)] : []),
    ]),
  ]);
  const files: string[] = [];
  const resultsDir = join(work, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const seconds = (performance.now() - started) / 1000;
  const result = {
    dataset: options.dataset,
    updates: options.updates,
    seeds: [...options.seeds],
    lr: options.lr,
    training,
    rows,
    summary,
    table,
    files,
    seconds,
    peakRssMb: peakRssMb(),
  };
  writeFileAtomicSync(join(resultsDir, 'results.json'), `${JSON.stringify({ ...result, table: undefined }, null, 2)}\n`);
  files.push(join(resultsDir, 'results.json'));
  if (languages) {
    const meanOverSeeds = (system: string, lang: string) => {
      const values = rows.filter((r) => r.system === system && r.lang === lang).map((r) => r.metrics['RR@10']);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const series: [string, string, string][] = [
      ['bm25 X→en', 'BM25 X→en', '#bcbd22'],
      ['bm25 X→X', 'BM25 X→X', '#8c564b'],
      ['sft', 'GenIR (SFT)', '#7f7f7f'],
      ['hybrid (sft + bm25, RRF)', 'hybrid (RRF)', '#9467bd'],
      ['ddro', 'DDRO', '#1f77b4'],
      ['control', 'control', '#ff7f0e'],
    ];
    const svg = barChartSvg(
      languages,
      series.map(([system, name, color]) => ({ name, values: languages.map((lang) => meanOverSeeds(system, lang)), color })),
      {
        title: `XQuAD test RR@10 by query language (docids of the English paragraphs; DDRO/control: mean of ${options.seeds.length} seeds)`,
        yLabel: 'RR@10',
      },
    );
    const path = join(resultsDir, 'rr10-by-language.svg');
    writeFileAtomicSync(path, svg);
    files.push(path);
  }
  return result;
}
