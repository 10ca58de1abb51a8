import { Command } from 'commander';
import { applyRecipe, readRecipe } from '../recipe.js';
import { DOCID_SCHEMES, isTextScheme, type DocidScheme } from '../../docids/table.js';
import { SENTENCE_HOLD_OUTS, type SentenceHoldOut } from '../../docids/pseudoQueries.js';
import { isDenseModelDirectory } from '../../retriever/dense-directory.js';
import { T5_PRESETS, TRAINABLE_PRESETS, isTrainablePreset, type T5Config, type T5Preset } from '../../model/config.js';
import { PSEUDO_QUERY_METHODS, runSft, SFT_DEFAULTS, type PseudoQueryMethod, type SftOptions } from '../../train/methods/sft/pipeline.js';
import { overrideEpochs, parseStages } from '../../train/methods/sft/schedule.js';
import { LEXICAL_INITS, defaultLexicalInit, type LexicalInit } from '../../train/methods/sft/lexical-init.js';
import { RIPOR_PARTS, type RiporPart } from '../../train/methods/sft/ripor.js';
import { assertReadableFile } from '../../data/lines.js';
import { checkWritableFolder } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { parseDevice } from '../../engine/device.js';
import {
  parseChoiceList,
  parseCount,
  parseFraction,
  parseNonNegativeInteger,
  parsePositiveNumber,
  parseSeed,
  parseThreads,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';

export interface TrainSftCommandOptions extends ShapeFlags {
  recipe?: string;
  dataset: string;
  lang?: string;
  dataDir?: string;
  trainSplit?: string;
  docids?: string;
  embeddings?: string;
  model?: string;
  init?: string;
  riporInit?: boolean;
  riporParts?: string;
  docidLevels?: string;
  docidK?: string;
  lexicalInit?: string;
  out: string;
  stages: string;
  epochs?: string;
  lr: string;
  batchSize: string;
  warmup?: string;
  labelSmoothing?: string;
  vocab: string;
  seed: string;
  dropout?: string;
  dModel?: string;
  dFf?: string;
  layers?: string;
  heads?: string;
  chunkTokens: string;
  pseudo?: string;
  pseudoPerDoc: string;
  sentenceHoldOut?: string;
  d2qModel: string;
  d2qEpochs: string;
  d2qLr: string;
  cacheDir?: string;
  threads?: string;
  device?: string;
  checkpointEvery: string;
  evalEvery?: string;
  devSplit?: string;
  devQueries?: string;
  evalBeam?: string;
  patience?: string;
  budgetMinutes?: string;
  resume?: boolean;
  overwrite?: boolean;
  keepWork?: boolean;
  onnx: boolean;
  json?: boolean;
}

/** `--embeddings`: a vector file, or a dense model directory (genir train dense) whose vectors are quantized. */
function embeddingOptions(path: string | undefined): Pick<SftOptions, 'embeddings' | 'denseEmbeddings'> {
  if (path === undefined) return {};
  if (isDenseModelDirectory(path)) return { denseEmbeddings: path };
  return { embeddings: { kind: 'file', path } };
}

/** The model-shape flags shared by the training commands. */
export interface ShapeFlags {
  dropout?: string;
  dModel?: string;
  dFf?: string;
  layers?: string;
  heads?: string;
  /** seq2seq only: the output head shares the embedding matrix. */
  tieEmbeddings?: boolean;
  /** seq2seq only: a bag-of-words term in the docid logits (T5Config.lexicalHead). */
  lexicalHead?: boolean;
  /** seq2seq only: the lexical head's fixed multiplier (T5Config.lexicalHeadScale). */
  lexicalScale?: string;
}

/**
 * The shape flags as overrides of `preset`; `--layers` sets the decoder's too when there is one,
 * and each head gets an equal share of d_model, as in the presets.
 */
export function shapeOverrides(options: ShapeFlags, preset: T5Preset, { decoder }: { decoder: boolean }): Partial<T5Config> {
  const overrides: Partial<T5Config> = {};
  if (options.dropout !== undefined) overrides.dropoutRate = parseFraction(options.dropout, '--dropout');
  if (options.dModel !== undefined) overrides.dModel = parseCount(options.dModel, '--d-model');
  if (options.dFf !== undefined) overrides.dFf = parseCount(options.dFf, '--d-ff');
  if (options.layers !== undefined) {
    overrides.numLayers = parseCount(options.layers, '--layers');
    if (decoder) overrides.numDecoderLayers = overrides.numLayers;
  }
  if (options.heads !== undefined) overrides.numHeads = parseCount(options.heads, '--heads');
  if (options.tieEmbeddings === true && decoder) overrides.tieWordEmbeddings = true;
  if (options.lexicalHead === true && decoder) overrides.lexicalHead = true;
  if (options.lexicalScale !== undefined && decoder)
    overrides.lexicalHeadScale = parsePositiveNumber(options.lexicalScale, '--lexical-scale');
  if (overrides.dModel !== undefined || overrides.numHeads !== undefined) {
    const shape = T5_PRESETS[preset];
    overrides.dKv = Math.max(1, Math.floor((overrides.dModel ?? shape.dModel) / (overrides.numHeads ?? shape.numHeads)));
  }
  return overrides;
}

/** `none` asks for no lexical head where the default would add one. */
function parseLexicalInit(value: string | undefined): LexicalInit | 'none' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'none' && !(LEXICAL_INITS as readonly string[]).includes(value))
    throw new UserError(`--lexical-init ${value}: expected one of ${[...LEXICAL_INITS, 'none'].join(', ')}`);
  return value as LexicalInit | 'none';
}

/** Turns the command's options into runSft options (exported for tests). */
export function sftOptionsFrom(options: TrainSftCommandOptions): SftOptions {
  for (const [field, flag] of [
    ['dataset', '--dataset'],
    ['out', '--out'],
  ] as const) {
    if (options[field] === undefined) throw new UserError(`${flag} is required (give it, or set '${field}' in a --recipe file)`);
  }
  const docids = options.docids ?? SFT_DEFAULTS.docids;
  if (!(DOCID_SCHEMES as readonly string[]).includes(docids))
    throw new UserError(`--docids ${docids}: expected one of ${DOCID_SCHEMES.join(', ')}`);
  if (options.init !== undefined && options.model !== undefined)
    throw new UserError(`--init ${options.init}: the checkpoint sets the model; drop --model ${options.model}`);
  const model = options.model ?? SFT_DEFAULTS.model;
  if (!isTrainablePreset(model)) throw new UserError(`--model ${model}: expected ${TRAINABLE_PRESETS.join(', ')}`);
  const d2qModel = options.d2qModel;
  if (!isTrainablePreset(d2qModel)) throw new UserError(`--d2q-model ${d2qModel}: expected ${TRAINABLE_PRESETS.join(', ')}`);
  if (options.pseudo !== undefined && !(PSEUDO_QUERY_METHODS as readonly string[]).includes(options.pseudo))
    throw new UserError(`--pseudo ${options.pseudo}: expected ${PSEUDO_QUERY_METHODS.join(', ')}`);
  if (options.sentenceHoldOut !== undefined && !(SENTENCE_HOLD_OUTS as readonly string[]).includes(options.sentenceHoldOut))
    throw new UserError(`--sentence-hold-out ${options.sentenceHoldOut}: expected ${SENTENCE_HOLD_OUTS.join(', ')}`);
  let stages = parseStages(options.stages);
  if (options.epochs !== undefined) stages = overrideEpochs(stages, options.epochs);
  const overrides = shapeOverrides(options, model, { decoder: true });
  const asked = parseLexicalInit(options.lexicalInit);
  if (asked === 'none' && overrides.lexicalHead === true)
    throw new UserError('--lexical-init none asks for no lexical head: drop --lexical-head');
  const lexicalInit =
    asked === 'none'
      ? undefined
      : (asked ?? (overrides.lexicalHead === true ? undefined : defaultLexicalInit(docids, options.init !== undefined)));
  if (lexicalInit !== undefined && isTextScheme(docids as DocidScheme))
    throw new UserError(
      `--docids ${docids} writes each docid in text tokens, so there are no docid tokens for a lexical head (--lexical-init ${lexicalInit}, from the command line or --recipe): add --lexical-init none`,
    );
  // Choosing how the lexical head starts asks for one.
  if (lexicalInit !== undefined) overrides.lexicalHead = true;
  if (overrides.lexicalHeadScale !== undefined && overrides.lexicalHead !== true)
    throw new UserError("--lexical-scale sets the lexical head's multiplier: add --lexical-head or --lexical-init");
  const seed = parseSeed(options.seed);
  return {
    dataset: options.dataset,
    dataDir: options.dataDir,
    lang: options.lang,
    trainSplit: options.trainSplit,
    docids: docids as DocidScheme,
    ...embeddingOptions(options.embeddings),
    riporInit: options.riporInit,
    ...(options.riporParts !== undefined ? { riporParts: parseRiporParts(options.riporParts) } : {}),
    ...docidCodeOptions(options),
    ...(lexicalInit !== undefined ? { lexicalInit } : {}),
    model,
    init: options.init,
    modelOverrides: overrides,
    out: options.out,
    stages,
    vocabSize: parseCount(options.vocab, '--vocab'),
    lr: parsePositiveNumber(options.lr, '--lr'),
    batchSize: parseCount(options.batchSize, '--batch-size'),
    warmupSteps: options.warmup === undefined ? undefined : parseNonNegativeInteger(options.warmup, '--warmup'),
    labelSmoothing: options.labelSmoothing === undefined ? undefined : parseFraction(options.labelSmoothing, '--label-smoothing'),
    seed,
    chunkTokens: parseCount(options.chunkTokens, '--chunk-tokens'),
    pseudo: options.pseudo as PseudoQueryMethod | undefined,
    pseudoPerDoc: parseCount(options.pseudoPerDoc, '--pseudo-per-doc'),
    ...(options.sentenceHoldOut !== undefined ? { sentenceHoldOut: options.sentenceHoldOut as SentenceHoldOut } : {}),
    doc2query: {
      model: d2qModel,
      epochs: parsePositiveNumber(options.d2qEpochs, '--d2q-epochs'),
      lr: parsePositiveNumber(options.d2qLr, '--d2q-lr'),
    },
    cacheDir: options.cacheDir,
    threads: parseThreads(options.threads),
    device: parseDevice(options.device ?? 'cpu'),
    checkpointEvery: parseCount(options.checkpointEvery, '--checkpoint-every'),
    evalEvery: options.evalEvery === undefined ? undefined : parseNonNegativeInteger(options.evalEvery, '--eval-every'),
    devSplit: options.devSplit,
    devQueries: options.devQueries === undefined ? undefined : parseNonNegativeInteger(options.devQueries, '--dev-queries'),
    evalBeam: options.evalBeam === undefined ? undefined : parseCount(options.evalBeam, '--eval-beam'),
    patience: options.patience === undefined ? undefined : parseNonNegativeInteger(options.patience, '--patience'),
    budgetMinutes: options.budgetMinutes === undefined ? undefined : parsePositiveNumber(options.budgetMinutes, '--budget-minutes'),
    resume: options.resume,
    overwrite: options.overwrite,
    keepWork: options.keepWork,
    onnx: options.onnx,
  };
}

/** `--ripor-parts tokens,encoder`. */
function parseRiporParts(list: string): RiporPart[] {
  return parseChoiceList(list, '--ripor-parts', RIPOR_PARTS, 'part');
}

/** `--docid-levels` / `--docid-k`: the pq / rq code shape, when either is given. */
export function docidCodeOptions(options: { docidLevels?: string; docidK?: string }): Pick<SftOptions, 'docidCodes'> {
  if (options.docidLevels === undefined && options.docidK === undefined) return {};
  return {
    docidCodes: {
      ...(options.docidLevels !== undefined ? { levels: parseCount(options.docidLevels, '--docid-levels') } : {}),
      ...(options.docidK !== undefined ? { k: parseCount(options.docidK, '--docid-k') } : {}),
    },
  };
}

/**
 * Checks the folders a training run writes before it starts: the model directory (with its
 * `<out>.training` work folder beside it) and the cache, so a typo fails in a second, not
 * after the training.
 */
export function checkTrainingOutputs(options: { out: string; cacheDir?: string }): void {
  checkWritableFolder(options.out, { option: '--out', besideToo: true });
  if (options.cacheDir !== undefined) checkWritableFolder(options.cacheDir, { option: '--cache-dir' });
}

export function registerTrainCommand(program: Command, write: Write): void {
  const trainCommand = program.command('train').description('train generative retrieval models');
  defineSftOptions(trainCommand.command('sft')).action(async (given: TrainSftCommandOptions, command: Command) => {
    const options = withRecipe(command, given);
    const sftOptions = sftOptionsFrom(options);
    checkTrainingOutputs(options);
    if (sftOptions.embeddings !== undefined && options.embeddings !== undefined)
      await assertReadableFile(options.embeddings, 'embeddings file');
    if (sftOptions.riporInit && (sftOptions.docids !== 'rq' || sftOptions.denseEmbeddings === undefined)) {
      throw new UserError('--ripor-init needs --docids rq and --embeddings <dense model directory> (written by genir train dense)');
    }
    const result = await runSft({ ...sftOptions, progress: undefined });
    const { report } = result;
    const lines = [
      `model directory: ${result.dir}`,
      `docids ${report.docids.scheme as string}, model ${report.model.preset as string} (${report.model.parameters as number} parameters)`,
      ...report.stages.map(
        (s, i) =>
          `stage ${i + 1} ${s.name}: ${s.updates} updates, final loss ${s.finalLoss === null ? '-' : s.finalLoss.toFixed(4)}, ${s.trainingSeconds.toFixed(1)} s`,
      ),
      `wall-clock ${report.wallSeconds.toFixed(1)} s, peak memory ${report.peakRssMb.toFixed(0)} MB; report: ${result.dir}/report.md`,
    ];
    if (options.json) {
      lines.push(
        JSON.stringify({
          out: result.dir,
          dataset: report.corpus.dataset,
          docids: report.docids.scheme,
          model: report.model.preset,
          parameters: report.model.parameters,
          stages: report.stages.map((s) => ({
            name: s.name,
            epochs: s.epochs,
            updates: s.updates,
            final_loss: s.finalLoss,
            seconds: s.trainingSeconds,
          })),
          ...(report.dev
            ? {
                dev: {
                  chosen_update: report.dev.chosenUpdate,
                  best: report.dev.points.find((p) => p.update === report.dev!.chosenUpdate)?.metrics ?? null,
                },
              }
            : {}),
          seconds: report.wallSeconds,
          peak_rss_mb: report.peakRssMb,
        }),
      );
    }
    write(`${lines.join('\n')}\n`);
  });
}

/** The options of `genir train sft` (also read by commands that run SFT recipes, such as quickstart). */
export function defineSftOptions(command: Command): Command {
  return command
    .description('train a docid-generating model with supervised fine-tuning (DDRO stages: indexing, pseudo-queries, queries)')
    .option(
      '--recipe <name|file>',
      'settings from a recipe file (JSON, option names as fields; a bare name is a bundled recipe in recipes/, e.g. quickstart); flags given here override it',
    )
    .option(
      '--dataset <id>',
      'dataset id (xquad, squad-dev, scifact, cranfield) or the path of a BEIR folder or SQuAD .json file (required, here or in the recipe)',
    )
    .option('--lang <codes>', 'xquad: languages to train on, all (default) or a comma list such as en or en,de')
    .addOption(dataDirOption())
    .option('--train-split <name>', 'split whose labelled queries are training data (default: train, when the dataset has it)')
    .option('--docids <scheme>', `docid scheme: ${DOCID_SCHEMES.join(' | ')} (default: ${SFT_DEFAULTS.docids})`)
    .option(
      '--embeddings <file|dir>',
      'pq/rq/semantic: document vectors (.npy with ids file, or JSONL), or a dense model directory (genir train dense), instead of the built-in LSA',
    )
    .option(
      '--ripor-init',
      "rq docids from a dense model (--embeddings <dir>): docid tokens start from the codebooks' centroids and the encoder from the dense encoder (RIPOR)",
    )
    .option(
      '--ripor-parts <list>',
      `with --ripor-init: which of its parts to apply, comma-separated: inputs (docid tokens' input embeddings from the centroids), outputs (their output-head rows from the centroids), encoder (the dense encoder copied) (default: all three)`,
    )
    .option(
      '--docid-levels <n>',
      'pq/rq: tokens per docid before disambiguation (pq sub-vectors, rq levels) (default: ⌈4·log2 N / log2 K⌉, at most 24)',
    )
    .option('--docid-k <n>', 'pq/rq: codes per docid position (default: the power of two ≤ N/4, at most 256)')
    .option('--model <size>', `model size: ${TRAINABLE_PRESETS.join(' | ')} (default: ${SFT_DEFAULTS.model}, unless --init)`)
    .option(
      '--init <hf dir>',
      'start from a pre-trained Hugging Face T5 / Flan-T5 / mT5 directory (its tokenizer and weights; docid rows are added)',
    )
    .requiredOption('--out <dir>', 'model directory to write')
    .option(
      '--stages <spec>',
      'SFT schedule: source[*weight]+…:epochs, comma-separated stages; sources chunks, terms, pseudo, queries',
      SFT_DEFAULTS.stages,
    )
    .option('--epochs <n|list>', "replace the stages' epochs: one number for all, or one per stage")
    .option('--lr <rate>', 'peak learning rate of each stage (linear decay)', String(SFT_DEFAULTS.lr))
    .option('--batch-size <n>', 'examples per update', String(SFT_DEFAULTS.batchSize))
    .option('--warmup <n>', 'warm-up updates per stage (default: 5% of the stage, at most 100)')
    .option('--label-smoothing <eps>', 'label smoothing of the token cross-entropy, in [0, 1) (default: 0)')
    .option('--vocab <n>', 'subword vocabulary of the tokenizer trained on the corpus (not with --init)', String(SFT_DEFAULTS.vocabSize))
    .option('--seed <n>', 'seed of every random choice', String(SFT_DEFAULTS.seed))
    .option('--dropout <rate>', "dropout rate (default: the preset's, 0.1)")
    .option('--d-model <n>', "hidden size (default: the preset's)")
    .option('--d-ff <n>', "feed-forward size (default: the preset's)")
    .option('--layers <n>', 'encoder and decoder layers')
    .option('--heads <n>', 'attention heads')
    .option(
      '--tie-embeddings',
      'output head shares the embedding matrix (logits scaled by d_model^-0.5, as T5 does): a docid word is scored by the same vector that reads it',
    )
    .option(
      '--lexical-head',
      "add a lexical head: a bag-of-words term (mean of a learned [text token, docid token] matrix over the query's tokens, times 10) inside the docid-token logits at every decoder position",
    )
    .option(
      '--lexical-scale <s>',
      "the lexical head's multiplier (default 10): Adam moves each weight by about lr per update, so the head's term moves by about s × lr; --lexical-init bm25 divides its weights by s/10, so the prior is the same",
    )
    .option(
      '--lexical-init <zeros|bm25|none>',
      "how the lexical head starts (implies --lexical-head): zeros, or bm25: the corpus's BM25 weight of each subword in the documents a docid token names, so that atomic docids start as subword BM25; none: no lexical head (default: bm25 for atomic docids trained from scratch, else no head; zeros with --lexical-head)",
    )
    .option('--chunk-tokens <n>', 'tokens per passage chunk (indexing)', String(SFT_DEFAULTS.chunkTokens))
    .option(
      '--pseudo <method>',
      'pseudo-queries: words (default: random runs of 4-16 words) | spans (whole sentences and word runs, half each) | sentences (whole sentences, inverse-cloze style) | doc2query (the in-house model trained on the training questions) | both (doc2query + spans)',
    )
    .option('--pseudo-per-doc <n>', 'pseudo-queries per document', String(SFT_DEFAULTS.pseudoPerDoc))
    .option(
      '--sentence-hold-out <mode>',
      "inverse-cloze hold-out of span pseudo-queries: none (default) | keep (sample them from half of each document's sentences) | remove (and drop those sentences from the indexed text: the BM25 prior, chunks and term lists)",
    )
    .option('--d2q-model <size>', 'doc2query model size', SFT_DEFAULTS.doc2query.model)
    .option('--d2q-epochs <n>', 'doc2query training epochs', String(SFT_DEFAULTS.doc2query.epochs))
    .option('--d2q-lr <rate>', 'doc2query learning rate', String(SFT_DEFAULTS.doc2query.lr))
    .option('--cache-dir <dir>', 'where pseudo-queries are cached (default: $GENIR_CACHE_DIR, else ~/.cache/genir)')
    .addOption(threadsOption())
    .option(
      '--device <cpu|cuda>',
      "where the SFT stages train (cuda needs onnxruntime-node's CUDA binaries; doc2query stays on cpu)",
      'cpu',
    )
    .option('--checkpoint-every <n>', 'updates between checkpoints', String(SFT_DEFAULTS.checkpointEvery))
    .option(
      '--eval-every <n>',
      'evaluate on the dev split every n updates, write the learning curve (dev.csv, dev.svg) and keep the best weights (default 0: off)',
    )
    .option('--dev-split <name>', 'split evaluated during training', SFT_DEFAULTS.devSplit)
    .option('--dev-queries <n>', 'dev queries per evaluation (seeded sample; 0 = all)', String(SFT_DEFAULTS.devQueries))
    .option('--eval-beam <n>', 'beam width of the dev evaluations', String(SFT_DEFAULTS.evalBeam))
    .option('--patience <n>', 'stop after n dev evaluations without improvement (0: never)', String(SFT_DEFAULTS.patience))
    .option('--budget-minutes <m>', 'training-time budget: the learning rate decays to 0 when it runs out, and training stops there')
    .option('--resume', 'continue an interrupted run (its work directory is <out>.training)')
    .option('--overwrite', 'replace an existing model directory at --out; without --resume, discard an unfinished run in <out>.training')
    .option('--keep-work', 'keep <out>.training (checkpoints, per-stage logs) after success')
    .option('--no-onnx', 'do not export the ONNX inference graphs into the model directory')
    .addOption(jsonOption('print one JSON object (the run report summary) as the last line of stdout'));
}

/** The command's options with its `--recipe` applied (flags typed by the user win). */
export function withRecipe<T extends { recipe?: string }>(command: Command, options: T): T {
  return options.recipe === undefined ? options : applyRecipe(command, options, readRecipe(options.recipe, command));
}

/**
 * Settings of a bundled or user recipe for `genir train sft`, as runSft options (without out,
 * data folder and threads, which belong to the run, not the recipe); `args` are options given as
 * on the command line, which override the recipe.
 */
export function sftRecipe(nameOrPath: string, args: readonly string[] = []): Omit<SftOptions, 'out'> {
  const command = defineSftOptions(new Command('sft')).exitOverride();
  command.parse(['--out', '.', ...args], { from: 'user' });
  const options = applyRecipe(command, command.opts<TrainSftCommandOptions>(), readRecipe(nameOrPath, command));
  return sftOptionsFrom(options);
}
