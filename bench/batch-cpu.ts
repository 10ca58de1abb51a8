/**
 * Where a serve worker's CPU goes: batched constrained beam search as `genir serve`'s search
 * workers run it (one ORT thread, batches of --batch queries), measured as CPU time per query,
 * garbage-collection time per query (V8's gc performance entries) and the time inside ORT's
 * session runs. CPU time, unlike latency, barely depends on what else the machine runs, so
 * this measures changes to the search path's own cost on a shared machine.
 *
 *   node --import tsx bench/batch-cpu.ts [--json] [--cache <dir>] [--batch 8] [--batches 40]
 *        [--warmup 5] [--beam 10] [--k 10] [--quantize int8] [--threads 1]
 *
 * Model: bench:serve's (`small`, random weights, PQ docids over squad-dev), built in --cache <dir>
 * when that has none yet (else in a temporary folder).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { WeightQuantization } from '../src/model/t5-graph.js';
import { openDataset } from '../src/data/registry.js';
import { GenerativeSearcher } from '../src/search/searcher.js';
import { buildSquadModel } from './squad-model.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const batch = Number(option('--batch', '8'));
const batches = Number(option('--batches', '40'));
const warmup = Number(option('--warmup', '5'));
const beam = Number(option('--beam', '10'));
const k = Number(option('--k', '10'));
const threads = Number(option('--threads', '1'));
const quantize = process.argv.includes('--quantize') ? (option('--quantize', '') as WeightQuantization) : undefined;

async function squadQuestions(): Promise<string[]> {
  const dataset = await openDataset({ id: 'squad-dev', dataDir: process.env.GENIR_DATA_DIR });
  return (await dataset.queries('dev')).map((q) => q.text);
}

let gcMs = 0;
const gcByKind = new Map<number, { count: number; ms: number }>();
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    // Node puts the GC kind (minor, major, incremental, weak callbacks) in `detail`, which its types omit.
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
    const seen = gcByKind.get(kind) ?? { count: 0, ms: 0 };
    seen.count += 1;
    seen.ms += entry.duration;
    gcByKind.set(kind, seen);
  }
});
observer.observe({ entryTypes: ['gc'] });

if (process.argv.includes('--cache')) mkdirSync(option('--cache', ''), { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'genir-batch-cpu-'));
try {
  // --cache <dir>: bench:serve's model is built there once and reused by later runs.
  const cache = option('--cache', '');
  const home = cache === '' ? scratch : cache;
  const built = existsSync(join(home, 'model', 'manifest.json'))
    ? { model: join(home, 'model'), queries: await squadQuestions() }
    : await buildSquadModel(home);
  const modelDir = built.model;
  const queries = built.queries;
  const searcher = await GenerativeSearcher.open(modelDir, { threads, spinning: false, quantize, verify: 'size' });
  let next = 0;
  const group = (): string[] => Array.from({ length: batch }, () => queries[next++ % queries.length]);
  for (let i = 0; i < warmup; i++) await searcher.search(group(), { beam, k, batchQueries: batch, progress: false });
  gcMs = 0;
  gcByKind.clear();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let i = 0; i < batches; i++) await searcher.search(group(), { beam, k, batchQueries: batch, progress: false });
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await searcher.release();
  const count = batch * batches;
  const result = {
    batch,
    batches,
    threads,
    quantize: quantize ?? 'float32',
    cpu_ms_per_query: (cpu.user + cpu.system) / 1000 / count,
    gc_ms_per_query: gcMs / count,
    wall_ms_per_query: wallMs / count,
    gc_by_kind: Object.fromEntries([...gcByKind].map(([kind, v]) => [kind, { count: v.count, ms: Number(v.ms.toFixed(1)) }])),
    rss_mb: process.memoryUsage().rss / 2 ** 20,
  };
  const line = `batch ${batch} × ${batches}, ${threads} thread(s), ${result.quantize}: CPU ${result.cpu_ms_per_query.toFixed(2)} ms/query, GC ${result.gc_ms_per_query.toFixed(2)} ms/query, wall ${result.wall_ms_per_query.toFixed(2)} ms/query`;
  process.stderr.write(`${line}\n`);
  if (json) console.log(JSON.stringify(result));
} finally {
  observer.disconnect();
  rmSync(scratch, { recursive: true, force: true });
}
