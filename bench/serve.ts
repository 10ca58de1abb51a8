/**
 * `genir serve` under load, with autocannon on the loopback interface only, bounded in time.
 *
 *   npm run bench:serve -- [--json] [--model <dir>] [--duration 60] [--concurrency 8,32,128]
 *                          [--beam 10] [--k 10] [--threads 2] [--max-queue 128] [--max-batch n]
 *                          [--burst-seconds 10] [--soak-seconds 20] [--warmup 3] [--quantize int8]
 *                          [--workers n] [--batch-window ms]
 *
 * Model: --model <dir> (queries: its dataset's, when GENIR_DATA_DIR has it), else the `small` preset randomly initialised (seed 0; latency does not
 * depend on training) with an 8,000-subword tokenizer and PQ docids over squad-dev's 2,067
 * paragraphs (needs GENIR_DATA_DIR), saved as a model directory whose manifest names squad-dev,
 * so the server builds BM25 and the document store from it as it would for a trained model.
 * Queries: squad-dev's questions, in order, POST /search {query, k, beam} in genir mode.
 *
 * The server runs as its own process (`genir serve`); its RSS is read from /metrics
 * (genir_process_resident_memory_bytes) at the start and end of each phase.
 *   1. sustained: each concurrency for --duration seconds: QPS (2xx per second), p50/p99
 *      latency, errors (connection errors, timeouts and any non-2xx but 503), 503s, RSS;
 *   2. burst: 4 × --max-queue connections for --burst-seconds: past the queue bound the answer
 *      must be 503 with Retry-After, with no timeout, no connection error, no crash;
 *   3. soak: malformed requests (bad JSON, wrong types, unknown fields, over-long queries, …)
 *      from 8 fetch clients while 8 autocannon clients send good ones, for --soak-seconds: every malformed one must get a 4xx, every
 *      good one a 200 (or a 503 when the queue is full), and /health, polled every 200 ms, must
 *      answer 200 throughout.
 * With --json the last stdout line is one JSON object: the figures of the 32-client phase (or
 * the largest concurrency below it when 32 is not run), then every phase.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { serveGenir } from '../src/cli/testing.js';
import { openDataset } from '../src/data/registry.js';
import { readModelManifest } from '../src/retriever/directory.js';
import { defaultMaxBatch, defaultWorkers } from '../src/serve/service.js';
import { buildSquadModel } from './squad-model.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const duration = Number(option('--duration', '60'));
const concurrencies = option('--concurrency', '8,32,128').split(',').map(Number);
const beam = Number(option('--beam', '10'));
const k = Number(option('--k', '10'));
const threads = option('--threads', '2');
const maxQueue = Number(option('--max-queue', '128'));
/** `genir serve --max-batch`; its default (defaultMaxBatch: 8 with search workers, 16 without) when not given. */
const givenMaxBatch = process.argv.includes('--max-batch') ? option('--max-batch', '') : undefined;
/** `genir serve --workers` and `--batch-window`; the server's defaults when not given. */
const workers = process.argv.includes('--workers') ? option('--workers', '') : undefined;
const batchWindow = process.argv.includes('--batch-window') ? option('--batch-window', '') : undefined;
const burstSeconds = Number(option('--burst-seconds', '10'));
const soakSeconds = Number(option('--soak-seconds', '20'));
const warmupSeconds = Number(option('--warmup', '3'));
const givenModel = process.argv.includes('--model') ? option('--model', '') : undefined;
/** `genir serve --quantize` (int8 weights; docs/serving.md, "int8 inference"); float32 when not given. */
const quantize = process.argv.includes('--quantize') ? option('--quantize', '') : undefined;
for (const [name, value] of Object.entries({ duration, beam, k, maxQueue, burstSeconds, soakSeconds })) {
  if (!(value > 0)) throw new Error(`--${name}: expected a positive number, got ${value}`);
}
if (concurrencies.some((c) => !Number.isInteger(c) || c < 1))
  throw new Error(`--concurrency: expected positive integers, got ${option('--concurrency', '')}`);

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The questions of the dataset a model names, when it can be opened; else a few fixed ones. */
async function modelQueries(dir: string): Promise<string[]> {
  try {
    const dataset = await openDataset({ id: String(readModelManifest(dir).dataset.id), dataDir: process.env.GENIR_DATA_DIR });
    const split = dataset.splits.includes('dev') ? 'dev' : dataset.defaultSplit;
    const queries = (await dataset.queries(split)).map((q) => q.text);
    if (queries.length > 0) return queries;
  } catch {
    // A model of an unregistered corpus (the tests' tiny one): the fixed queries below.
  }
  return [
    'where does glacier melt water go',
    'why do tides rise',
    'desert plants store water',
    'birds that drum on trees',
    'ocean',
    'alpine rivers and lowlands',
  ];
}

/** The server's RSS, and how busy its main thread was since the previous scrape (genir_event_loop_utilization). */
async function scrape(url: string): Promise<{ rssMb: number; eventLoop: number; batches: number; batched: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    rssMb: Math.round((value('genir_process_resident_memory_bytes') / 2 ** 20) * 10) / 10,
    eventLoop: Math.round(value('genir_event_loop_utilization') * 1000) / 1000,
    batches: value('genir_search_batch_size_count'),
    batched: value('genir_search_batch_size_sum'),
  };
}

async function rssMb(url: string): Promise<number> {
  return (await scrape(url)).rssMb;
}

function searchRequests(queries: readonly string[]): autocannon.Request[] {
  return queries.map((query) => ({
    method: 'POST',
    path: '/search',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, k, beam }),
  }));
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 30, ...options }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function count503(result: autocannon.Result): number {
  return result.statusCodeStats?.['503']?.count ?? 0;
}

interface Phase {
  phase: string;
  concurrency: number;
  seconds: number;
  qps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  /** Client time-outs (autocannon's 30 s), also counted in errors. */
  timeouts: number;
  rejected_503: number;
  rss_start_mb: number;
  rss_end_mb: number;
  /** Fraction of the phase the server's main thread was busy. */
  event_loop_utilization: number;
  /** Queries per beam-search batch, on average over the phase. */
  mean_batch: number;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'genir-bench-serve-'));
  let queries: string[];
  let model: string;
  if (givenModel !== undefined) {
    model = givenModel;
    queries = await modelQueries(givenModel);
  } else {
    ({ model, queries } = await buildSquadModel(work));
  }
  const server = await serveGenir(
    [
      '--model',
      model,
      '--port',
      '0',
      '--threads',
      threads,
      '--max-queue',
      String(maxQueue),
      ...(givenMaxBatch === undefined ? [] : ['--max-batch', givenMaxBatch]),
      ...(quantize === undefined ? [] : ['--quantize', quantize]),
      ...(workers === undefined ? [] : ['--workers', workers]),
      ...(batchWindow === undefined ? [] : ['--batch-window', batchWindow]),
    ],
    { timeoutMs: 600_000 },
  );
  const url = server.url;
  const maxBatch =
    givenMaxBatch === undefined ? defaultMaxBatch(workers === undefined ? defaultWorkers() : Number(workers)) : Number(givenMaxBatch);
  const servedWorkers = Number(/^genir_search_workers (\S+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
  log(
    `server: ${url} (max queue ${maxQueue}, batch ≤ ${maxBatch}, ${servedWorkers} search threads); ${queries.length} queries; beam ${beam}, k ${k}`,
  );
  const requests = searchRequests(queries);
  const phases: Phase[] = [];
  try {
    await run({ url, connections: 4, duration: warmupSeconds, requests });
    for (const connections of concurrencies) {
      const start = await scrape(url);
      const result = await run({ url, connections, duration, requests });
      const end = await scrape(url);
      const rejected = count503(result);
      const phase: Phase = {
        phase: 'sustained',
        concurrency: connections,
        seconds: result.duration,
        qps: Math.round((result['2xx'] / result.duration) * 10) / 10,
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        // autocannon's `errors` already counts its time-outs; any status but 2xx and 503 is an error too.
        errors: result.errors + result.non2xx - rejected,
        timeouts: result.timeouts,
        rejected_503: rejected,
        rss_start_mb: start.rssMb,
        rss_end_mb: end.rssMb,
        event_loop_utilization: end.eventLoop,
        mean_batch: Math.round(((end.batched - start.batched) / Math.max(1, end.batches - start.batches)) * 10) / 10,
      };
      phases.push(phase);
      log(
        `${connections} clients, ${phase.seconds.toFixed(0)} s: ${phase.qps} queries/s, p50 ${phase.p50_ms} ms, p99 ${phase.p99_ms} ms, ${phase.errors} errors (${phase.timeouts} time-outs), ${phase.rejected_503} × 503, RSS ${phase.rss_start_mb} → ${phase.rss_end_mb} MB, main thread busy ${(phase.event_loop_utilization * 100).toFixed(0)} %, ${phase.mean_batch} queries per batch`,
      );
    }

    // Burst: far more clients than the queue holds.
    const burstClients = 4 * maxQueue;
    let retryAfterMissing = 0;
    const burstRequests = requests.map((request) => ({
      ...request,
      // autocannon passes the headers with the case they were sent in.
      onResponse: (status: number, _body: string, _context: object, headers: Record<string, unknown> | undefined) => {
        if (status === 503 && !Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'retry-after')) retryAfterMissing++;
      },
    }));
    const rssBurst = await rssMb(url);
    const burst = await run({ url, connections: burstClients, duration: burstSeconds, requests: burstRequests });
    const burstPhase = {
      phase: 'burst',
      concurrency: burstClients,
      seconds: burst.duration,
      answered_200: burst['2xx'],
      rejected_503: count503(burst),
      retry_after_missing: retryAfterMissing,
      timeouts: burst.timeouts,
      errors: burst.errors - burst.timeouts + burst.non2xx - count503(burst),
      p99_ms: burst.latency.p99,
      rss_start_mb: rssBurst,
      rss_end_mb: await rssMb(url),
    };
    log(
      `burst, ${burstClients} clients, ${burstPhase.seconds.toFixed(0)} s: ${burstPhase.answered_200} × 200, ${burstPhase.rejected_503} × 503 (${retryAfterMissing} without Retry-After), ${burstPhase.timeouts} timeouts, ${burstPhase.errors} other errors`,
    );

    // Soak: malformed requests beside good ones; /health polled all along. The malformed ones go
    // through fetch, one status per request: autocannon restarts its request list from the top
    // whenever the server closes a connection (as after a body it cannot parse), so it would send
    // only the first malformed kind.
    const malformed: { method: string; path: string; type?: string; body?: string; expect: number }[] = [
      { method: 'POST', path: '/search', type: 'application/json', body: '{"query": "unterminated', expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: '{"query": 42}', expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: '{"query": "x", "k": "ten"}', expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: '{"query": "x", "unknown": true}', expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: JSON.stringify({ query: 'q'.repeat(5000) }), expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: JSON.stringify({ query: 'x', k: 1e9 }), expect: 400 },
      {
        method: 'POST',
        path: '/search',
        type: 'application/json',
        body: JSON.stringify({ query: 'x', pad: 'y'.repeat(20_000) }),
        expect: 413,
      },
      { method: 'POST', path: '/search', type: 'application/xml', body: '<query/>', expect: 415 },
      { method: 'POST', path: '/search', type: 'application/json', body: '[]', expect: 400 },
      { method: 'POST', path: '/search', type: 'application/json', body: '', expect: 400 },
      { method: 'GET', path: '/search?q=', expect: 400 },
      { method: 'GET', path: '/documents/no-such-document', expect: 404 },
    ];
    let healthChecks = 0;
    let healthFailures = 0;
    let soaking = true;
    const poller = (async () => {
      while (soaking) {
        healthChecks++;
        try {
          if ((await fetch(`${url}/health`)).status !== 200) healthFailures++;
        } catch {
          healthFailures++;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    let sent = 0;
    let not4xx = 0;
    let unexpected = 0;
    let connectionErrors = 0;
    const malformedClient = async () => {
      while (soaking) {
        const request = malformed[sent++ % malformed.length];
        try {
          const response = await fetch(`${url}${request.path}`, {
            method: request.method,
            headers: request.type === undefined ? {} : { 'content-type': request.type },
            body: request.body,
          });
          await response.arrayBuffer();
          if (response.status < 400 || response.status >= 500) not4xx++;
          if (response.status !== request.expect) unexpected++;
        } catch {
          connectionErrors++;
        }
      }
    };
    const soakClients = Array.from({ length: 8 }, malformedClient);
    const good = await run({ url, connections: 8, duration: soakSeconds, requests });
    soaking = false;
    await Promise.all([poller, ...soakClients]);
    const goodTotal = good['1xx'] + good['2xx'] + good['3xx'] + good['4xx'] + good['5xx'];
    const soakPhase = {
      phase: 'soak',
      concurrency: 16,
      seconds: good.duration,
      malformed: sent,
      malformed_not_4xx: not4xx,
      malformed_unexpected_status: unexpected,
      good: goodTotal,
      good_not_200: goodTotal - good['2xx'] - count503(good),
      errors: good.errors + connectionErrors,
      health_checks: healthChecks,
      health_failures: healthFailures,
    };
    log(
      `soak, ${soakPhase.seconds.toFixed(0)} s: ${sent} malformed (${not4xx} not 4xx, ${unexpected} not the expected status), ${goodTotal} good (${soakPhase.good_not_200} neither 200 nor 503), ` +
        `${soakPhase.errors} connection errors; /health ${healthChecks - healthFailures}/${healthChecks} OK`,
    );

    const target =
      phases.find((p) => p.concurrency === 32) ?? [...phases].reverse().find((p) => p.concurrency < 32) ?? phases[phases.length - 1];
    const summary = {
      qps: target.qps,
      p50_ms: target.p50_ms,
      p99_ms: target.p99_ms,
      errors: target.errors,
      rss_start_mb: target.rss_start_mb,
      rss_end_mb: target.rss_end_mb,
      rejected_503: burstPhase.rejected_503,
      concurrency: target.concurrency,
      beam,
      k,
      threads: Number(threads),
      quantize: quantize ?? null,
      workers: servedWorkers,
      max_batch: maxBatch,
      batch_window_ms: batchWindow === undefined ? null : Number(batchWindow),
      phases: [...phases, burstPhase, soakPhase],
    };
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    server.child.kill('SIGTERM');
    const code = await server.exited;
    if (code !== 0) log(`server exited with code ${code}; stderr: ${server.stderr()}`);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
