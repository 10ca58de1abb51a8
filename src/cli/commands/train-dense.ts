import type { Command } from 'commander';
import { TRAINABLE_PRESETS, isTrainablePreset } from '../../model/config.js';
import { runDenseTraining, type DenseTrainingOptions } from '../../train/methods/dense/pipeline.js';
import type { DenseTemperature } from '../../model/dense-train-graph.js';
import { UserError } from '../../util/errors.js';
import { DENSE_DEFAULTS } from '../../train/methods/dense/defaults.js';
import { EMBEDDING_INITS, type EmbeddingInit } from '../../train/methods/dense/embedding-init.js';
import { checkTrainingOutputs, shapeOverrides } from './train.js';
import {
  parseCount,
  parseNonNegativeInteger,
  parseNumber,
  parsePositiveNumber,
  parseSeed,
  parseThreads,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';
import { addRecipeOption } from '../recipe.js';

export interface TrainDenseCommandOptions {
  dataset: string;
  lang?: string;
  dataDir?: string;
  trainSplit?: string;
  model: string;
  out: string;
  epochs: string;
  updates?: string;
  embeddingInit: string;
  lr: string;
  batchSize: string;
  warmup?: string;
  temperature: string;
  hardNegatives: string;
  negativeDepth: string;
  bm25Depth: string;
  ict: string;
  crops: string;
  maxQueryTokens: string;
  maxPassageTokens: string;
  vocab: string;
  seed: string;
  dropout?: string;
  dModel?: string;
  dFf?: string;
  layers?: string;
  heads?: string;
  budgetMinutes?: string;
  threads?: string;
  overwrite?: boolean;
  onnx: boolean;
  json?: boolean;
}

/** `--temperature 0.05` (fixed) or `--temperature learned` / `learned:0.07` (learned from that value, default 0.05). */
export function parseTemperature(value: string): DenseTemperature {
  const learned = /^learned(?::(.+))?$/.exec(value.trim());
  if (learned)
    return { kind: 'learned', initial: learned[1] === undefined ? 0.05 : parsePositiveNumber(learned[1], '--temperature learned:') };
  return {
    kind: 'fixed',
    value: parseNumber(value, '--temperature', { above: 0, max: 10, expected: "a number in (0, 10], 'learned' or 'learned:<initial>'" }),
  };
}

/** The default `--temperature` as the option spells it. */
function temperatureDefault(): string {
  const t = DENSE_DEFAULTS.temperature;
  return t.kind === 'fixed' ? String(t.value) : `learned:${t.initial}`;
}

/** `--embedding-init lsa|random`. */
export function parseEmbeddingInit(value: string): EmbeddingInit {
  const kind = EMBEDDING_INITS.find((k) => k === value);
  if (kind === undefined) throw new UserError(`--embedding-init ${value}: expected ${EMBEDDING_INITS.join(' or ')}`);
  return kind;
}

/** Turns the command's options into runDenseTraining options (exported for tests). */
export function denseOptionsFrom(options: TrainDenseCommandOptions): DenseTrainingOptions {
  if (!isTrainablePreset(options.model)) throw new UserError(`--model ${options.model}: expected ${TRAINABLE_PRESETS.join(', ')}`);
  const overrides = shapeOverrides(options, options.model, { decoder: false });
  const seed = parseSeed(options.seed);
  return {
    dataset: options.dataset,
    dataDir: options.dataDir,
    lang: options.lang,
    trainSplit: options.trainSplit,
    model: options.model,
    modelOverrides: overrides,
    out: options.out,
    epochs: parsePositiveNumber(options.epochs, '--epochs'),
    updates: options.updates === undefined ? undefined : parseNonNegativeInteger(options.updates, '--updates'),
    embeddingInit: parseEmbeddingInit(options.embeddingInit),
    lr: parsePositiveNumber(options.lr, '--lr'),
    batchSize: parseCount(options.batchSize, '--batch-size'),
    warmupSteps: options.warmup === undefined ? undefined : parseNonNegativeInteger(options.warmup, '--warmup'),
    temperature: parseTemperature(options.temperature),
    hardNegatives: parseNonNegativeInteger(options.hardNegatives, '--hard-negatives'),
    negativeDepth: parseCount(options.negativeDepth, '--negative-depth'),
    bm25Depth: parseCount(options.bm25Depth, '--bm25-depth'),
    ictPerDoc: parseNonNegativeInteger(options.ict, '--ict'),
    cropsPerDoc: parseNonNegativeInteger(options.crops, '--crops'),
    maxQueryTokens: parseCount(options.maxQueryTokens, '--max-query-tokens'),
    maxPassageTokens: parseCount(options.maxPassageTokens, '--max-passage-tokens'),
    vocabSize: parseCount(options.vocab, '--vocab'),
    seed,
    budgetMinutes: options.budgetMinutes === undefined ? undefined : parsePositiveNumber(options.budgetMinutes, '--budget-minutes'),
    threads: parseThreads(options.threads),
    overwrite: options.overwrite,
    onnx: options.onnx,
  };
}

export function registerTrainDenseCommand(program: Command, write: Write): void {
  const trainCommand = program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('train retrieval models');
  addRecipeOption(
    trainCommand
      .command('dense')
      .description(
        'train a dense dual encoder from scratch (InfoNCE, in-batch and BM25 hard negatives, inverse-cloze and crop pairs) and encode the corpus',
      ),
  )
    .requiredOption('--dataset <id>', 'dataset id (xquad, squad-dev, scifact, cranfield) or the path of a BEIR folder or SQuAD .json file')
    .option('--lang <codes>', 'xquad: languages to train on, all (default) or a comma list such as en or en,de')
    .addOption(dataDirOption())
    .option('--train-split <name>', 'split whose labelled queries are training data (default: train, when the dataset has it)')
    .requiredOption('--model <size>', "encoder size: tiny | mini | medium | small (the seq2seq presets' encoders)")
    .requiredOption('--out <dir>', 'dense model directory to write')
    .option('--epochs <n>', 'passes over the training pairs', String(DENSE_DEFAULTS.epochs))
    .option('--updates <n>', 'updates to train instead of --epochs (the learning rate decays over them); 0 keeps the initial encoder')
    .option(
      '--embedding-init <kind>',
      `token embeddings: ${EMBEDDING_INITS.join(' | ')} (lsa: from a truncated SVD of the corpus's subword × document TF-IDF)`,
      DENSE_DEFAULTS.embeddingInit,
    )
    .option('--lr <rate>', 'peak learning rate (linear warm-up and decay)', String(DENSE_DEFAULTS.lr))
    .option(
      '--batch-size <n>',
      'pairs per update; every passage of the batch is a negative for the other queries',
      String(DENSE_DEFAULTS.batchSize),
    )
    .option('--warmup <n>', 'warm-up updates (default: 5% of the run, at most 100)')
    .option('--temperature <t>', "softmax temperature: a number (fixed), 'learned' or 'learned:<initial>'", temperatureDefault())
    .option('--hard-negatives <n>', 'BM25 hard negatives per labelled query in each batch', String(DENSE_DEFAULTS.hardNegatives))
    .option('--negative-depth <n>', "hard negatives come from BM25's top n non-relevant documents", String(DENSE_DEFAULTS.negativeDepth))
    .option('--bm25-depth <n>', "drop a labelled query whose relevant document is not in BM25's top n", String(DENSE_DEFAULTS.bm25Depth))
    .option('--ict <n>', 'inverse-cloze pairs per document (a sentence and its paragraph)', String(DENSE_DEFAULTS.ictPerDoc))
    .option('--crops <n>', 'two-crop pairs per document (a short span and a long crop)', String(DENSE_DEFAULTS.cropsPerDoc))
    .option('--max-query-tokens <n>', 'tokens kept per query (marker and EOS included)', String(DENSE_DEFAULTS.maxQueryTokens))
    .option('--max-passage-tokens <n>', 'tokens kept per passage (marker and EOS included)', String(DENSE_DEFAULTS.maxPassageTokens))
    .option('--vocab <n>', 'subword vocabulary of the tokenizer trained on the corpus', String(DENSE_DEFAULTS.vocabSize))
    .option('--seed <n>', 'seed of every random choice', String(DENSE_DEFAULTS.seed))
    .option('--dropout <rate>', "dropout rate (default: the preset's, 0.1)")
    .option('--d-model <n>', "hidden size = vector dimension (default: the preset's)")
    .option('--d-ff <n>', "feed-forward size (default: the preset's)")
    .option('--layers <n>', 'encoder layers')
    .option('--heads <n>', 'attention heads')
    .option('--budget-minutes <m>', 'training-time budget: the learning rate decays to 0 when it runs out, and training stops there')
    .addOption(threadsOption())
    .option('--overwrite', 'replace an existing model directory at --out')
    .option('--no-onnx', 'do not export the ONNX encoder into the model directory')
    .addOption(jsonOption('print one JSON object (the run report) as the last line of stdout'))
    .action(async (options: TrainDenseCommandOptions) => {
      const denseOptions = denseOptionsFrom(options);
      checkTrainingOutputs(options);
      const { dir, report } = await runDenseTraining({ ...denseOptions, progress: undefined });
      const lines = [
        `model directory: ${dir}`,
        `dense ${report.model.preset} encoder (${report.model.parameters} parameters, ${report.model.dModel}-d vectors) on ${report.dataset}: ${report.documents} documents encoded`,
        `${report.updates} updates (${report.epochs.toFixed(2)} epochs), final loss ${report.finalLoss === null ? '-' : report.finalLoss.toFixed(4)}, temperature ${report.temperature.kind} ${report.temperature.final.toFixed(4)}`,
        `wall-clock ${report.wallSeconds.toFixed(1)} s (training ${report.trainingSeconds.toFixed(1)} s), peak memory ${report.peakRssMb.toFixed(0)} MB`,
      ];
      if (options.json) lines.push(JSON.stringify({ out: dir, ...report }));
      write(`${lines.join('\n')}\n`);
    });
}
