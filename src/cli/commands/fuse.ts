/**
 * `genir fuse`: fuses TREC run files of any retrievers (generative, BM25, dense, or another
 * tool's) with reciprocal-rank fusion or normalised score interpolation, with weights given or
 * chosen on judged queries of a tuning split (runs of the same systems on that split).
 */
import type { Command } from 'commander';
import { readRun, writeRun } from '../../data/trec.js';
import type { Run } from '../../data/types.js';
import { parseMetric } from '../../eval/metrics.js';
import {
  DEFAULT_RRF_K,
  FUSION_METHODS,
  SCORE_NORMALIZATIONS,
  fuseRuns,
  tuneFusionWeights,
  type FusionSpec,
  type FusionTuning,
} from '../../search/hybrid.js';
import { UserError } from '../../util/errors.js';
import { dataDirOption, jsonOption, parseCount, parseNonNegativeNumber, refuseOptions, type Write } from '../options.js';
import { loadQrels, loadRun } from './eval.js';
import { oneOf } from './hybrid-options.js';

interface FuseOptions {
  out: string;
  method: string;
  weights?: string;
  normalization?: string;
  rrfK?: string;
  depth: string;
  tag: string;
  tune?: string;
  qrels?: string;
  dataset?: string;
  split?: string;
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  metric: string;
  steps: string;
  judgedOnly?: boolean;
  json?: boolean;
}

function parseWeights(value: string, runs: number): number[] {
  const weights = value.split(',').map((w) => parseNonNegativeNumber(w.trim(), '--weights'));
  if (weights.length !== runs)
    throw new UserError(`--weights ${value}: ${weights.length} weights for ${runs} runs (one per run, in order)`);
  if (weights.every((w) => w === 0)) throw new UserError(`--weights ${value}: at least one weight must be positive`);
  return weights;
}

export function registerFuseCommand(program: Command, write: Write): void {
  program
    .command('fuse')
    .description(
      'fuse run files (any retrievers: GenIR, BM25, dense, other tools) by reciprocal-rank fusion or normalised score interpolation; weights given, or tuned on judged queries of another split',
    )
    .argument('<runs...>', 'TREC run files to fuse (two or more)')
    .requiredOption('--out <file>', 'fused run (TREC format), written atomically')
    .option('--method <name>', 'rrf (reciprocal-rank fusion) or interp (normalised score interpolation)', 'rrf')
    .option('--weights <list>', 'one weight per run, comma-separated (default: 1 each for rrf; required for interp unless --tune)')
    .option('--normalization <name>', 'with --method interp: per-query score normalisation, minmax or zscore (default: minmax)')
    .option('--rrf-k <n>', `with --method rrf: rank offset k in 1 / (k + rank) (default: ${DEFAULT_RRF_K})`)
    .option('--depth <n>', 'fused documents written per query', '1000')
    .option('--tag <name>', 'run tag of the fused run', 'fused')
    .option(
      '--tune <runs>',
      'comma-separated runs of the same systems, in the same order, on a tuning split: choose --weights there (grid over the simplex) with --qrels or --dataset/--split',
    )
    .option('--qrels <file>', 'with --tune: judgments of the tuning split (TREC or BEIR TSV)')
    .option('--dataset <id>', 'with --tune: dataset whose judgments to tune on (instead of --qrels)')
    .option('--split <name>', 'with --tune --dataset: the tuning split (default: dev)')
    .addOption(dataDirOption())
    .option('--lang <code>', 'with --tune --dataset: query language (xquad)')
    .option('--corpus-lang <code>', 'with --tune --dataset: corpus language, or all (xquad)')
    .option('--metric <name>', 'with --tune: the metric maximised', 'RR@10')
    .option('--steps <n>', 'with --tune: weights are multiples of 1/n', '20')
    .option('--judged-only', 'with --tune: drop unjudged documents before scoring (trec_eval -J)')
    .addOption(jsonOption())
    .action(async (runPaths: string[], options: FuseOptions, command: Command) => {
      if (runPaths.length < 2) throw new UserError(`genir fuse: give two or more run files (got ${runPaths.length})`);
      const method = oneOf(options.method, FUSION_METHODS, '--method');
      if (method === 'rrf' && options.normalization !== undefined) throw new UserError('--normalization applies to --method interp');
      if (method === 'interp' && options.rrfK !== undefined) throw new UserError('--rrf-k applies to --method rrf');
      const normalization = oneOf(options.normalization ?? 'minmax', SCORE_NORMALIZATIONS, '--normalization');
      const rrfK = options.rrfK === undefined ? undefined : parseNonNegativeNumber(options.rrfK, '--rrf-k');
      const depth = parseCount(options.depth, '--depth');
      const tuningOnly: [unknown, string][] = [
        [options.qrels, '--qrels'],
        [options.dataset, '--dataset'],
        [options.split, '--split'],
        [options.lang, '--lang'],
        [options.corpusLang, '--corpus-lang'],
        [options.judgedOnly, '--judged-only'],
      ];
      for (const flag of ['metric', 'steps'] as const)
        if (command.getOptionValueSource(flag) === 'cli') tuningOnly.push([options[flag], `--${flag}`]);
      let weights: number[] | undefined;
      let tuning: (FusionTuning & { split: string; queries: number }) | undefined;
      if (options.tune === undefined) {
        refuseOptions(tuningOnly, '--tune');
        if (options.weights !== undefined) weights = parseWeights(options.weights, runPaths.length);
        else if (method === 'interp') throw new UserError('--method interp needs --weights (one per run) or --tune <runs> to choose them');
      } else {
        if (options.weights !== undefined) throw new UserError('give either --weights or --tune, not both');
        const tunePaths = options.tune.split(',').map((p) => p.trim());
        if (tunePaths.length !== runPaths.length)
          throw new UserError(`--tune: ${tunePaths.length} runs for ${runPaths.length} runs to fuse (one per system, in the same order)`);
        parseMetric(options.metric);
        const loaded = await loadQrels({
          ...options,
          split: options.dataset !== undefined ? (options.split ?? 'dev') : options.split,
          metrics: options.metric,
        });
        const tuneRuns: Run[] = [];
        for (const path of tunePaths) tuneRuns.push(await loadRun(path, loaded));
        const tuned = tuneFusionWeights(tuneRuns, loaded.qrels, {
          method,
          normalization,
          rrfK,
          steps: parseCount(options.steps, '--steps'),
          metric: options.metric,
          depth,
          judgedOnly: options.judgedOnly,
        });
        tuning = { ...tuned, split: loaded.split ?? loaded.label, queries: loaded.qrels.size };
        weights = [...tuned.weights];
      }
      const spec: FusionSpec =
        method === 'rrf'
          ? { method, ...(weights === undefined ? {} : { weights }), ...(rrfK === undefined ? {} : { k: rrfK }) }
          : { method, weights: weights!, normalization };
      const runs: Run[] = [];
      for (const path of runPaths) runs.push(await readRun(path));
      const fused = fuseRuns(runs, spec, depth);
      await writeRun(options.out, fused, options.tag);
      const summary = {
        runs: runPaths,
        out: options.out,
        fusion: spec,
        queries: fused.size,
        ...(tuning === undefined
          ? {}
          : { tuned: { on: tuning.split, queries: tuning.queries, metric: tuning.metric, value: tuning.value, tried: tuning.tried } }),
      };
      if (options.json) {
        write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const shown = (weights ?? runPaths.map(() => 1)).map((w, i) => `${runPaths[i]} × ${w}`).join(', ');
      const lines = [`fused ${runPaths.length} runs (${method}${method === 'interp' ? `, ${normalization}` : ''}): ${shown}`];
      if (tuning !== undefined)
        lines.push(
          `weights chosen on ${tuning.split} (${tuning.queries} judged queries, ${tuning.tried} tried): ${tuning.metric} ${tuning.value.toFixed(4)}`,
        );
      lines.push(`wrote ${fused.size} queries to ${options.out}`);
      write(`${lines.join('\n')}\n`);
    });
}
