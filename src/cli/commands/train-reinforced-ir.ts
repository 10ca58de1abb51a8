/**
 * `genir train reinforced-ir` (the self-boosting loop, saving the final retriever and
 * generator) and `genir experiment reinforced-ir` (the same loop, every stage scored on the
 * target's test queries).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TRAINABLE_PRESETS, isTrainablePreset } from '../../model/config.js';
import { saveDenseModelDirectory } from '../../retriever/dense-directory.js';
import { runReinforcedIrExperiment } from '../../experiments/reinforced-ir.js';
import {
  FULL_SETTINGS,
  QUICK_SETTINGS,
  RLGF_NEGATIVES,
  RLGF_ORDERS,
  runReinforcedIr,
  SEARCH_QUERIES,
  SYNTHETIC_SOURCES,
  type ReinforcedIrOptions,
  type ReinforcedIrSettings,
  type RlgfNegatives,
  type RlgfOrder,
  type RoundReport,
  type SearchQuery,
  type SyntheticSource,
} from '../../train/methods/reinforced-ir/loop.js';
import { checkWritableFolder, writeFileAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { removeOnExit } from '../../util/temporaries.js';
import { addRecipeOption } from '../recipe.js';
import {
  dataDirOption,
  jsonOption,
  parseCount,
  parseNonNegativeNumber,
  parsePositiveNumber,
  parseSeed,
  parseThreads,
  refuseOptions,
  threadsOption,
  type Write,
} from '../options.js';

interface LoopCommandOptions {
  source: string;
  target: string;
  rounds: string;
  quick?: boolean;
  dataDir?: string;
  denseFrom?: string;
  denseModel?: string;
  denseMaxPassageTokens?: string;
  denseUpdates?: string;
  doc2queryUpdates?: string;
  generatorUpdates?: string;
  rlrfEpochs?: string;
  rlgfEpochs?: string;
  rlgfOrder?: string;
  rlgfNegatives?: string;
  rlgfContrastive?: string;
  rlgfListDepth?: string;
  rlgfLr?: string;
  searchQuery?: string;
  denseMinutes?: string;
  doc2queryMinutes?: string;
  generatorMinutes?: string;
  queriesPerRound?: string;
  synthetic: string;
  seed: string;
  threads?: string;
  json?: boolean;
}

/** The synthetic-query source by default: the one measured best (docs/reinforced-ir.md, "Synthetic target queries"). */
const DEFAULT_SYNTHETIC: SyntheticSource = 'sentences';

function defineLoopOptions(command: Command): Command {
  return command
    .requiredOption('--source <id>', 'labelled source domain (its training questions and paragraphs), e.g. squad-dev')
    .requiredOption('--target <id>', 'unlabelled target corpus, e.g. scifact or cranfield (its test qrels only evaluate)')
    .option('--rounds <n>', 'RLRF + RLGF rounds', '3')
    .option('--quick', 'a micro configuration that runs every step in seconds (a smoke test, not a result)')
    .addOption(dataDirOption())
    .option('--dense-from <dir>', 'start from this trained dense model directory (genir train dense --out) as D0 instead of training one')
    .option(
      '--dense-model <size>',
      `train D0 as genir train dense --model <size> --updates <--dense-updates> does (its tokenizer, LSA init and pairs), then go on as with --dense-from: ${TRAINABLE_PRESETS.join(' | ')} (default: D0 trained in the loop at the loop's preset, with a tokenizer that also reads the target)`,
    )
    .option('--dense-max-passage-tokens <n>', "with --dense-model: genir train dense's --max-passage-tokens")
    .option(
      '--dense-updates <n>',
      `optimizer updates of the source dense retriever D0 (default ${FULL_SETTINGS.denseUpdates}; --quick ${QUICK_SETTINGS.denseUpdates})`,
    )
    .option(
      '--doc2query-updates <n>',
      `optimizer updates of the doc2query model (default ${FULL_SETTINGS.doc2queryUpdates}; --quick ${QUICK_SETTINGS.doc2queryUpdates})`,
    )
    .option(
      '--generator-updates <n>',
      `optimizer updates of the source generator G0 (default ${FULL_SETTINGS.generatorUpdates}; --quick ${QUICK_SETTINGS.generatorUpdates})`,
    )
    .option(
      '--rlrf-epochs <n>',
      `epochs of DPO over each round's preference pairs (default ${FULL_SETTINGS.rlrfEpochs}; --quick ${QUICK_SETTINGS.rlrfEpochs})`,
    )
    .option(
      '--rlgf-epochs <n>',
      `epochs of ListMLE over each round's lists (default ${FULL_SETTINGS.rlgfEpochs}; --quick ${QUICK_SETTINGS.rlgfEpochs})`,
    )
    .option(
      '--rlgf-order <order>',
      `the order RLGF's ListMLE teaches the retriever: generator (the generator's order of the 16 passages) | source-first (the query's source document first, the generator's order of the 15 others after it) | retriever (the source document first, the retriever's own order after it: a control without the generator's ranking) (default ${FULL_SETTINGS.rlgfOrder})`,
    )
    .option(
      '--rlgf-negatives <source>',
      `where RLGF's 15 negatives are mined: below-positive (the paper's: skip passages within 5 % of the source document's score or above it, sample from the next 50) | top (sample from the retriever's top 50 other than the source document, those that outrank it included) (default ${FULL_SETTINGS.rlgfNegatives})`,
    )
    .option(
      '--rlgf-contrastive <w>',
      `weight of RLGF's in-batch query/augmentation contrastive term, 0 to leave it out (default ${FULL_SETTINGS.rlgfContrastive})`,
    )
    .option(
      '--rlgf-list-depth <n>',
      'positions of each RLGF list whose Plackett-Luce terms count: the list size for full ListMLE (default), 1 for the first passage against the others',
    )
    .option('--rlgf-lr <x>', `peak learning rate of RLGF (default ${FULL_SETTINGS.lr.rlgf})`)
    .option(
      '--search-query <kind>',
      `query vector of the round rows: mixed (0.8 query + 0.2 the generator's augmentation, the paper's) | plain (the query alone) (default ${FULL_SETTINGS.searchQuery})`,
    )
    .option('--dense-minutes <m>', 'optional wall-clock cap on D0 training (a run the cap stops depends on the machine load)')
    .option('--doc2query-minutes <m>', 'optional wall-clock cap on doc2query training (a run the cap stops depends on the machine load)')
    .option('--generator-minutes <m>', 'optional wall-clock cap on G0 training (a run the cap stops depends on the machine load)')
    .option('--queries-per-round <n>', `synthetic target queries per round (default ${FULL_SETTINGS.queriesPerRound})`)
    .option(
      '--synthetic <source>',
      'synthetic target queries: sentences (default: one sentence of the target document, inverse cloze, as train sft --pseudo sentences) | words (a random run of 4-16 of its words, as --pseudo words) | doc2query (the in-house model trained on the source questions)',
      DEFAULT_SYNTHETIC,
    )
    .option('--seed <n>', 'seed of every random choice', '0')
    .addOption(threadsOption())
    .addOption(jsonOption());
}

const fixed = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));

/** What one round did, in one line: the measurements that say why a round helped or did not. */
function roundLine(r: RoundReport): string {
  return [
    `round ${r.round}: RLRF kept ${r.preferencePairs} of ${r.syntheticQueries} synthetic queries as preference pairs (DPO final loss ${fixed(r.dpoFinalLoss, 4)}, reward margin ${fixed(r.dpoRewardMargin, 4)})`,
    `RLGF ${r.rlgfLists} lists (source document ranked first by the generator in ${(r.positiveRankedFirst * 100).toFixed(0)} %), loss ${fixed(r.rlgfFirstEpochLoss, 3)} → ${fixed(r.rlgfLastEpochLoss, 3)}`,
    `source-document MRR ${r.sourceMrrBefore.toFixed(4)} → ${r.sourceMrrAfter.toFixed(4)}`,
    `held-out MRR ${r.heldOut === null ? '-' : `plain ${r.heldOut.plain.toFixed(4)}, mixed ${r.heldOut.mixed.toFixed(4)}`}`,
    `${r.seconds.toFixed(0)} s`,
  ].join('; ');
}

/** The loop's options from the command line (everything checked before any work starts). */
function loopOptions(options: LoopCommandOptions): Omit<ReinforcedIrOptions, 'evaluate'> {
  const base: ReinforcedIrSettings = options.quick ? QUICK_SETTINGS : FULL_SETTINGS;
  if (!(SYNTHETIC_SOURCES as readonly string[]).includes(options.synthetic))
    throw new UserError(`--synthetic ${options.synthetic}: expected ${SYNTHETIC_SOURCES.join(', ')}`);
  const synthetic = options.synthetic as SyntheticSource;
  if (options.rlgfOrder !== undefined && !(RLGF_ORDERS as readonly string[]).includes(options.rlgfOrder))
    throw new UserError(`--rlgf-order ${options.rlgfOrder}: expected ${RLGF_ORDERS.join(', ')}`);
  if (options.rlgfNegatives !== undefined && !(RLGF_NEGATIVES as readonly string[]).includes(options.rlgfNegatives))
    throw new UserError(`--rlgf-negatives ${options.rlgfNegatives}: expected ${RLGF_NEGATIVES.join(', ')}`);
  if (options.searchQuery !== undefined && !(SEARCH_QUERIES as readonly string[]).includes(options.searchQuery))
    throw new UserError(`--search-query ${options.searchQuery}: expected ${SEARCH_QUERIES.join(', ')}`);
  const listSize = base.negatives + 1;
  const listDepth = options.rlgfListDepth === undefined ? undefined : parseCount(options.rlgfListDepth, '--rlgf-list-depth');
  if (listDepth !== undefined && listDepth > listSize)
    throw new UserError(`--rlgf-list-depth ${listDepth}: expected at most the list size ${listSize}`);
  if (synthetic !== 'doc2query')
    refuseOptions(
      [
        [options.doc2queryUpdates, '--doc2query-updates'],
        [options.doc2queryMinutes, '--doc2query-minutes'],
      ],
      '--synthetic doc2query (no doc2query model is trained for --synthetic ' + synthetic + ')',
    );
  if (options.denseFrom !== undefined) {
    for (const [value, flag] of [
      [options.denseUpdates, '--dense-updates'],
      [options.denseMinutes, '--dense-minutes'],
      [options.denseModel, '--dense-model'],
    ] as const)
      if (value !== undefined)
        throw new UserError(`${flag}: D0 is not trained with --dense-from ${options.denseFrom}; give one or the other`);
  }
  const denseModel = options.denseModel;
  if (denseModel !== undefined && !isTrainablePreset(denseModel))
    throw new UserError(`--dense-model ${denseModel}: expected ${TRAINABLE_PRESETS.join(', ')}`);
  if (denseModel !== undefined && options.denseMinutes !== undefined)
    throw new UserError('--dense-minutes: not with --dense-model, whose D0 is trained for --dense-updates updates');
  if (options.denseMaxPassageTokens !== undefined && denseModel === undefined)
    throw new UserError('--dense-max-passage-tokens: only with --dense-model (genir train dense trains that D0)');
  const count = (value: string | undefined, flag: string, fallback: number): number =>
    value === undefined ? fallback : parseCount(value, flag);
  const epochs = (value: string | undefined, flag: string, fallback: number): number =>
    value === undefined ? fallback : parsePositiveNumber(value, flag);
  const cap = (value: string | undefined, flag: string): number | undefined =>
    value === undefined ? undefined : parsePositiveNumber(value, flag);
  const settings: ReinforcedIrSettings = {
    ...base,
    denseUpdates: count(options.denseUpdates, '--dense-updates', base.denseUpdates),
    doc2queryUpdates: count(options.doc2queryUpdates, '--doc2query-updates', base.doc2queryUpdates),
    generatorUpdates: count(options.generatorUpdates, '--generator-updates', base.generatorUpdates),
    rlrfEpochs: epochs(options.rlrfEpochs, '--rlrf-epochs', base.rlrfEpochs),
    rlgfEpochs: epochs(options.rlgfEpochs, '--rlgf-epochs', base.rlgfEpochs),
    rlgfOrder: (options.rlgfOrder as RlgfOrder | undefined) ?? base.rlgfOrder,
    rlgfNegatives: (options.rlgfNegatives as RlgfNegatives | undefined) ?? base.rlgfNegatives,
    rlgfContrastive:
      options.rlgfContrastive === undefined ? base.rlgfContrastive : parseNonNegativeNumber(options.rlgfContrastive, '--rlgf-contrastive'),
    rlgfListDepth: listDepth,
    searchQuery: (options.searchQuery as SearchQuery | undefined) ?? base.searchQuery,
    lr: { ...base.lr, rlgf: options.rlgfLr === undefined ? base.lr.rlgf : parsePositiveNumber(options.rlgfLr, '--rlgf-lr') },
    denseMinutes: cap(options.denseMinutes, '--dense-minutes'),
    doc2queryMinutes: cap(options.doc2queryMinutes, '--doc2query-minutes'),
    generatorMinutes: cap(options.generatorMinutes, '--generator-minutes'),
    queriesPerRound: count(options.queriesPerRound, '--queries-per-round', base.queriesPerRound),
  };
  return {
    source: options.source,
    target: options.target,
    dataDir: options.dataDir,
    rounds: parseCount(options.rounds, '--rounds'),
    settings,
    synthetic,
    denseFrom: options.denseFrom === undefined ? undefined : resolve(options.denseFrom),
    denseTraining:
      denseModel === undefined
        ? undefined
        : {
            model: denseModel,
            updates: settings.denseUpdates,
            maxPassageTokens:
              options.denseMaxPassageTokens === undefined
                ? undefined
                : parseCount(options.denseMaxPassageTokens, '--dense-max-passage-tokens'),
          },
    quick: options.quick,
    seed: parseSeed(options.seed),
    threads: parseThreads(options.threads),
  };
}

export function registerReinforcedIrCommands(program: Command, write: Write): void {
  const trainCommand = program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('train retrieval models');
  defineLoopOptions(addRecipeOption(trainCommand.command('reinforced-ir')))
    .description(
      'Reinforced-IR: adapt a dense retriever and a query-augmentation generator to an unlabelled target corpus by alternating RLRF and RLGF',
    )
    .requiredOption('--out <dir>', 'output folder: retriever/ (a dense model directory over the target corpus), generator/, report.json')
    .option('--overwrite', 'replace an existing --out folder')
    .action(async (options: LoopCommandOptions & { out: string; overwrite?: boolean }) => {
      const loop = loopOptions(options);
      const out = resolve(options.out);
      checkWritableFolder(out, { option: '--out', besideToo: true });
      if (existsSync(out) && readdirSync(out).length > 0 && !options.overwrite)
        throw new UserError(`--out ${options.out}: exists and is not empty; pass --overwrite to replace it`);
      const result = await runReinforcedIr({ ...loop, evaluate: false });
      // Everything goes into a staging folder first, so an interrupted save leaves no half-written --out.
      const staging = `${out}.staging-${process.pid}`;
      const forget = removeOnExit(staging);
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      await saveDenseModelDirectory(join(staging, 'retriever'), {
        model: result.dense,
        tokenizer: result.tokenizer,
        ids: result.targetDocs.map((d) => d.id),
        titles: result.targetDocs.map((d) => d.title ?? ''),
        vectors: result.targetVectors,
        dataset: {
          id: result.target,
          languages: null,
          trainSplit: null,
          documents: result.targetDocuments,
          reinforcedIr: { source: result.source, rounds: loop.rounds },
        },
      });
      await result.generator.save(join(staging, 'generator'));
      result.tokenizer.save(join(staging, 'generator', 'tokenizer.json'));
      const report = {
        source: result.source,
        target: result.target,
        synthetic: result.synthetic,
        synthetic_source_mrr: result.syntheticSourceMrr,
        dense_source: result.denseSource,
        rounds: result.rounds,
        seconds: Math.round(result.seconds * 10) / 10,
      };
      await writeFileAtomic(join(staging, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      await result.dense.release();
      await result.generator.release();
      rmSync(out, { recursive: true, force: true });
      renameSync(staging, out);
      forget();
      const lines = [
        `reinforced-ir: ${loop.rounds} rounds on ${result.target} from ${result.source}; retriever and generator saved to ${out} (${result.seconds.toFixed(1)} s)`,
      ];
      if (options.json) lines.push(JSON.stringify({ out, ...report }));
      write(`${lines.join('\n')}\n`);
    });

  const experiment =
    program.commands.find((c) => c.name() === 'experiment') ??
    program.command('experiment').description('reproducible experiments, one command each');
  defineLoopOptions(addRecipeOption(experiment.command('reinforced-ir')))
    .description(
      'Reinforced-IR on an unlabelled target: BM25, dense trained on the source, + augmentation, then each self-boosting round, with paired t-tests',
    )
    .action(async (options: LoopCommandOptions) => {
      const { result, table } = await runReinforcedIrExperiment(loopOptions(options));
      const lines = [
        `${result.target} test (${result.test_queries} queries, ${result.target_documents} documents); source ${result.source}; synthetic queries from ${result.synthetic} (D0's MRR of their source documents ${result.synthetic_source_mrr.toFixed(4)}); p: paired t-test on nDCG@10`,
        `RLGF: order ${result.rlgf.order}, negatives ${result.rlgf.negatives}, contrastive weight ${result.rlgf.contrastive}, list depth ${result.rlgf.list_depth}, lr ${result.rlgf.lr}, epochs ${result.rlgf.epochs}; round rows searched with the ${result.search_query} query; held-out MRR before round 1 ${result.held_out_before === null ? '-' : `plain ${result.held_out_before.plain.toFixed(4)}, mixed ${result.held_out_before.mixed.toFixed(4)}`} (${result.held_out_queries} queries)`,
        '',
        table,
        '',
        ...result.rounds.map((r) => roundLine(r)),
        `wall-clock ${result.seconds.toFixed(1)} s, peak memory ${result.peak_rss_mb} MB`,
      ];
      if (options.json) lines.push(JSON.stringify(result));
      write(`${lines.join('\n')}\n`);
    });
}
