/**
 * `genir experiment ddro-ablation`: from one SFT checkpoint per docid scheme, train LTRGR and
 * DDRO, evaluate all three with BM25 beside them on the test split, and compare each with
 * SFT on the same queries (paired t-test and randomization test on per-query RR@10).
 *
 * Datasets: squad-dev (English passages), and xquad in the cross-lingual setting: one model
 * trained on all 12 languages (translations of a paragraph share its docid), evaluated per
 * query language against the English paragraph's docid; BM25 searches the English corpus.
 *
 * The training settings are data: recipes/ddro-ablation.json (or a --recipe file's `runs`).
 * Every trained model is cached under the work directory by a hash of its recipe, so a
 * second run (or another scheme list) reuses what exists. Everything is seeded.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Bm25Index } from '../bm25/bm25-index.js';
import { openDataset } from '../data/registry.js';
import type { Document, Qrels, Query, Run } from '../data/types.js';
import type { DocidScheme } from '../docids/table.js';
import { evaluateRun } from '../eval/metrics.js';
import { formatTable, formatValue } from '../eval/report.js';
import { pairedTTest, randomizationTest } from '../eval/significance.js';
import { MANIFEST_FILE, loadModelDirectory } from '../retriever/directory.js';
import { clampBeam, GenerativeSearcher } from '../search/searcher.js';
import { getAnalyzer } from '../text/analyzers/index.js';
import { cacheKey } from '../util/cache.js';
import { runDdro, type DdroOptions } from '../train/methods/rank/ddro.js';
import type { RankTrainingReport } from '../train/methods/rank/pipeline.js';
import { runLtrgr, type LtrgrOptions } from '../train/methods/rank/ltrgr.js';
import { runSft, type SftOptions } from '../train/methods/sft/pipeline.js';
import { datasetLanguages, languageViews } from '../data/training-corpus.js';
import { peakRssMb } from '../train/methods/sft/report.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { barChartSvg } from './plot.js';

export type AblationDataset = 'squad-dev' | 'xquad';
export type AblationMethod = 'bm25' | 'sft' | 'ltrgr' | 'ddro';
export const ABLATION_METRICS = ['R@1', 'R@5', 'R@10', 'RR@10'] as const;
/** The per-query metric the significance tests compare. */
export const SIGNIFICANCE_METRIC = 'RR@10';

export interface AblationRow {
  method: AblationMethod;
  /** Docid scheme, null for BM25. */
  docids: string | null;
  /** Query language (xquad), null for squad-dev. */
  lang: string | null;
  queries: number;
  metrics: Record<string, number>;
  /** Two-sided p-values of per-query RR@10 against SFT with the same docids (BM25: against each scheme's SFT, the first scheme). */
  p_t_vs_sft: number | null;
  p_rand_vs_sft: number | null;
}

export interface AblationOptions {
  dataset: AblationDataset;
  docids?: readonly DocidScheme[];
  /** xquad: languages to train on and evaluate (default all 12). */
  lang?: string;
  /** A small, fast configuration (a smoke test of the whole pipeline, not a result). */
  quick?: boolean;
  /** The recipe's runs (recipes/ddro-ablation.json, read by the CLI's readAblationRuns). */
  runs: AblationRuns;
  dataDir?: string;
  /** Where models, triples and results go (default runs/ddro-ablation). */
  workDir?: string;
  seed?: number;
  threads?: number;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface AblationResult {
  dataset: AblationDataset;
  rows: AblationRow[];
  /** Training reports of the LTRGR and DDRO runs, by docids scheme. */
  training: Record<string, { sftSeconds: number | null; ltrgr: RankTrainingReport | null; ddro: RankTrainingReport | null }>;
  table: string;
  /** Files written into the results directory. */
  files: string[];
  seconds: number;
  peakRssMb: number;
}

/**
 * One run of the ablation's recipe (recipes/ddro-ablation.json, `runs`): every training setting
 * except what the command line decides (dataset, languages, seed, docids, folders, threads).
 */
export interface AblationRunSettings {
  sft: Omit<SftOptions, 'out' | 'dataDir' | 'docids' | 'threads' | 'progress' | 'log' | 'cacheDir' | 'dataset' | 'lang' | 'seed'>;
  ddro: Omit<DdroOptions, 'from' | 'out' | 'seed'>;
  ltrgr: Omit<LtrgrOptions, 'from' | 'out' | 'seed'>;
  /** Beam of the test search. */
  beam: number;
  /** Test queries per language (0: all). */
  testQueries: number;
}

/** The recipe's runs by name (ablationRunName says which one a command line uses). */
export type AblationRuns = Readonly<Record<string, AblationRunSettings>>;

/** The settings of one ablation, as the trainers take them. */
export interface AblationRecipe {
  sft: Omit<SftOptions, 'out' | 'dataDir' | 'docids' | 'threads' | 'progress' | 'log' | 'cacheDir'>;
  ddro: Omit<DdroOptions, 'from' | 'out'>;
  ltrgr: Omit<LtrgrOptions, 'from' | 'out'>;
  beam: number;
  testQueries: number;
}

/**
 * Which run of the recipe a command line uses: `quick` (a smoke test of every step), `squad-dev`,
 * `xquad` (all 12 languages) or `xquad-languages` (some of them: fewer examples per epoch, so
 * more epochs; docs/ddro.md records why).
 */
export function ablationRunName(dataset: AblationDataset, quick: boolean, lang: string | undefined): string {
  if (quick) return 'quick';
  if (dataset === 'squad-dev') return 'squad-dev';
  return (lang ?? 'all') === 'all' ? 'xquad' : 'xquad-languages';
}

/** The run of `runs` that the command line picks, with the dataset, its languages and the seed filled in. */
export function ablationRecipe(
  runs: AblationRuns,
  dataset: AblationDataset,
  quick: boolean,
  lang: string | undefined,
  seed: number,
): AblationRecipe {
  const name = ablationRunName(dataset, quick, lang);
  const run = Object.hasOwn(runs, name) ? runs[name] : undefined;
  if (run === undefined) throw new UserError(`the ablation recipe has no run '${name}' (runs: ${Object.keys(runs).join(', ')})`);
  return {
    sft: {
      ...run.sft,
      dataset,
      ...(datasetLanguages(dataset, undefined) !== null ? { lang: lang ?? (quick ? 'en' : 'all') } : {}),
      seed,
    },
    ddro: { ...run.ddro, seed },
    ltrgr: { ...run.ltrgr, seed },
    beam: run.beam,
    testQueries: run.testQueries,
  };
}

export function keyed<T extends object>(prefix: string, settings: T): string {
  return `${prefix}-${cacheKey(settings).slice(0, 12)}`;
}

/** The evaluation sets: one per query language (xquad, against the English corpus) or one (squad-dev), test split. */
export async function testSets(
  dataset: string,
  dataDir: string | undefined,
  languages: readonly string[] | null,
  limit: number,
  seed: number,
): Promise<{ lang: string | null; queries: Query[]; qrels: Qrels; docs: Document[] }[]> {
  const pick = (queries: Query[], qrels: Qrels): Query[] => {
    const judged = queries.filter((q) => qrels.has(q.id));
    return limit > 0 && judged.length > limit ? new Rng(seed ^ 0x7e57).shuffle([...judged]).slice(0, limit) : judged;
  };
  const load = async (spec: { id: string; lang?: string; corpusLang?: string }, lang: string | null) => {
    const ds = await openDataset({ ...spec, dataDir });
    const [queries, qrels] = await Promise.all([ds.queries('test'), ds.qrels('test')]);
    const docs: Document[] = [];
    for await (const doc of ds.docs()) docs.push(doc);
    const chosen = pick(queries, qrels);
    return {
      lang,
      queries: chosen.map((q) => ({ ...q, lang: lang ?? q.lang })),
      qrels: new Map(chosen.map((q) => [q.id, qrels.get(q.id)!])),
      docs,
    };
  };
  const out = [];
  // Cross-lingual: queries of each language against the English corpus.
  for (const view of languageViews(dataset, languages, 'en')) out.push(await load({ id: view.id }, view.lang));
  return out;
}

/** BM25 over the (English) corpus with the analyzer `genir bm25` would pick for these languages. */
export async function bm25Runs(sets: Awaited<ReturnType<typeof testSets>>): Promise<Run[]> {
  const docs = sets[0].docs;
  const indexes = new Map<string, Bm25Index>();
  const runs: Run[] = [];
  for (const set of sets) {
    const name = (set.lang ?? 'en') === 'en' ? 'english' : 'multilingual';
    let index = indexes.get(name);
    if (index === undefined) {
      index = await Bm25Index.build(docs, { analyzer: getAnalyzer(name, 'en') });
      indexes.set(name, index);
    }
    const hits = await index.searchBatch(
      set.queries.map((q) => ({ text: q.text, lang: q.lang })),
      100,
    );
    runs.push(index.toRun(set.queries, hits));
  }
  return runs;
}

export function perQuery(run: Run, qrels: Qrels): { mean: Record<string, number>; values: number[] } {
  const result = evaluateRun(run, qrels, [...ABLATION_METRICS]);
  const ids = [...qrels.keys()];
  return { mean: result.mean, values: ids.map((id) => result.perQuery.get(id)?.[SIGNIFICANCE_METRIC] ?? 0) };
}

/** Runs the whole ablation and writes results.json, results.md and (xquad) the per-language plot into `<work>/results-<dataset>`. */
export async function runDdroAblation(options: AblationOptions): Promise<AblationResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const seed = options.seed ?? 0;
  const quick = options.quick ?? false;
  const schemes = options.docids ?? ['pq', 'title'];
  if (schemes.length === 0) throw new UserError('--docids: no scheme given');
  const work = resolve(options.workDir ?? 'runs/ddro-ablation');
  mkdirSync(work, { recursive: true });
  const recipe = ablationRecipe(options.runs, options.dataset, quick, options.lang, seed);
  const languages = datasetLanguages(options.dataset, recipe.sft.lang);
  const sets = await testSets(options.dataset, options.dataDir, languages, recipe.testQueries, seed);
  const common = { dataDir: options.dataDir, threads: options.threads, progress: options.progress, log, cacheDir: join(work, 'cache') };

  const rows: AblationRow[] = [];
  const training: AblationResult['training'] = {};
  const bm25 = (await bm25Runs(sets)).map((run, i) => perQuery(run, sets[i].qrels));
  const sftPerQuery = new Map<string, number[][]>();

  for (const scheme of schemes) {
    const sftOptions = { ...recipe.sft, docids: scheme };
    const sftDir = join(work, keyed(`${options.dataset}-${scheme}-sft`, sftOptions));
    let sftSeconds: number | null = null;
    if (!existsSync(join(sftDir, MANIFEST_FILE))) {
      log(`ablation: SFT ${scheme} → ${sftDir}`);
      const t = performance.now();
      await runSft({ ...sftOptions, ...common, out: sftDir, overwrite: true });
      sftSeconds = (performance.now() - t) / 1000;
    } else log(`ablation: SFT ${scheme}: reusing ${sftDir}`);
    const trained: Record<'ltrgr' | 'ddro', string> = { ltrgr: '', ddro: '' };
    const reports: Record<'ltrgr' | 'ddro', RankTrainingReport | null> = { ltrgr: null, ddro: null };
    for (const method of ['ltrgr', 'ddro'] as const) {
      const settings = method === 'ddro' ? recipe.ddro : recipe.ltrgr;
      const dir = join(work, keyed(`${options.dataset}-${scheme}-${method}`, { sft: sftDir, ...settings }));
      trained[method] = dir;
      if (existsSync(join(dir, MANIFEST_FILE))) {
        log(`ablation: ${method} ${scheme}: reusing ${dir}`);
        reports[method] = JSON.parse(readFileSync(join(dir, `${method}-report.json`), 'utf8')) as RankTrainingReport;
        continue;
      }
      log(`ablation: ${method} ${scheme} → ${dir}`);
      const run =
        method === 'ddro'
          ? runDdro({ ...settings, ...common, from: sftDir, out: dir, overwrite: true })
          : runLtrgr({ ...settings, ...common, from: sftDir, out: dir, overwrite: true });
      reports[method] = (await run).report;
    }
    training[scheme] = { sftSeconds, ...reports };

    const byMethod: Record<'sft' | 'ltrgr' | 'ddro', { mean: Record<string, number>; values: number[] }[]> = {
      sft: [],
      ltrgr: [],
      ddro: [],
    };
    for (const [method, dir] of [
      ['sft', sftDir],
      ['ltrgr', trained.ltrgr],
      ['ddro', trained.ddro],
    ] as const) {
      const loaded = await loadModelDirectory(dir, { threads: options.threads, verify: 'size' });
      const searcher = await GenerativeSearcher.fromModel(loaded.model, loaded, { threads: options.threads });
      try {
        for (const set of sets) {
          const run = await searcher.searchRun(set.queries, { ...clampBeam(loaded.docids.size, recipe.beam), progress: false });
          byMethod[method].push(perQuery(run, set.qrels));
        }
      } finally {
        await searcher.release();
        await loaded.model.release();
      }
    }
    sftPerQuery.set(
      scheme,
      byMethod.sft.map((r) => r.values),
    );
    sets.forEach((set, i) => {
      const sft = byMethod.sft[i].values;
      for (const method of ['sft', 'ltrgr', 'ddro'] as const) {
        const result = byMethod[method][i];
        const compare = method !== 'sft' && sft.length > 1;
        rows.push({
          method,
          docids: scheme,
          lang: set.lang,
          queries: set.queries.length,
          metrics: result.mean,
          p_t_vs_sft: compare ? pairedTTest(result.values, sft).p : null,
          p_rand_vs_sft: compare ? randomizationTest(result.values, sft, { seed }).p : null,
        });
      }
    });
  }
  // BM25 rows, compared with the first scheme's SFT.
  const firstSft = sftPerQuery.get(schemes[0])!;
  sets.forEach((set, i) => {
    const sft = firstSft[i];
    rows.unshift({
      method: 'bm25',
      docids: null,
      lang: set.lang,
      queries: set.queries.length,
      metrics: bm25[i].mean,
      p_t_vs_sft: sft.length > 1 ? pairedTTest(bm25[i].values, sft).p : null,
      p_rand_vs_sft: sft.length > 1 ? randomizationTest(bm25[i].values, sft, { seed }).p : null,
    });
  });
  // Languages first, then BM25, then each scheme's SFT, LTRGR, DDRO.
  const order: Record<AblationMethod, number> = { bm25: 0, sft: 1, ltrgr: 2, ddro: 3 };
  rows.sort(
    (a, b) =>
      (a.lang ?? '').localeCompare(b.lang ?? '') ||
      order[a.method] - order[b.method] ||
      schemes.indexOf((a.docids ?? '') as DocidScheme) - schemes.indexOf((b.docids ?? '') as DocidScheme),
  );

  const p = (v: number | null) => (v === null ? '–' : v < 0.001 ? '<0.001' : v.toFixed(3));
  const header = [...(languages ? ['lang'] : []), 'method', 'docids', ...ABLATION_METRICS, 'p (t)', 'p (rand)'];
  const table = formatTable([
    header,
    ...rows.map((r) => [
      ...(languages ? [r.lang ?? ''] : []),
      r.method,
      r.docids ?? '–',
      ...ABLATION_METRICS.map((m) => formatValue(r.metrics[m])),
      p(r.p_t_vs_sft),
      p(r.p_rand_vs_sft),
    ]),
  ]);
  const resultsDir = join(work, `results-${options.dataset}${quick ? '-quick' : ''}`);
  mkdirSync(resultsDir, { recursive: true });
  const files: string[] = [];
  const seconds = (performance.now() - started) / 1000;
  const summary = { dataset: options.dataset, quick, seed, recipe, rows, training, seconds, peakRssMb: peakRssMb() };
  writeFileAtomicSync(join(resultsDir, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomicSync(join(resultsDir, 'results.md'), `# DDRO ablation: ${options.dataset}${quick ? ' (quick)' : ''}\n\n${table}\n`);
  files.push(join(resultsDir, 'results.json'), join(resultsDir, 'results.md'));
  if (languages) {
    for (const scheme of schemes) {
      const values = (method: AblationMethod) =>
        languages.map((lang) => rows.find((r) => r.method === method && r.docids === scheme && r.lang === lang)!.metrics['RR@10']);
      const svg = barChartSvg(
        languages,
        [
          { name: 'SFT', values: values('sft'), color: '#7f7f7f' },
          { name: 'LTRGR', values: values('ltrgr'), color: '#2ca02c' },
          { name: 'DDRO', values: values('ddro'), color: '#1f77b4' },
        ],
        { title: `XQuAD cross-lingual RR@10 by query language (${scheme} docids)`, yLabel: 'RR@10' },
      );
      const path = join(resultsDir, `rr10-by-language-${scheme}.svg`);
      writeFileAtomicSync(path, svg);
      files.push(path);
    }
  }
  return { dataset: options.dataset, rows, training, table, files, seconds, peakRssMb: peakRssMb() };
}
