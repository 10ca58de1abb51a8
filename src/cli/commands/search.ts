import type { Command } from 'commander';
import { formatTable } from '../../eval/report.js';
import { DEFAULT_BEAM } from '../../search/beam.js';
import { GenerativeSearcher, type SearchHit } from '../../search/searcher.js';
import { UserError } from '../../util/errors.js';
import { checkDevice, parseDevice } from '../../engine/device.js';

export interface SearchCommandOptions {
  model: string;
  k?: string;
  beam?: string;
  renormalize?: boolean;
  threads?: string;
  device?: string;
  json?: boolean;
}

/** What `genir search --json` prints as its last line. */
export interface SearchReport {
  model: string;
  query: string;
  beam: number;
  k: number;
  load_ms: number;
  search_ms: number;
  results: { rank: number; docId: string; title: string | null; score: number }[];
}

/** Parses a positive integer option; a bad value is a user error naming the option. */
export function parseCount(value: string, option: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`${option} ${value}: expected a positive integer`);
  return n;
}

/** Beam and k from the options: beam defaults to 10, k to min(10, beam); k may not exceed beam. */
export function beamAndK(options: { beam?: string; k?: string }): { beam: number; k: number } {
  const beam = options.beam === undefined ? DEFAULT_BEAM : parseCount(options.beam, '--beam');
  const k = options.k === undefined ? Math.min(10, beam) : parseCount(options.k, '--k');
  if (k > beam) throw new UserError(`--k ${k} is larger than --beam ${beam}: beam search keeps only beam hypotheses, so k must be ≤ beam`);
  return { beam, k };
}

export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('rank documents for a query with a trained generative retriever (trie-constrained beam search over docids)')
    .requiredOption('--model <dir>', 'model directory written by genir train sft')
    .argument('<query...>', 'query text (several words are joined with spaces)')
    .option('--k <n>', 'documents to return (default: 10, at most --beam)')
    .option('--beam <n>', 'beam width', String(DEFAULT_BEAM))
    .option('--renormalize', 'score docids under the distribution renormalised over the tokens the trie allows')
    .option('--threads <n>', 'ONNX Runtime threads (default: every core)')
    .option('--device <cpu|cuda>', "where ONNX Runtime runs (cuda needs onnxruntime-node's CUDA binaries)", 'cpu')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (words: string[], options: SearchCommandOptions) => {
      await runSearch(words.join(' '), options);
    });
}

/** Runs `genir search`; the report goes to `write` (stdout by default). */
export async function runSearch(query: string, options: SearchCommandOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<SearchReport> {
  const { beam, k } = beamAndK(options);
  const threads = options.threads === undefined ? undefined : parseCount(options.threads, '--threads');
  if (query.trim() === '') throw new UserError('the query is empty');
  const loadStart = performance.now();
  const device = parseDevice(options.device ?? 'cpu');
  checkDevice(device);
  const searcher = await GenerativeSearcher.open(options.model, { threads, spinning: false, device });
  const loadMs = performance.now() - loadStart;
  let hits: SearchHit[];
  const searchStart = performance.now();
  try {
    [hits] = await searcher.search([query], { beam, k, renormalize: options.renormalize });
  } finally {
    await searcher.release();
  }
  const searchMs = performance.now() - searchStart;
  const report: SearchReport = {
    model: options.model,
    query,
    beam,
    k,
    load_ms: Math.round(loadMs),
    search_ms: Math.round(searchMs * 10) / 10,
    results: hits.map((hit) => ({ rank: hit.rank, docId: hit.docId, title: hit.title ?? null, score: hit.score })),
  };
  // The title goes last, unaligned: formatTable right-aligns every column after the first.
  const table = formatTable([['rank', 'log p', 'document'], ...hits.map((hit) => [String(hit.rank), hit.score.toFixed(4), hit.docId])])
    .split('\n')
    .map((line, i) => `${line}  ${i === 0 ? 'title' : (hits[i - 1].title ?? '')}`.trimEnd())
    .join('\n');
  const lines = [
    `query: ${query}`,
    `model ${options.model}: ${searcher.docids.size} documents (${searcher.docids.scheme} docids); beam ${beam}, top ${k}; searched in ${report.search_ms} ms (model loaded in ${report.load_ms} ms)`,
    '',
    hits.length > 0 ? table : '(no documents)',
  ];
  if (options.json) lines.push(JSON.stringify(report));
  write(`${lines.join('\n')}\n`);
  return report;
}
