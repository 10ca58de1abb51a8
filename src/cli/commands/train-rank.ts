import type { Command } from 'commander';
import { DDRO_DEFAULTS, runDdro, type DdroOptions } from '../../train/methods/rank/ddro.js';
import { addRecipeOption } from '../recipe.js';
import { RANK_DEFAULTS } from '../../train/methods/rank/defaults.js';
import type { RankTrainingResult } from '../../train/methods/rank/pipeline.js';
import { NEGATIVE_METHODS, type NegativeMethod } from '../../train/sources/negatives/triples.js';
import { LTRGR_DEFAULTS, runLtrgr, type LtrgrLoss, type LtrgrOptions } from '../../train/methods/rank/ltrgr.js';
import { statSync } from 'node:fs';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { checkTrainingOutputs } from './train.js';
import {
  parseCount,
  parseNonNegativeInteger,
  parseNonNegativeNumber,
  parseNumber,
  parsePositiveNumber,
  parseThreads,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';

/** Options both commands take (strings as commander gives them). */
export interface RankCommandOptions {
  from: string;
  out: string;
  dataDir?: string;
  negatives?: string;
  modelNegatives?: string;
  lr?: string;
  epochs?: string;
  updates?: string;
  batchSize?: string;
  warmup?: string;
  clip: string;
  weightDecay: string;
  seed: string;
  evalEvery?: string;
  patience: string;
  devSplit: string;
  devQueries: string;
  beam: string;
  triples?: string;
  cacheDir?: string;
  threads?: string;
  overwrite?: boolean;
  keepWork?: boolean;
  onnx: boolean;
  json?: boolean;
}

export interface DdroCommandOptions extends RankCommandOptions {
  beta: string;
  sftWeight: string;
  rankWeight: string;
  negativesPerGroup: string;
}

export interface LtrgrCommandOptions extends RankCommandOptions {
  loss: string;
  margin: string;
  lambda: string;
  temperature: string;
  listSize: string;
  allQueries?: boolean;
  prefixLevels?: string;
  teacherRun?: string;
  teacherScale: string;
}

const LTRGR_LOSSES: readonly LtrgrLoss[] = ['margin', 'listwise', 'margin-mse'];

/** `--prefix-levels <n>`: an integer >= 1, for the margin losses only. */
export function prefixLevels(value: string, loss: string): number {
  if (loss !== 'margin' && loss !== 'margin-mse') throw new UserError('--prefix-levels applies to --loss margin and margin-mse');
  return parseNumber(value, '--prefix-levels', { integer: true, min: 1, expected: 'an integer >= 1' });
}

/** `--rank-weight`: ≥ 0, and 0 only beside a positive --sft-weight (else nothing would be trained). */
function parseRankWeight(value: string, sftWeight: string): number {
  const weight = parseNonNegativeNumber(value, '--rank-weight');
  if (weight === 0 && parseNonNegativeNumber(sftWeight, '--sft-weight') === 0)
    throw new UserError('--rank-weight 0 needs --sft-weight > 0 (the control trains on the cross-entropy term alone)');
  return weight;
}

/** The shared options as runRankTraining options (exported for tests). */
export function commonOptionsFrom(options: RankCommandOptions) {
  if (options.negatives !== undefined && !(NEGATIVE_METHODS as readonly string[]).includes(options.negatives)) {
    throw new UserError(`--negatives ${options.negatives}: expected ${NEGATIVE_METHODS.join(', ')}`);
  }
  return {
    from: options.from,
    out: options.out,
    dataDir: options.dataDir,
    negatives: options.negatives as NegativeMethod | undefined,
    modelNegatives: options.modelNegatives === undefined ? undefined : parseCount(options.modelNegatives, '--model-negatives'),
    lr: options.lr === undefined ? undefined : parsePositiveNumber(options.lr, '--lr'),
    epochs: options.epochs === undefined ? undefined : parsePositiveNumber(options.epochs, '--epochs'),
    updates: options.updates === undefined ? undefined : parseCount(options.updates, '--updates'),
    batchSize: options.batchSize === undefined ? undefined : parseCount(options.batchSize, '--batch-size'),
    warmupSteps: options.warmup === undefined ? undefined : parseNonNegativeInteger(options.warmup, '--warmup'),
    clipNorm: parseNonNegativeNumber(options.clip, '--clip'),
    weightDecay: parseNonNegativeNumber(options.weightDecay, '--weight-decay'),
    seed: parseNonNegativeInteger(options.seed, '--seed'),
    evalEvery: options.evalEvery === undefined ? undefined : parseNonNegativeInteger(options.evalEvery, '--eval-every'),
    patience: parseCount(options.patience, '--patience'),
    devSplit: options.devSplit,
    devQueries: parseNonNegativeInteger(options.devQueries, '--dev-queries'),
    beam: parseCount(options.beam, '--beam'),
    triplesPath: options.triples,
    cacheDir: options.cacheDir,
    threads: parseThreads(options.threads),
    overwrite: options.overwrite,
    keepWork: options.keepWork,
    onnx: options.onnx,
  };
}

/** The output checks of checkTrainingOutputs, plus --triples, which is written after mining unless it exists (then it is read). */
function checkRankOutputs(options: RankCommandOptions): void {
  checkTrainingOutputs(options);
  if (options.triples === undefined) return;
  let isFile = false;
  try {
    isFile = statSync(options.triples).isFile();
  } catch {
    // Absent, or a part of the path is not a folder: checkWritableFile says which.
  }
  if (!isFile) checkWritableFile(options.triples, '--triples');
}

function addCommonOptions(command: Command, defaults: { negatives: string; lr: number; epochs: number; batch: string }): Command {
  return addRecipeOption(command)
    .requiredOption('--from <dir>', 'the SFT model directory to start from (genir train sft --out); also the frozen reference')
    .requiredOption('--out <dir>', 'model directory to write')
    .addOption(dataDirOption())
    .option(
      '--negatives <source>',
      `hard negatives: bm25 (DDRO's stratified BM25 top 1000) | model (the SFT model's own beam results) | both (default ${defaults.negatives})`,
    )
    .option('--model-negatives <n>', 'model-mined negatives per query (default 32 with model, 16 with both)')
    .option('--lr <rate>', `peak learning rate (default ${defaults.lr})`)
    .option('--epochs <n>', `epochs over the triples (default ${defaults.epochs})`)
    .option('--updates <n>', 'train exactly this many updates (instead of --epochs), for equal-compute comparisons')
    .option('--batch-size <n>', defaults.batch)
    .option('--warmup <n>', 'warm-up updates (default 10% of the run, at most 1000), then cosine decay')
    .option('--clip <norm>', 'global gradient-norm clipping', String(RANK_DEFAULTS.clipNorm))
    .option('--weight-decay <w>', 'AdamW weight decay', String(RANK_DEFAULTS.weightDecay))
    .option('--seed <n>', 'seed of every random choice', String(RANK_DEFAULTS.seed))
    .option('--eval-every <n>', 'dev evaluation every n updates (default 4 per epoch; 0: none, keep the last weights)')
    .option('--patience <n>', 'stop after this many evaluations without a better dev RR@10', String(RANK_DEFAULTS.patience))
    .option('--dev-split <name>', 'split evaluated during training', RANK_DEFAULTS.devSplit)
    .option('--dev-queries <n>', 'dev queries evaluated (seeded sample; 0 = all)', String(RANK_DEFAULTS.devQueries))
    .option('--beam <n>', 'beam width of the dev search (exhaustive when at least the number of docids)', String(RANK_DEFAULTS.beam))
    .option('--triples <file>', 'read the triples from this file, or mine and write them there (default: the cache)')
    .option('--cache-dir <dir>', 'where triples are cached (default: $GENIR_CACHE_DIR, else ~/.cache/genir)')
    .addOption(threadsOption())
    .option('--overwrite', 'replace an existing model directory at --out (and a stale <out>.training)')
    .option('--keep-work', 'keep <out>.training (the trainer run) after success')
    .option('--no-onnx', 'do not export the ONNX inference graphs into the model directory')
    .addOption(jsonOption('print one JSON object (the run summary) as the last line of stdout'));
}

function printResult(result: RankTrainingResult, json: boolean | undefined, write: Write): void {
  const { report } = result;
  const best = report.best;
  const lines = [
    `model directory: ${result.dir}`,
    `${report.triples.triples} triples over ${report.triples.groups} queries (${report.triples.cached ? 'reused' : 'mined'}: ${report.triples.path})`,
    `${report.updates} updates${report.stoppedEarly ? ' (stopped early)' : ''}; epoch seconds ${report.epochSeconds.map((s) => s.toFixed(1)).join(', ')}`,
    best
      ? `best dev RR@10 ${best.metrics['RR@10'].toFixed(4)} at update ${best.update}${best.update === 0 ? ' (the SFT model)' : ''}`
      : 'no dev evaluation',
    `wall-clock ${report.wallSeconds.toFixed(1)} s, peak memory ${report.peakRssMb.toFixed(0)} MB; report: ${result.dir}/${report.method}-report.json`,
  ];
  if (json) {
    lines.push(
      JSON.stringify({
        out: result.dir,
        method: report.method,
        triples: report.triples.triples,
        queries: report.triples.groups,
        updates: report.updates,
        stopped_early: report.stoppedEarly,
        best_update: best?.update ?? null,
        dev: best?.metrics ?? null,
        sft_dev: report.evaluations.find((e) => e.update === 0)?.metrics ?? null,
        epoch_seconds: report.epochSeconds,
        seconds: report.wallSeconds,
        peak_rss_mb: report.peakRssMb,
      }),
    );
  }
  write(`${lines.join('\n')}\n`);
}

/** The options of `genir train ddro` (also what an experiment recipe's `ddro` section is checked against). */
export function defineDdroOptions(command: Command): Command {
  return addCommonOptions(command, {
    negatives: DDRO_DEFAULTS.negatives,
    lr: DDRO_DEFAULTS.lr,
    epochs: DDRO_DEFAULTS.epochs,
    batch: `(positive, negative) pairs per update (default ${DDRO_DEFAULTS.batchSize})`,
  })
    .option('--beta <b>', 'DPO temperature β', String(DDRO_DEFAULTS.beta))
    .option('--sft-weight <w>', 'add this weight times the token cross-entropy of the positives (0: pure DDRO)', '0')
    .option(
      '--rank-weight <w>',
      'weight of the DPO term; 0 with --sft-weight 1 is the equal-compute control (the same batches, plain cross-entropy)',
      '1',
    )
    .option('--negatives-per-group <n>', 'negatives sharing one encoder pass of their query', String(DDRO_DEFAULTS.negativesPerGroup));
}

export function ddroOptionsFrom(options: DdroCommandOptions): DdroOptions {
  return {
    ...commonOptionsFrom(options),
    beta: parsePositiveNumber(options.beta, '--beta'),
    sftWeight: parseNonNegativeNumber(options.sftWeight, '--sft-weight'),
    rankWeight: parseRankWeight(options.rankWeight, options.sftWeight),
    negativesPerGroup: parseCount(options.negativesPerGroup, '--negatives-per-group'),
  };
}

/** The options of `genir train ltrgr` (also what an experiment recipe's `ltrgr` section is checked against). */
export function defineLtrgrOptions(command: Command): Command {
  return addCommonOptions(command, {
    negatives: LTRGR_DEFAULTS.negatives,
    lr: LTRGR_DEFAULTS.lr,
    epochs: LTRGR_DEFAULTS.epochs,
    batch: `queries per update (default ${LTRGR_DEFAULTS.batchSize})`,
  })
    .option(
      '--loss <kind>',
      "margin (top and random pair) | listwise (softmax over one positive and negatives) | margin-mse (RIPOR's MarginMSE on the same pairs, targets from --teacher-run)",
      'margin',
    )
    .option('--margin <nats>', 'margin on log π(docid|q)', String(LTRGR_DEFAULTS.margin))
    .option('--lambda <w>', 'weight λ of the generation loss', String(LTRGR_DEFAULTS.generationWeight))
    .option('--temperature <t>', 'list-wise softmax temperature', String(LTRGR_DEFAULTS.temperature))
    .option('--list-size <n>', 'list-wise: documents per list, the positive included', String(LTRGR_DEFAULTS.listSize))
    .option('--all-queries', 'margin: train on every query, not only the hard ones (positive not ahead of the top negative by the margin)')
    .option(
      '--prefix-levels <n>',
      "margin, margin-mse: RIPOR's prefix-oriented loss, also on docid prefixes of L/n, 2L/n, … tokens (n >= 2; default 1: whole docids only)",
    )
    .option(
      '--teacher-run <file>',
      'margin-mse: TREC run over the training queries (e.g. genir bm25 --split train --run-out); its score differences are the target margins',
    )
    .option('--teacher-scale <s>', "margin-mse: nats per unit of the teacher run's score", '1');
}

export function ltrgrOptionsFrom(options: LtrgrCommandOptions): LtrgrOptions {
  if (!(LTRGR_LOSSES as readonly string[]).includes(options.loss))
    throw new UserError(`--loss ${options.loss}: expected ${LTRGR_LOSSES.join(', ')}`);
  return {
    ...commonOptionsFrom(options),
    loss: options.loss as LtrgrLoss,
    margin: parsePositiveNumber(options.margin, '--margin'),
    generationWeight: parseNonNegativeNumber(options.lambda, '--lambda'),
    temperature: parsePositiveNumber(options.temperature, '--temperature'),
    listSize: parseNumber(options.listSize, '--list-size', { integer: true, min: 2, expected: 'an integer >= 2' }),
    hardOnly: options.allQueries ? false : undefined,
    prefixLevels: options.prefixLevels === undefined ? undefined : prefixLevels(options.prefixLevels, options.loss),
    teacherRun: options.teacherRun,
    teacherScale: parsePositiveNumber(options.teacherScale, '--teacher-scale'),
  };
}

/** Adds `ddro` and `ltrgr` under the `train` command (created by registerTrainCommand). */
export function registerRankTrainingCommands(program: Command, write: Write): void {
  const trainCommand =
    program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('train generative retrieval models');
  defineDdroOptions(
    trainCommand
      .command('ddro')
      .description("direct document relevance optimization: DPO's pairwise loss on whole docids, from an SFT model"),
  ).action(async (options: DdroCommandOptions) => {
    const ddro = ddroOptionsFrom(options);
    checkRankOutputs(options);
    printResult(await runDdro(ddro), options.json, write);
  });
  defineLtrgrOptions(
    trainCommand
      .command('ltrgr')
      .description(
        'learning to rank in generative retrieval: margin (or list-wise) rank loss on docid log-probabilities plus λ × generation loss',
      ),
  ).action(async (options: LtrgrCommandOptions) => {
    const ltrgr = ltrgrOptionsFrom(options);
    checkRankOutputs(options);
    printResult(await runLtrgr(ltrgr), options.json, write);
  });
}
