import type { Command } from 'commander';
import { DOCID_SCHEMES, isTextScheme, type DocidScheme } from '../../docids/table.js';
import { runDdroAblation, type AblationDataset } from '../../experiments/ddro-ablation.js';
import { checkWritableFolder } from '../../util/atomic.js';
import { SCHEME_ORDER, runDocidSchemes } from '../../experiments/docid-schemes.js';
import { LINEAR_BASELINE_METRICS, runLinearBaseline } from '../../experiments/linear-baseline.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { SFT_SOURCES, type SftSource } from '../../train/methods/sft/examples.js';
import { runBudgetedSft } from '../../experiments/budgeted-sft.js';
import { runRankControl } from '../../experiments/rank-control.js';
import { UserError } from '../../util/errors.js';
import { docidCodeOptions, sftRecipe } from './train.js';
import {
  parseChoiceList,
  parseCount,
  parsePositiveNumber,
  parseSeed,
  parseThreads,
  type Write,
  dataDirOption,
  threadsOption,
  jsonOption,
} from '../options.js';
import { addRecipeOption } from '../recipe.js';
import { readAblationRuns } from '../ablation-recipe.js';

interface LinearBaselineCommandOptions {
  dataset: string;
  lang?: string;
  dataDir?: string;
  sources: string;
  vocab: string;
  chunkTokens: string;
  pseudoPerDoc: string;
  epochs: string;
  lr: string;
  batchSize: string;
  seed: string;
  split: string;
  devSplit: string;
  json?: boolean;
}

/** Parses `--sources chunks,queries`. */
function parseSources(list: string): SftSource[] {
  return parseChoiceList(list, '--sources', SFT_SOURCES, 'source');
}

interface DdroAblationCommandOptions {
  recipe?: string;
  dataset: string;
  docids: string;
  lang?: string;
  quick?: boolean;
  dataDir?: string;
  work: string;
  seed: string;
  threads?: string;
  json?: boolean;
}

/** Parses `--docids pq,title`. */
export function parseSchemes(list: string): DocidScheme[] {
  return parseChoiceList(list, '--docids', DOCID_SCHEMES, 'scheme');
}

/**
 * Writes an experiment's tables (blank lines between them), then where its files are and what it
 * cost, and with --json its report as the last line.
 */
function writeExperiment(
  write: Write,
  sections: readonly string[],
  result: { files: readonly string[]; seconds: number; peakRssMb: number },
  json: boolean | undefined,
  report: () => unknown,
): void {
  const lines = [
    sections.join('\n\n'),
    '',
    `results: ${result.files.join(', ')}`,
    `wall-clock ${result.seconds.toFixed(1)} s, peak memory ${result.peakRssMb.toFixed(0)} MB`,
  ];
  if (json) lines.push(JSON.stringify(report()));
  write(`${lines.join('\n')}\n`);
}

/** What ddro-ablation and docid-schemes check and read first: dataset, seed, threads, docid schemes, the recipe's runs, the work folder. */
function ablationSettings(options: { dataset: string; seed: string; threads?: string; docids: string; recipe?: string; work: string }) {
  if (options.dataset !== 'squad-dev' && options.dataset !== 'xquad')
    throw new UserError(`--dataset ${options.dataset}: expected squad-dev or xquad`);
  const seed = parseSeed(options.seed);
  const threads = parseThreads(options.threads);
  const docids = parseSchemes(options.docids);
  const runs = readAblationRuns(options.recipe);
  checkWritableFolder(options.work, { option: '--work' });
  return { dataset: options.dataset as AblationDataset, seed, threads, docids, runs };
}

export function registerExperimentCommand(program: Command, write: Write): void {
  const experiment = program.command('experiment').description('reproducible experiments, one command each');
  addRecipeOption(
    experiment
      .command('ddro-ablation')
      .description('SFT, then LTRGR and DDRO from the same SFT checkpoint, evaluated beside BM25 with significance tests against SFT'),
    { sections: ['runs'] },
  )
    .requiredOption('--dataset <id>', 'squad-dev | xquad (cross-lingual: one model on all languages, queries per language)')
    .option('--docids <schemes>', 'docid schemes, comma-separated', 'pq,title')
    .option('--lang <codes>', 'xquad: languages to train on and evaluate (default all; --quick: en)')
    .option('--quick', 'a small configuration that runs every step in about a minute (a smoke test, not a result)')
    .addOption(dataDirOption())
    .option('--work <dir>', 'models, triples and results (trained models are reused by recipe)', 'runs/ddro-ablation')
    .option('--seed <n>', 'seed of every random choice', '0')
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action(async (options: DdroAblationCommandOptions) => {
      const settings = ablationSettings(options);
      const result = await runDdroAblation({
        ...settings,
        lang: options.lang,
        quick: options.quick,
        dataDir: options.dataDir,
        workDir: options.work,
      });
      writeExperiment(write, [result.table], result, options.json, () => ({
        dataset: result.dataset,
        rows: result.rows.map((r) => ({
          method: r.method,
          docids: r.docids,
          lang: r.lang,
          metrics: r.metrics,
          p_t_vs_sft: r.p_t_vs_sft,
          p_rand_vs_sft: r.p_rand_vs_sft,
        })),
        seconds: result.seconds,
        peak_rss_mb: result.peakRssMb,
      }));
    });

  experiment
    .command('rank-control')
    .description(
      'DDRO and LTRGR against an equal-compute control (the same updates of plain cross-entropy) from one SFT checkpoint, over several seeds, with paired tests',
    )
    .requiredOption('--from <dir>', 'the SFT model directory every run starts from')
    .requiredOption(
      '--dataset <id>',
      "the SFT model's dataset: squad-dev (or a SQuAD .json file), or xquad (queries of each language against the English docids)",
    )
    .option('--updates <n>', 'updates of every run', '300')
    .option('--seeds <list>', 'comma-separated seeds', '0,1,2')
    .option('--lr <rate>', 'peak learning rate of every run', '1e-4')
    .option('--work <dir>', 'trained models and results (a finished run is reused)', 'runs/rank-control')
    .addOption(dataDirOption())
    .option('--beam <n>', 'beam width of the test searches', '20')
    .option('--dev-queries <n>', 'dev queries for checkpoint selection', '500')
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        from: string;
        dataset: string;
        updates: string;
        seeds: string;
        lr: string;
        work: string;
        dataDir?: string;
        beam: string;
        devQueries: string;
        threads?: string;
        json?: boolean;
      }) => {
        const seeds = options.seeds.split(',').map((s) => parseSeed(s.trim()));
        checkWritableFolder(options.work, { option: '--work' });
        const result = await runRankControl({
          from: options.from,
          dataset: options.dataset,
          updates: parseCount(options.updates, '--updates'),
          seeds,
          lr: parsePositiveNumber(options.lr, '--lr'),
          work: options.work,
          dataDir: options.dataDir,
          beam: parseCount(options.beam, '--beam'),
          devQueries: parseCount(options.devQueries, '--dev-queries'),
          threads: parseThreads(options.threads),
        });
        const training = formatTable([
          ['method', 'seed', 'queries', 'updates', 'chosen update'],
          ...result.training.map((t) => [
            t.method,
            String(t.seed),
            String(t.queries),
            String(t.updates),
            t.chosenUpdate === null ? '–' : `${t.chosenUpdate}${t.keptSft ? ' (= SFT)' : ''}`,
          ]),
        ]);
        const summary = formatTable([
          ['system', 'RR@10 mean over seeds', 'sd', 'per seed'],
          ...Object.entries(result.summary).map(([system, s]) => [
            system,
            formatValue(s.rr10_mean),
            formatValue(s.rr10_sd),
            s.per_seed.map((v) => formatValue(v)).join(' '),
          ]),
        ]);
        writeExperiment(write, [result.table, training, summary], result, options.json, () => ({
          dataset: result.dataset,
          updates: result.updates,
          seeds: result.seeds,
          lr: result.lr,
          summary: result.summary,
          training: result.training,
          rows: result.rows,
          seconds: result.seconds,
        }));
      },
    );

  experiment
    .command('budgeted-sft')
    .description(
      'a generative retriever trained within a time budget, evaluated beside BM25 and their hybrid (fusion chosen on dev) with paired tests',
    )
    .requiredOption('--dataset <id>', 'dataset with train, dev and test splits (squad-dev, or a SQuAD .json file)')
    .requiredOption('--minutes <m>', 'training-time budget in minutes (evaluation excluded)')
    .option('--recipe <name|file>', 'SFT settings (a bundled recipe name or a JSON file)', 'budgeted-sft')
    .option('--work <dir>', 'where the model is written', 'runs/budgeted-sft')
    .addOption(dataDirOption())
    .option('--beam <n>', 'beam width of the searches', '20')
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        dataset: string;
        minutes: string;
        recipe: string;
        work: string;
        dataDir?: string;
        beam: string;
        threads?: string;
        json?: boolean;
      }) => {
        const minutes = parsePositiveNumber(options.minutes, '--minutes');
        const beam = parseCount(options.beam, '--beam');
        const threads = parseThreads(options.threads);
        checkWritableFolder(options.work, { option: '--work' });
        const result = await runBudgetedSft({
          recipe: sftRecipe(options.recipe, ['--dataset', options.dataset]),
          dataset: options.dataset,
          minutes,
          work: options.work,
          dataDir: options.dataDir,
          beam,
          threads,
        });
        const rows = [
          ['system', 'RR@10', 'R@1', 'R@10'],
          ...(['genir', 'bm25', 'hybrid'] as const).map((system) => [
            system,
            ...(['RR@10', 'R@1', 'R@10'] as const).map((m) => formatValue(result[system][m])),
          ]),
        ];
        const lines = [
          `${result.dataset} test (${result.queries} queries); GenIR trained ${result.trained.minutes.toFixed(1)} of ${result.minutes} minutes, ${result.trained.updates} updates, weights of update ${String(result.trained.chosen_update)}`,
          '',
          formatTable(rows),
          '',
          `hybrid (${result.fusion.method}) vs BM25 on RR@10: paired t-test p = ${result.p_hybrid_vs_bm25.toPrecision(3)}, randomization p = ${result.p_hybrid_vs_bm25_randomization.toPrecision(3)}`,
        ];
        if (options.json) lines.push(JSON.stringify(result));
        write(`${lines.join('\n')}\n`);
      },
    );

  addRecipeOption(
    experiment
      .command('linear-baseline')
      .description(
        "multinomial logistic regression from bag-of-subwords to documents, on atomic-docid SFT's training examples: the floor an atomic-docid model should clear",
      ),
  )
    .requiredOption('--dataset <id>', 'dataset id (squad-dev, xquad, …) or the path of a BEIR folder')
    .option('--lang <codes>', 'xquad: languages, as for genir train sft')
    .addOption(dataDirOption())
    .option('--sources <list>', 'SFT example sources to train on', SFT_SOURCES.join(','))
    .option('--vocab <n>', 'subword vocabulary of the tokenizer (trained as genir train sft trains it)', '8000')
    .option('--chunk-tokens <n>', 'tokens per passage chunk', '40')
    .option('--pseudo-per-doc <n>', 'span pseudo-queries per document', '20')
    .option('--epochs <n>', 'passes over the examples; the epoch with the best dev RR@10 is kept', '10')
    .option('--lr <rate>', 'Adam learning rate', '0.03')
    .option('--batch-size <n>', 'examples per update', '512')
    .option('--seed <n>', 'seed of the pseudo-queries and the example order', '0')
    .option('--split <name>', 'split scored', 'test')
    .option('--dev-split <name>', 'split that chooses the epoch', 'dev')
    .addOption(jsonOption())
    .action(async (options: LinearBaselineCommandOptions) => {
      const seed = parseSeed(options.seed);
      const result = await runLinearBaseline({
        dataset: options.dataset,
        lang: options.lang,
        dataDir: options.dataDir,
        sources: parseSources(options.sources),
        vocabSize: parseCount(options.vocab, '--vocab'),
        chunkTokens: parseCount(options.chunkTokens, '--chunk-tokens'),
        pseudoPerDoc: parseCount(options.pseudoPerDoc, '--pseudo-per-doc'),
        epochs: parseCount(options.epochs, '--epochs'),
        lr: parsePositiveNumber(options.lr, '--lr'),
        batchSize: parseCount(options.batchSize, '--batch-size'),
        seed,
        split: options.split,
        devSplit: options.devSplit,
      });
      const lines = [
        `linear baseline on ${result.dataset}, split ${result.split}: ${result.queries} queries, ${result.docs} documents (classes), ${result.features} features`,
        `trained on ${Object.entries(result.examples)
          .map(([s, n]) => `${s} ${n}`)
          .join(
            ', ',
          )}; epoch ${result.bestEpoch} of ${result.epochs.length} kept${result.settings.devSplit === null ? '' : ` (best ${result.settings.devSplit} RR@10)`}; ${result.seconds.toFixed(1)} s, peak ${result.peakRssMb.toFixed(0)} MB`,
        '',
        formatTable([['metric', 'value'], ...LINEAR_BASELINE_METRICS.map((m) => [m, formatValue(result.metrics[m])])]),
      ];
      if (options.json) {
        lines.push(
          JSON.stringify({
            dataset: result.dataset,
            split: result.split,
            docs: result.docs,
            queries: result.queries,
            metrics: result.metrics,
            best_epoch: result.bestEpoch,
            epochs: result.epochs,
            examples: result.examples,
            settings: result.settings,
            seconds: Math.round(result.seconds * 10) / 10,
            peak_rss_mb: Math.round(result.peakRssMb),
          }),
        );
      }
      write(`${lines.join('\n')}\n`);
    });

  addRecipeOption(
    experiment
      .command('docid-schemes')
      .description(
        'docid schemes at an equal training budget: a dense encoder (baseline, and the vectors rq quantizes), one SFT model per scheme (optionally +DDRO), BM25, on the test split',
      ),
    { sections: ['runs'] },
  )
    .requiredOption('--dataset <id>', 'squad-dev | xquad (cross-lingual: queries per language against the English paragraphs)')
    .requiredOption('--minutes <m>', 'training-time budget of each model (the dense encoder and every SFT model)')
    .option('--docids <schemes>', 'docid schemes, comma-separated', SCHEME_ORDER.join(','))
    .option('--ddro', 'also train DDRO on top of each SFT model (SFT+DDRO rows)')
    .option('--lang <codes>', 'xquad: languages to train on and evaluate (default all; --quick: en)')
    .option('--quick', 'a micro configuration that runs every step quickly (a smoke test, not a result)')
    .addOption(dataDirOption())
    .option(
      '--sft-recipe <name|file>',
      "every SFT model's settings: a genir train sft recipe (bundled name or JSON file), with --docids set per scheme",
      'budgeted-sft',
    )
    .option(
      '--dense-model <dir>',
      'a dense model (genir train dense) for the dense row and rq docids, instead of training one for the budget',
    )
    .option('--docid-levels <n>', 'pq and rq: tokens per docid before disambiguation (as genir train sft)')
    .option('--docid-k <n>', 'pq and rq: codes per docid position (as genir train sft)')
    .option('--work <dir>', 'models and results (trained models are reused by recipe)', 'runs/docid-schemes')
    .option('--seed <n>', 'seed of every random choice', '0')
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        recipe?: string;
        dataset: string;
        minutes: string;
        docids: string;
        ddro?: boolean;
        lang?: string;
        quick?: boolean;
        sftRecipe: string;
        denseModel?: string;
        docidLevels?: string;
        docidK?: string;
        dataDir?: string;
        work: string;
        seed: string;
        threads?: string;
        json?: boolean;
      }) => {
        const settings = ablationSettings(options);
        const minutes = parsePositiveNumber(options.minutes, '--minutes');
        const codes = docidCodeOptions(options).docidCodes;
        // The recipe is read once up front, so that a bad file fails before the dense model trains.
        const sftFor = (scheme: DocidScheme) => schemeSftRecipe(options.sftRecipe, options.dataset, scheme);
        sftFor('atomic');
        const unsupported = settings.docids.filter((s) => s === 'keywords');
        if (unsupported.length > 0)
          throw new UserError(`--docids: ${unsupported.join(', ')} is not part of this comparison (${SCHEME_ORDER.join(', ')})`);
        const result = await runDocidSchemes({
          ...settings,
          minutes,
          ddro: options.ddro,
          lang: options.lang,
          quick: options.quick,
          sftFor,
          ...(codes !== undefined ? { codes } : {}),
          ...(options.denseModel !== undefined ? { denseModel: options.denseModel } : {}),
          dataDir: options.dataDir,
          workDir: options.work,
        });
        writeExperiment(write, [result.table], result, options.json, () => ({
          rows: result.rows.map((r) => ({
            docids: r.docids,
            method: r.method,
            'RR@10': r.metrics['RR@10'],
            metrics: r.metrics,
            ...(r.byLang ? { by_lang: r.byLang } : {}),
            ...(r.docidStats ? { docid_stats: r.docidStats } : {}),
          })),
          dense: { 'RR@10': result.dense['RR@10'], metrics: result.dense },
          bm25: { 'RR@10': result.bm25['RR@10'], metrics: result.bm25 },
          dataset: result.dataset,
          seconds: result.seconds,
        }));
      },
    );
}

/**
 * One docid scheme's SFT settings for `experiment docid-schemes`: the recipe with `--docids` set.
 * A recipe's lexical head (budgeted-sft's BM25 prior) has no docid tokens to sit on when the docid
 * is written in text (title), so that scheme trains without one.
 */
export function schemeSftRecipe(recipe: string, dataset: string, scheme: DocidScheme): ReturnType<typeof sftRecipe> {
  return sftRecipe(recipe, ['--dataset', dataset, '--docids', scheme, ...(isTextScheme(scheme) ? ['--lexical-init', 'none'] : [])]);
}
