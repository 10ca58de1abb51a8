import type { Command } from 'commander';
import { DOCID_SCHEMES, type DocidScheme } from '../../docids/table.js';
import { runDdroAblation, type AblationDataset } from '../../experiments/ddro-ablation.js';
import { SCHEME_ORDER, runDocidSchemes } from '../../experiments/docid-schemes.js';
import { checkWritableFolder } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';

interface DdroAblationCommandOptions {
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
  const schemes = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (schemes.length === 0) throw new UserError('--docids: no scheme given');
  for (const s of schemes) if (!(DOCID_SCHEMES as readonly string[]).includes(s)) throw new UserError(`--docids ${list}: unknown scheme '${s}' (${DOCID_SCHEMES.join(', ')})`);
  return [...new Set(schemes)] as DocidScheme[];
}

export function registerExperimentCommand(program: Command): void {
  const experiment = program.command('experiment').description('reproducible experiments, one command each');
  experiment
    .command('ddro-ablation')
    .description('SFT, then LTRGR and DDRO from the same SFT checkpoint, evaluated beside BM25 with significance tests against SFT')
    .requiredOption('--dataset <id>', 'squad-dev | xquad (cross-lingual: one model on all languages, queries per language)')
    .option('--docids <schemes>', 'docid schemes, comma-separated', 'pq,title')
    .option('--lang <codes>', 'xquad: languages to train on and evaluate (default all; --quick: en)')
    .option('--quick', 'a small configuration that runs every step in about a minute (a smoke test, not a result)')
    .option('--data-dir <dir>', 'where datasets live (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)')
    .option('--work <dir>', 'models, triples and results (trained models are reused by recipe)', 'runs/ddro-ablation')
    .option('--seed <n>', 'seed of every random choice', '0')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (options: DdroAblationCommandOptions) => {
      if (options.dataset !== 'squad-dev' && options.dataset !== 'xquad') throw new UserError(`--dataset ${options.dataset}: expected squad-dev or xquad`);
      const seed = Number(options.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed ${options.seed}: expected a non-negative integer`);
      const threads = options.threads === undefined ? undefined : Number(options.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new UserError(`--threads ${options.threads}: expected a positive integer`);
      checkWritableFolder(options.work, { option: '--work' });
      const result = await runDdroAblation({
        dataset: options.dataset as AblationDataset,
        docids: parseSchemes(options.docids),
        lang: options.lang,
        quick: options.quick,
        dataDir: options.dataDir,
        workDir: options.work,
        seed,
        threads,
      });
      const lines = [result.table, '', `results: ${result.files.join(', ')}`, `wall-clock ${result.seconds.toFixed(1)} s, peak memory ${result.peakRssMb.toFixed(0)} MB`];
      if (options.json) {
        lines.push(JSON.stringify({
          dataset: result.dataset,
          rows: result.rows.map((r) => ({ method: r.method, docids: r.docids, lang: r.lang, metrics: r.metrics, p_t_vs_sft: r.p_t_vs_sft, p_rand_vs_sft: r.p_rand_vs_sft })),
          seconds: result.seconds,
          peak_rss_mb: result.peakRssMb,
        }));
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  experiment
    .command('docid-schemes')
    .description('docid schemes at an equal training budget: a dense encoder (baseline, and the vectors rq quantizes), one SFT model per scheme (optionally +DDRO), BM25, on the test split')
    .requiredOption('--dataset <id>', 'squad-dev | xquad (cross-lingual: queries per language against the English paragraphs)')
    .requiredOption('--minutes <m>', 'training-time budget of each model (the dense encoder and every SFT model)')
    .option('--docids <schemes>', 'docid schemes, comma-separated', SCHEME_ORDER.join(','))
    .option('--ddro', 'also train DDRO on top of each SFT model (SFT+DDRO rows)')
    .option('--lang <codes>', 'xquad: languages to train on and evaluate (default all; --quick: en)')
    .option('--quick', 'a micro configuration that runs every step quickly (a smoke test, not a result)')
    .option('--data-dir <dir>', 'where datasets live (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)')
    .option('--work <dir>', 'models and results (trained models are reused by recipe)', 'runs/docid-schemes')
    .option('--seed <n>', 'seed of every random choice', '0')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (options: { dataset: string; minutes: string; docids: string; ddro?: boolean; lang?: string; quick?: boolean; dataDir?: string; work: string; seed: string; threads?: string; json?: boolean }) => {
      if (options.dataset !== 'squad-dev' && options.dataset !== 'xquad') throw new UserError(`--dataset ${options.dataset}: expected squad-dev or xquad`);
      const minutes = Number(options.minutes);
      if (options.minutes.trim() === '' || !(minutes > 0)) throw new UserError(`--minutes ${options.minutes}: expected a positive number`);
      const seed = Number(options.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed ${options.seed}: expected a non-negative integer`);
      const threads = options.threads === undefined ? undefined : Number(options.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new UserError(`--threads ${options.threads}: expected a positive integer`);
      const docids = parseSchemes(options.docids);
      const unsupported = docids.filter((s) => s === 'keywords');
      if (unsupported.length > 0) throw new UserError(`--docids: ${unsupported.join(', ')} is not part of this comparison (${SCHEME_ORDER.join(', ')})`);
      checkWritableFolder(options.work, { option: '--work' });
      const result = await runDocidSchemes({ dataset: options.dataset as AblationDataset, minutes, docids, ddro: options.ddro, lang: options.lang, quick: options.quick, dataDir: options.dataDir, workDir: options.work, seed, threads });
      const lines = [result.table, '', `results: ${result.files.join(', ')}`, `wall-clock ${result.seconds.toFixed(1)} s, peak memory ${result.peakRssMb.toFixed(0)} MB`];
      if (options.json) {
        lines.push(JSON.stringify({
          rows: result.rows.map((r) => ({ docids: r.docids, method: r.method, 'RR@10': r.metrics['RR@10'], metrics: r.metrics, ...(r.byLang ? { by_lang: r.byLang } : {}), ...(r.docidStats ? { docid_stats: r.docidStats } : {}) })),
          dense: { 'RR@10': result.dense['RR@10'], metrics: result.dense },
          bm25: { 'RR@10': result.bm25['RR@10'], metrics: result.bm25 },
          dataset: result.dataset,
          seconds: result.seconds,
        }));
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
