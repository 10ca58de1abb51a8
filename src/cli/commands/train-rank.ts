import type { Command } from 'commander';
import { DDRO_DEFAULTS, runDdro } from '../../train/ddro/ddro.js';
import type { RankTrainingResult } from '../../train/ddro/pipeline.js';
import { NEGATIVE_METHODS, type NegativeMethod } from '../../train/negatives/triples.js';
import { LTRGR_DEFAULTS, runLtrgr, type LtrgrLoss } from '../../train/ltrgr/pipeline.js';
import { statSync } from 'node:fs';
import { checkWritableFile } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { checkTrainingOutputs } from './train.js';

/** Options both commands take (strings as commander gives them). */
export interface RankCommandOptions {
  from: string;
  out: string;
  dataDir?: string;
  negatives?: string;
  modelNegatives?: string;
  lr?: string;
  epochs?: string;
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
}

/** `--prefix-levels <n>`: an integer >= 1, for the margin loss only. */
export function prefixLevels(value: string, loss: string): number {
  if (loss !== 'margin') throw new UserError('--prefix-levels applies to --loss margin');
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`--prefix-levels ${value}: expected an integer >= 1`);
  return n;
}

function number(value: string, option: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UserError(`${option} ${value}: expected ${expected}`);
  return n;
}

const positive = (value: string, option: string) => number(value, option, (n) => n > 0, 'a positive number');
const positiveInt = (value: string, option: string) => number(value, option, (n) => n > 0 && Number.isInteger(n), 'a positive integer');
const nonNegative = (value: string, option: string) => number(value, option, (n) => n >= 0, 'a non-negative number');
const nonNegativeInt = (value: string, option: string) => number(value, option, (n) => n >= 0 && Number.isInteger(n), 'a non-negative integer');

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
    modelNegatives: options.modelNegatives === undefined ? undefined : positiveInt(options.modelNegatives, '--model-negatives'),
    lr: options.lr === undefined ? undefined : positive(options.lr, '--lr'),
    epochs: options.epochs === undefined ? undefined : positive(options.epochs, '--epochs'),
    batchSize: options.batchSize === undefined ? undefined : positiveInt(options.batchSize, '--batch-size'),
    warmupSteps: options.warmup === undefined ? undefined : nonNegativeInt(options.warmup, '--warmup'),
    clipNorm: nonNegative(options.clip, '--clip'),
    weightDecay: nonNegative(options.weightDecay, '--weight-decay'),
    seed: nonNegativeInt(options.seed, '--seed'),
    evalEvery: options.evalEvery === undefined ? undefined : nonNegativeInt(options.evalEvery, '--eval-every'),
    patience: positiveInt(options.patience, '--patience'),
    devSplit: options.devSplit,
    devQueries: nonNegativeInt(options.devQueries, '--dev-queries'),
    beam: positiveInt(options.beam, '--beam'),
    triplesPath: options.triples,
    cacheDir: options.cacheDir,
    threads: options.threads === undefined ? undefined : positiveInt(options.threads, '--threads'),
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
  return command
    .requiredOption('--from <dir>', 'the SFT model directory to start from (genir train sft --out); also the frozen reference')
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--data-dir <dir>', 'where datasets live (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)')
    .option('--negatives <source>', `hard negatives: bm25 (DDRO's stratified BM25 top 1000) | model (the SFT model's own beam results) | both (default ${defaults.negatives})`)
    .option('--model-negatives <n>', 'model-mined negatives per query (default 32 with model, 16 with both)')
    .option('--lr <rate>', `peak learning rate (default ${defaults.lr})`)
    .option('--epochs <n>', `epochs over the triples (default ${defaults.epochs})`)
    .option('--batch-size <n>', defaults.batch)
    .option('--warmup <n>', 'warm-up updates (default 10% of the run, at most 1000), then cosine decay')
    .option('--clip <norm>', 'global gradient-norm clipping', '0.5')
    .option('--weight-decay <w>', 'AdamW weight decay', '0.01')
    .option('--seed <n>', 'seed of every random choice', '0')
    .option('--eval-every <n>', 'dev evaluation every n updates (default 4 per epoch; 0: none, keep the last weights)')
    .option('--patience <n>', 'stop after this many evaluations without a better dev RR@10', '4')
    .option('--dev-split <name>', 'split evaluated during training', 'dev')
    .option('--dev-queries <n>', 'dev queries evaluated (seeded sample; 0 = all)', '500')
    .option('--beam <n>', 'beam width of the dev search (exhaustive when at least the number of docids)', '20')
    .option('--triples <file>', 'read the triples from this file, or mine and write them there (default: the cache)')
    .option('--cache-dir <dir>', 'where triples are cached (default: $GENIR_CACHE_DIR, else ~/.cache/genir)')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--overwrite', 'replace an existing model directory at --out (and a stale <out>.training)')
    .option('--keep-work', 'keep <out>.training (the trainer run) after success')
    .option('--no-onnx', 'do not export the ONNX inference graphs into the model directory')
    .option('--json', 'print one JSON object (the run summary) as the last line of stdout');
}

function printResult(result: RankTrainingResult, json: boolean | undefined): void {
  const { report } = result;
  const best = report.best;
  const lines = [
    `model directory: ${result.dir}`,
    `${report.triples.triples} triples over ${report.triples.groups} queries (${report.triples.cached ? 'reused' : 'mined'}: ${report.triples.path})`,
    `${report.updates} updates${report.stoppedEarly ? ' (stopped early)' : ''}; epoch seconds ${report.epochSeconds.map((s) => s.toFixed(1)).join(', ')}`,
    best ? `best dev RR@10 ${best.metrics['RR@10'].toFixed(4)} at update ${best.update}${best.update === 0 ? ' (the SFT model)' : ''}` : 'no dev evaluation',
    `wall-clock ${report.wallSeconds.toFixed(1)} s, peak memory ${report.peakRssMb.toFixed(0)} MB; report: ${result.dir}/${report.method}-report.json`,
  ];
  if (json) {
    lines.push(JSON.stringify({
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
    }));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Adds `ddro` and `ltrgr` under the `train` command (created by registerTrainCommand). */
export function registerRankTrainingCommands(program: Command): void {
  const trainCommand = program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('train generative retrieval models');
  addCommonOptions(
    trainCommand.command('ddro').description("direct document relevance optimization: DPO's pairwise loss on whole docids, from an SFT model"),
    { negatives: 'bm25', lr: DDRO_DEFAULTS.lr, epochs: DDRO_DEFAULTS.epochs, batch: `(positive, negative) pairs per update (default ${DDRO_DEFAULTS.batchSize})` },
  )
    .option('--beta <b>', 'DPO temperature β', String(DDRO_DEFAULTS.beta))
    .option('--sft-weight <w>', 'add this weight times the token cross-entropy of the positives (0: pure DDRO)', '0')
    .option('--negatives-per-group <n>', 'negatives sharing one encoder pass of their query', String(DDRO_DEFAULTS.negativesPerGroup))
    .action(async (options: DdroCommandOptions) => {
      const common = commonOptionsFrom(options);
      checkRankOutputs(options);
      const result = await runDdro({
        ...common,
        beta: positive(options.beta, '--beta'),
        sftWeight: nonNegative(options.sftWeight, '--sft-weight'),
        negativesPerGroup: positiveInt(options.negativesPerGroup, '--negatives-per-group'),
      });
      printResult(result, options.json);
    });
  addCommonOptions(
    trainCommand.command('ltrgr').description("learning to rank in generative retrieval: margin (or list-wise) rank loss on docid log-probabilities plus λ × generation loss"),
    { negatives: 'model', lr: LTRGR_DEFAULTS.lr, epochs: LTRGR_DEFAULTS.epochs, batch: `queries per update (default ${LTRGR_DEFAULTS.batchSize})` },
  )
    .option('--loss <kind>', 'margin (top and random pair) | listwise (softmax over one positive and negatives)', 'margin')
    .option('--margin <nats>', 'margin on log π(docid|q)', String(LTRGR_DEFAULTS.margin))
    .option('--lambda <w>', 'weight λ of the generation loss', String(LTRGR_DEFAULTS.generationWeight))
    .option('--temperature <t>', 'list-wise softmax temperature', String(LTRGR_DEFAULTS.temperature))
    .option('--list-size <n>', 'list-wise: documents per list, the positive included', String(LTRGR_DEFAULTS.listSize))
    .option('--all-queries', 'margin: train on every query, not only the hard ones (positive not ahead of the top negative by the margin)')
    .option('--prefix-levels <n>', "margin: RIPOR's prefix-oriented loss, also on docid prefixes of L/n, 2L/n, … tokens (n >= 2; default 1: whole docids only)")
    .action(async (options: LtrgrCommandOptions) => {
      if (options.loss !== 'margin' && options.loss !== 'listwise') throw new UserError(`--loss ${options.loss}: expected margin or listwise`);
      const common = commonOptionsFrom(options);
      checkRankOutputs(options);
      const result = await runLtrgr({
        ...common,
        loss: options.loss as LtrgrLoss,
        margin: positive(options.margin, '--margin'),
        generationWeight: nonNegative(options.lambda, '--lambda'),
        temperature: positive(options.temperature, '--temperature'),
        listSize: number(options.listSize, '--list-size', (n) => Number.isInteger(n) && n >= 2, 'an integer >= 2'),
        hardOnly: options.allQueries ? false : undefined,
        prefixLevels: options.prefixLevels === undefined ? undefined : prefixLevels(options.prefixLevels, options.loss),
      });
      printResult(result, options.json);
    });
}
