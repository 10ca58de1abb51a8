import type { Command } from 'commander';
import { DOCID_SCHEMES, type DocidScheme } from '../../docids/table.js';
import { runDdroAblation, type AblationDataset } from '../../experiments/ddro-ablation.js';
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
}
