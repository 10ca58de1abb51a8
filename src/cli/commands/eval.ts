import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { collapseRun } from '../../data/collapse.js';
import { openDataset } from '../../data/registry.js';
import { readQrels, readRun } from '../../data/trec.js';
import type { Qrels, Run } from '../../data/types.js';
import { evaluateRun, parseMetrics, splitMetricList, type EvalResult } from '../../eval/metrics.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { pairedTTest, randomizationTest } from '../../eval/significance.js';
import { UserError, warn } from '../../util/errors.js';
import { runDenseEval } from './dense.js';
import { runModelEval, type ModelEvalOptions } from './eval-model.js';
import { addHybridOptions } from './hybrid-options.js';
import { denseModelOf } from './search.js';
import { parseCount, parseSeed, quantizeOption, refuseOptions, type Write, dataDirOption, threadsOption, jsonOption } from '../options.js';

const DEFAULT_METRICS = 'nDCG@10,RR@10,R@100';

/** Options shared by `eval` and `compare` that say where the judgments come from. */
export interface QrelsOptions {
  qrels?: string;
  dataset?: string;
  split?: string;
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  metrics: string;
  judgedOnly?: boolean;
  json?: boolean;
}

interface EvalOptions extends QrelsOptions {
  run?: string;
  model?: string;
  perQuery?: boolean;
}

interface CompareOptions extends QrelsOptions {
  trials: string;
  seed: string;
}

export interface LoadedQrels {
  qrels: Qrels;
  /** The file path, or the dataset id. */
  label: string;
  /** The split, when the judgments come from a dataset. */
  split?: string;
  /** Document id → relevance id, for a dataset whose documents and judgments use different ids (pooled xquad). */
  relevanceIds?: ReadonlyMap<string, string>;
}

function addQrelsOptions(command: Command): Command {
  return command
    .option('--qrels <file|id>', 'qrels file (TREC or BEIR TSV), or a dataset id or BEIR folder')
    .option('--dataset <id>', 'dataset id or BEIR folder whose qrels to use (instead of --qrels)')
    .option('--split <name>', "dataset split (default: the dataset's evaluation split, usually test)")
    .addOption(dataDirOption())
    .option('--lang <code>', 'query language (xquad)')
    .option('--corpus-lang <code>', 'corpus language, or all (xquad)')
    .option('--metrics <list>', 'comma-separated ir-measures names', DEFAULT_METRICS)
    .option('--judged-only', 'drop retrieved documents without a judgment before scoring (trec_eval -J)')
    .addOption(jsonOption());
}

export function registerEvalCommands(program: Command, write: Write): void {
  addHybridOptions(
    addQrelsOptions(
      program
        .command('eval')
        .description('score a run against qrels with trec_eval semantics (trec_eval -c: judged queries missing from the run score 0)'),
    )
      .option('--run <file>', 'TREC run file (qid Q0 docid rank score tag)')
      .option('--per-query', 'also report every query')
      .option(
        '--model <dir>',
        "instead of --run: search the dataset's queries with this retriever (model directory, generative or dense) and evaluate",
      )
      .option('--beam <n>', 'with --model: beam width (default 10)')
      .option('--k <n>', 'with --model: documents per query (default: 10, at most --beam; with --mode bm25 or hybrid 100)')
      .option('--batch <n>', 'with --model: queries per beam-search batch (default 16)')
      .addOption(threadsOption('with --model: ONNX Runtime threads (default: every core)'))
      .option('--run-out <file>', 'with --model: write the run in TREC format'),
  )
    .option('--device <cpu|cuda>', "with --model: where ONNX Runtime runs (cuda needs onnxruntime-node's CUDA binaries)")
    .addOption(quantizeOption())
    .option('--tune-split <name>', 'with --mode hybrid --fusion interp and no --alpha: the split alpha is tuned on (default: dev)')
    .option('--dense <dir>', "instead of --run: search the dataset's queries with this dense retriever (exact top-k) and evaluate")
    .action(async (options: EvalOptions & Omit<ModelEvalOptions, 'model' | 'metrics'> & { dense?: string }, command: Command) => {
      const dense = denseModelOf(options);
      if (dense !== undefined) {
        if (options.run !== undefined) throw new UserError('give either --run or --dense, not both');
        if (options.perQuery)
          throw new UserError('--per-query applies to --run; with --dense, write the run with --run-out and evaluate it with --run');
        for (const name of ['beam', 'quantize'])
          if (command.getOptionValueSource(name) === 'cli')
            throw new UserError(`--${name} applies to generative models (beam search); a dense retriever ranks every document exactly`);
        const metrics = command.getOptionValueSource('metrics') === 'default' ? undefined : options.metrics;
        await runDenseEval({ ...options, dense, metrics }, write);
        return;
      }
      if (options.model === undefined) {
        const modelOnly: [unknown, string][] = [
          [options.fusion, '--fusion'],
          [options.rrfK, '--rrf-k'],
          [options.alpha, '--alpha'],
          [options.normalization, '--normalization'],
          [options.bm25Depth, '--bm25-depth'],
          [options.tuneSplit, '--tune-split'],
          [options.quantize, '--quantize'],
        ];
        if (command.getOptionValueSource('mode') !== 'default') modelOnly.unshift([options.mode, '--mode']);
        refuseOptions(modelOnly, '--model, not to a --run file');
      }
      if (options.model !== undefined) {
        if (options.run !== undefined) throw new UserError('give either --run or --model, not both');
        if (options.perQuery)
          throw new UserError('--per-query applies to --run; with --model, write the run with --run-out and evaluate it with --run');
        // With --model the default metrics are the results tables' (R@1 … nDCG@10), not the run default.
        const metrics = command.getOptionValueSource('metrics') === 'default' ? undefined : options.metrics;
        await runModelEval({ ...options, model: options.model, metrics }, write);
        return;
      }
      await runEval(options, write);
    });

  addQrelsOptions(
    program
      .command('compare')
      .description('compare two runs: means, difference, paired t-test and paired randomization test per metric')
      .argument('<run1>', 'first TREC run file')
      .argument('<run2>', 'second TREC run file'),
  )
    .option('--trials <n>', 'randomization test trials', '10000')
    .option('--seed <n>', 'randomization test seed', '0')
    .action(async (run1: string, run2: string, options: CompareOptions) => {
      await runCompare(run1, run2, options, write);
    });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `--qrels` names a file when one exists at that path; otherwise it is a dataset id (or BEIR folder). */
export async function loadQrels(options: QrelsOptions): Promise<LoadedQrels> {
  if (options.qrels !== undefined && options.dataset !== undefined) throw new UserError('give either --qrels or --dataset, not both');
  const source = options.qrels ?? options.dataset;
  if (source === undefined) throw new UserError('no judgments: give --qrels <file or dataset id> or --dataset <id>');
  let loaded: LoadedQrels;
  if (options.qrels !== undefined && isFile(options.qrels)) {
    if (options.split !== undefined) throw new UserError(`--split applies to a dataset, but --qrels ${options.qrels} is a file`);
    loaded = { qrels: await readQrels(options.qrels), label: options.qrels };
  } else {
    const dataset = await openDataset({ id: source, dataDir: options.dataDir, lang: options.lang, corpusLang: options.corpusLang }).catch(
      (err: unknown) => {
        // `--qrels` may have been meant as a file: say that no file was found either.
        if (err instanceof UserError && options.qrels !== undefined)
          throw new UserError(`--qrels ${options.qrels}: no such file; as a dataset: ${err.message}`);
        throw err;
      },
    );
    const split = options.split ?? dataset.defaultSplit;
    if (!dataset.splits.includes(split)) {
      throw new UserError(`dataset ${dataset.id} has no split '${split}' (splits: ${dataset.splits.join(', ')})`);
    }
    loaded = { qrels: await dataset.qrels(split), label: dataset.id, split };
    if (dataset.relevanceIds !== undefined) loaded.relevanceIds = await dataset.relevanceIds();
  }
  if (loaded.qrels.size === 0) throw new UserError(`${loaded.label}: no judged queries`);
  return loaded;
}

/**
 * Reads a run; for a pooled multilingual dataset its documents are mapped to the ids the
 * judgments use, keeping the best-ranked document per id, so one relevant paragraph is
 * not counted once per language. A run already in relevance ids passes through unchanged.
 */
export async function loadRun(path: string, loaded: LoadedQrels): Promise<Run> {
  const run = await readRun(path);
  return loaded.relevanceIds === undefined ? run : collapseRun(run, loaded.relevanceIds);
}

/** Warns about queries the qrels and the run do not share; trec_eval -c scores the missing ones 0. */
function warnCoverage(qrels: Qrels, run: Run, runPath: string): void {
  let judgedInRun = 0;
  for (const queryId of run.keys()) if (qrels.has(queryId)) judgedInRun++;
  const unjudged = run.size - judgedInRun;
  const missing = qrels.size - judgedInRun;
  if (judgedInRun === 0) {
    warn(`${runPath}: none of its ${run.size} queries is in the qrels (wrong dataset or split?); every query scores 0`);
    return;
  }
  if (unjudged > 0)
    warn(`${runPath}: ${unjudged} quer${unjudged === 1 ? 'y has' : 'ies have'} no judgments and ${unjudged === 1 ? 'is' : 'are'} ignored`);
  if (missing > 0)
    warn(
      `${runPath}: ${missing} judged quer${missing === 1 ? 'y is missing from the run and scores' : 'ies are missing from the run and score'} 0`,
    );
}

function qrelsDescription(loaded: LoadedQrels): string {
  return loaded.split === undefined ? loaded.label : `${loaded.label} (split ${loaded.split})`;
}

async function runEval(options: EvalOptions, write: Write): Promise<void> {
  const metrics = splitMetricList(options.metrics);
  parseMetrics(metrics);
  if (options.run === undefined) throw new UserError('nothing to evaluate: give --run <TREC run file> or --model <model directory>');
  const loaded = await loadQrels(options);
  const run = await loadRun(options.run, loaded);
  warnCoverage(loaded.qrels, run, options.run);
  const result = evaluateRun(run, loaded.qrels, metrics, { judgedOnly: options.judgedOnly });

  if (options.json) {
    const report: Record<string, unknown> = { qrels: loaded.label };
    if (loaded.split !== undefined) report.split = loaded.split;
    Object.assign(report, { run: options.run, queries: result.queries, metrics: result.mean });
    if (options.perQuery) report.perQuery = Object.fromEntries(result.perQuery);
    write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [`qrels    ${qrelsDescription(loaded)}`, `run      ${options.run}`, `queries  ${result.queries}`, ''];
  lines.push(formatTable(options.perQuery ? perQueryRows(result, metrics) : meanRows(result, metrics)));
  write(`${lines.join('\n')}\n`);
}

function meanRows(result: EvalResult, metrics: readonly string[]): string[][] {
  return [['metric', 'mean'], ...metrics.map((name) => [name, formatValue(result.mean[name])])];
}

/** One row per query, then the means under `all`, as trec_eval -q prints them. */
function perQueryRows(result: EvalResult, metrics: readonly string[]): string[][] {
  const rows = [['query', ...metrics]];
  for (const [queryId, values] of result.perQuery) rows.push([queryId, ...metrics.map((name) => formatValue(values[name]))]);
  rows.push(['all', ...metrics.map((name) => formatValue(result.mean[name]))]);
  return rows;
}

interface MetricComparison {
  run1: number;
  run2: number;
  delta: number;
  t: number;
  tTestP: number;
  randomizationP: number;
}

async function runCompare(run1Path: string, run2Path: string, options: CompareOptions, write: Write): Promise<void> {
  const metrics = splitMetricList(options.metrics);
  parseMetrics(metrics);
  const trials = parseCount(options.trials, '--trials');
  const seed = parseSeed(options.seed);
  const loaded = await loadQrels(options);
  const run1 = await loadRun(run1Path, loaded);
  const run2 = await loadRun(run2Path, loaded);
  warnCoverage(loaded.qrels, run1, run1Path);
  warnCoverage(loaded.qrels, run2, run2Path);
  const evalOptions = { judgedOnly: options.judgedOnly };
  const result1 = evaluateRun(run1, loaded.qrels, metrics, evalOptions);
  const result2 = evaluateRun(run2, loaded.qrels, metrics, evalOptions);

  // Both results hold every judged query (trec_eval -c), so the pairs line up by query id.
  const queryIds = [...result1.perQuery.keys()];
  const comparisons: Record<string, MetricComparison> = {};
  for (const name of metrics) {
    const scores1 = queryIds.map((id) => result1.perQuery.get(id)![name]);
    const scores2 = queryIds.map((id) => result2.perQuery.get(id)![name]);
    const tTest = pairedTTest(scores2, scores1);
    comparisons[name] = {
      run1: result1.mean[name],
      run2: result2.mean[name],
      delta: result2.mean[name] - result1.mean[name],
      t: tTest.t,
      tTestP: tTest.p,
      randomizationP: randomizationTest(scores2, scores1, { trials, seed }).p,
    };
  }

  if (options.json) {
    const report: Record<string, unknown> = { qrels: loaded.label };
    if (loaded.split !== undefined) report.split = loaded.split;
    Object.assign(report, { runs: [run1Path, run2Path], queries: result1.queries, trials, seed, metrics: comparisons });
    write(`${JSON.stringify(report)}\n`);
    return;
  }
  const rows = [['metric', 'run1', 'run2', 'delta', 't-test p', 'randomization p']];
  for (const name of metrics) {
    const c = comparisons[name];
    const delta = `${c.delta >= 0 ? '+' : ''}${formatValue(c.delta)}`;
    rows.push([name, formatValue(c.run1), formatValue(c.run2), delta, formatValue(c.tTestP), formatValue(c.randomizationP)]);
  }
  const lines = [
    `qrels    ${qrelsDescription(loaded)}`,
    `run1     ${run1Path}`,
    `run2     ${run2Path}`,
    `queries  ${result1.queries}  (delta = run2 - run1; randomization test: ${trials} trials, seed ${seed})`,
    '',
    formatTable(rows),
  ];
  write(`${lines.join('\n')}\n`);
}
