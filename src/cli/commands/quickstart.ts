import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { fetchDataset } from '../../data/fetch.js';
import { openDataset } from '../../data/registry.js';
import { formatTable, formatValue } from '../../eval/report.js';
import { GenerativeSearcher } from '../../search/searcher.js';
import { evaluateSearcher } from '../../train/methods/sft/evaluate.js';
import { runSft, type SftOptions } from '../../train/methods/sft/pipeline.js';
import { cacheKey, resolveCacheDir } from '../../util/cache.js';
import { genirVersion, MANIFEST_FILE } from '../../retriever/directory.js';
import { runBm25 } from './bm25.js';
import { checkWritableFolder } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { checkPortAvailable, runServe, serveUntilSignal } from './serve.js';
import { checkTrainingOutputs, sftRecipe } from './train.js';
import { parseThreads, type Write, dataDirOption, threadsOption, jsonOption } from '../options.js';

/** The metrics the quickstart compares, in this order (and the keys of its JSON line). */
export const QUICKSTART_METRICS = ['RR@10', 'R@1', 'R@10'] as const;

/**
 * The quickstart's training recipe, recipes/quickstart.json (the same file `genir train sft
 * --recipe quickstart` reads): a tiny model on XQuAD English, tuned to do as well as it can in
 * a few minutes on 2 cores; it trains in under one (docs/results.md has the measurements).
 */
export function quickstartRecipe(): Omit<SftOptions, 'out'> {
  return sftRecipe('quickstart');
}

/** Beam width of the quickstart's evaluation (the corpus has 240 documents). */
export const QUICKSTART_BEAM = 20;

interface QuickstartCommandOptions {
  dataDir?: string;
  out?: string;
  cacheDir?: string;
  threads?: string;
  json?: boolean;
  /** Serve the trained model afterwards (genir serve) until SIGTERM or SIGINT. */
  serve?: boolean;
  port?: string;
  host?: string;
  retrain?: boolean;
}

export interface QuickstartResult {
  dataset: 'xquad';
  lang: 'en';
  bm25: Record<(typeof QUICKSTART_METRICS)[number], number>;
  genir: Record<(typeof QUICKSTART_METRICS)[number], number>;
  seconds: number;
  /** Whether the model came from an earlier quickstart's cache instead of being trained now. */
  reused_model: boolean;
}

function pick(metrics: Record<string, number>): Record<(typeof QUICKSTART_METRICS)[number], number> {
  return Object.fromEntries(QUICKSTART_METRICS.map((m) => [m, metrics[m]])) as Record<(typeof QUICKSTART_METRICS)[number], number>;
}

export async function runQuickstart(options: QuickstartCommandOptions, write: Write): Promise<QuickstartResult> {
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const threads = parseThreads(options.threads);
  if (options.out !== undefined) checkTrainingOutputs({ out: options.out, cacheDir: options.cacheDir });
  else if (options.cacheDir !== undefined) checkWritableFolder(options.cacheDir, { option: '--cache-dir' });
  if (!options.serve && (options.port !== undefined || options.host !== undefined))
    throw new UserError('--port and --host apply to --serve');
  // Minutes of training must not end in "port in use".
  if (options.serve) await checkPortAvailable(options);
  await fetchDataset('xquad', { dataDir: options.dataDir, log });

  const recipe = quickstartRecipe();
  // Without --out the trained model is kept in the cache, keyed by the recipe and the genir
  // version, so that `quickstart --serve` after `quickstart` (or a second run) does not spend
  // another four minutes training the same model; --retrain trains it again.
  const cached =
    options.out === undefined
      ? join(resolveCacheDir(options.cacheDir), 'quickstart', cacheKey({ recipe, version: genirVersion() }))
      : undefined;
  const reuse = cached !== undefined && options.retrain !== true && existsSync(join(cached, MANIFEST_FILE));
  const temporary = options.out === undefined && !reuse ? mkdtempSync(join(tmpdir(), 'genir-quickstart-')) : undefined;
  const trainedInto = options.out ?? join(temporary ?? '', 'model');
  let out = reuse ? cached! : trainedInto;
  try {
    log('quickstart: 1/3 BM25 on XQuAD English (test split)');
    const bm25 = await runBm25(
      {
        dataset: 'xquad',
        lang: 'en',
        dataDir: options.dataDir,
        k1: '0.9',
        b: '0.4',
        fields: 'flat',
        topK: '100',
        threads: options.threads,
      },
      () => {},
    );
    let trainedSeconds: number | undefined;
    let parameters: number | undefined;
    if (reuse) {
      log(`quickstart: 2/3 reusing the model an earlier quickstart trained with this recipe (${cached!}; --retrain trains it again)`);
    } else {
      log('quickstart: 2/3 training a tiny generative retriever (tokenizer, docids, pseudo-queries, SFT)');
      const sft = await runSft({ ...recipe, out, dataDir: options.dataDir, cacheDir: options.cacheDir, threads, overwrite: true, log });
      trainedSeconds = sft.report.wallSeconds;
      parameters = sft.report.model.parameters as number;
      if (cached !== undefined) out = keepInCache(out, cached, log);
    }
    log('quickstart: 3/3 constrained beam search over the test queries');
    // The same path as `genir eval --model <dir>`: the saved directory and its ONNX graphs.
    const searcher = await GenerativeSearcher.open(out, { threads });
    const dataset = await openDataset({ id: 'xquad', lang: 'en', dataDir: options.dataDir });
    const genir = await evaluateSearcher(searcher, dataset, 'test', [...QUICKSTART_METRICS], { beam: QUICKSTART_BEAM, k: 10 });
    const documents = searcher.docids.size;
    await searcher.release();

    const result: QuickstartResult = {
      dataset: 'xquad',
      lang: 'en',
      bm25: pick(bm25.metrics),
      genir: pick(genir.metrics),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      reused_model: reuse,
    };
    const trained =
      trainedSeconds === undefined
        ? `trained earlier (${out})`
        : `${((parameters ?? 0) / 1e6).toFixed(2)}M parameters, trained ${trainedSeconds.toFixed(0)} s`;
    const lines = [
      `XQuAD English, test split: ${genir.queries} queries, ${documents} documents`,
      `GenIR: ${recipe.model} model, ${recipe.docids} docids, ${trained}; beam ${QUICKSTART_BEAM}, ${((genir.seconds * 1000) / genir.queries).toFixed(1)} ms/query`,
      '',
      formatTable([
        ['metric', 'BM25', 'GenIR'],
        ...QUICKSTART_METRICS.map((m) => [m, formatValue(result.bm25[m]), formatValue(result.genir[m])]),
      ]),
      '',
      `total ${result.seconds.toFixed(1)} s; model in ${out}${options.out === undefined ? ' (the cache: `genir search --model` reads it; --out <dir> keeps a copy of your own)' : ''}`,
    ];
    if (options.json) lines.push(JSON.stringify(result));
    write(`${lines.join('\n')}\n`);
    if (options.serve) {
      log('quickstart: serving the model (genir serve); SIGTERM or Ctrl-C stops it');
      await serveUntilSignal(
        await runServe({ model: out, dataDir: options.dataDir, port: options.port, host: options.host, threads: options.threads }, write),
      );
    }
    return result;
  } finally {
    if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * Moves a freshly trained model directory into the cache (a rename, so a reader never sees half
 * a model); when the cache cannot take it, the model stays where it was trained and is used from
 * there for this run.
 */
function keepInCache(trained: string, cached: string, log: (line: string) => void): string {
  try {
    mkdirSync(join(cached, '..'), { recursive: true });
    rmSync(cached, { recursive: true, force: true });
    renameSync(trained, cached);
    // The trainer's last line named the temporary directory; say where the model is now.
    log(`quickstart: model kept in ${cached}`);
    return cached;
  } catch (err) {
    log(
      `quickstart: warning: could not keep the model in ${cached} (${err instanceof Error ? err.message : String(err)}); it is used from ${trained} and removed at the end`,
    );
    return trained;
  }
}

export function registerQuickstartCommand(program: Command, write: Write): void {
  program
    .command('quickstart')
    .description(
      'train a tiny generative retriever on XQuAD English end to end and compare it with BM25 (under a minute on 2 cores; docs/results.md has the measured time)',
    )
    .addOption(
      dataDirOption('where datasets live; XQuAD is downloaded there when missing (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)'),
    )
    .option(
      '--out <dir>',
      'train into this model directory (default: the cache, $GENIR_CACHE_DIR/quickstart/<key>, reused by the next quickstart)',
    )
    .option('--cache-dir <dir>', 'where pseudo-queries are cached (default: $GENIR_CACHE_DIR, else ~/.cache/genir)')
    .addOption(threadsOption())
    .addOption(jsonOption("print one JSON object as the last line of stdout (before the server's lines with --serve)"))
    .option('--serve', 'then serve the model over HTTP with its search page (genir serve) until Ctrl-C')
    .option('--retrain', 'train the model again even if an earlier quickstart left one in the cache')
    .option('--port <n>', 'with --serve: port to listen on (default 8080; 0 picks a free one)')
    .option('--host <address>', 'with --serve: address to listen on (default 127.0.0.1)')
    .action(async (options: QuickstartCommandOptions) => {
      await runQuickstart(options, write);
    });
}
