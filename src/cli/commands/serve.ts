/**
 * `genir serve --model <dir>`: the HTTP API and search page (src/serve) until SIGTERM or SIGINT,
 * which stop accepting connections, let in-flight requests finish, and exit 0.
 */
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Command } from 'commander';
import { readModelManifest } from '../../retriever/directory.js';
import { DEFAULT_BATCHING, DEFAULT_LIMITS, startServer, type RunningServer } from '../../serve/server.js';
import { defaultMaxBatch, defaultWorkers } from '../../serve/service.js';
import { UserError } from '../../util/errors.js';
import { parseCount, parseNumber, parseQuantize, quantizeOption, type Write, dataDirOption, threadsOption } from '../options.js';

export interface ServeCommandOptions {
  model: string;
  host?: string;
  port?: string;
  dataDir?: string;
  index?: string;
  threads?: string;
  workers?: string;
  maxQueue?: string;
  maxBatch?: string;
  batchWindow?: string;
  maxK?: string;
  maxBeam?: string;
  timeout?: string;
  quantize?: string;
}

function parsePort(value: string): number {
  return parseNumber(value, '--port', {
    integer: true,
    min: 0,
    max: 65_535,
    expected: 'a port number from 0 to 65535 (0 picks a free one)',
  });
}

function parseMilliseconds(value: string, option: string): number {
  return parseNumber(value, option, { min: 0, expected: 'a number of milliseconds ≥ 0' });
}

/**
 * Fails early, before a long job (training, in `genir quickstart --serve`), when the port cannot
 * be listened on: bad number, in use, or not allowed.
 */
export async function checkPortAvailable(options: Pick<ServeCommandOptions, 'host' | 'port'>): Promise<void> {
  const port = options.port === undefined ? 8080 : parsePort(options.port);
  if (port === 0) return;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    probe.listen({ host, port }, () => probe.close(() => resolve()));
  });
}

/** A listen failure a user can fix, as one line naming the option. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new UserError(`--port ${port}: address ${host}:${port} is already in use`);
  if (err.code === 'EACCES') return new UserError(`--port ${port}: permission denied (ports below 1024 need privileges)`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return new UserError(`--host ${host}: not an address of this machine`);
  return err;
}

/**
 * Starts the server and waits until the model is loaded; lines on stdout say where it listens
 * and when it is ready. A model that fails to load is a UserError (the server is closed first).
 */
export async function runServe(options: ServeCommandOptions, write: Write): Promise<RunningServer> {
  // Everything a user can get wrong is checked before anything listens.
  readModelManifest(options.model);
  if (options.index !== undefined && !(existsSync(options.index) && statSync(options.index).isFile()))
    throw new UserError(`--index ${options.index}: no such file`);
  const port = options.port === undefined ? 8080 : parsePort(options.port);
  const count = (value: string | undefined, option: string) => (value === undefined ? undefined : parseCount(value, option));
  const limits = {
    maxK: count(options.maxK, '--max-k') ?? DEFAULT_LIMITS.maxK,
    maxBeam: count(options.maxBeam, '--max-beam') ?? DEFAULT_LIMITS.maxBeam,
    timeoutMs: options.timeout === undefined ? DEFAULT_LIMITS.timeoutMs : parseCount(options.timeout, '--timeout'),
  };
  const batching = {
    maxQueue: count(options.maxQueue, '--max-queue') ?? DEFAULT_BATCHING.maxQueue,
    maxBatch: count(options.maxBatch, '--max-batch'),
    windowMs: options.batchWindow === undefined ? DEFAULT_BATCHING.windowMs : parseMilliseconds(options.batchWindow, '--batch-window'),
  };
  const threads = count(options.threads, '--threads');
  const workers =
    options.workers === undefined
      ? undefined
      : parseNumber(options.workers, '--workers', {
          integer: true,
          min: 0,
          expected: 'a number of search workers ≥ 0 (0: search on the main thread)',
        });
  const quantize = parseQuantize(options.quantize);
  const host = options.host ?? '127.0.0.1';
  let server: RunningServer;
  try {
    server = await startServer({
      model: options.model,
      host,
      port,
      dataDir: options.dataDir,
      index: options.index,
      threads,
      workers,
      quantize,
      limits,
      batching,
    });
  } catch (err) {
    throw listenError(err as NodeJS.ErrnoException, host, port);
  }
  // The pid is for stopping it: a server started through wrappers (npx, a shell) is signalled directly.
  write(`genir serve: listening on ${server.url} (pid ${process.pid}; loading ${options.model} …)\n`);
  const started = performance.now();
  try {
    const service = await server.ready;
    const info = service.info();
    write(
      `genir serve: ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${info.documents} documents (${info.docids} docids)` +
        `${info.text ? '' : ', no document text'}; search page ${server.url}/, API ${server.url}/openapi.json\n`,
    );
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

/** Serves until SIGTERM or SIGINT, then shuts down gracefully. */
export async function serveUntilSignal(server: RunningServer): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`genir serve: ${signal}: finishing in-flight requests, then exiting\n`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
}

export function addServeOptions(command: Command): Command {
  return command
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8080')
    .option('--index <file>', "a BM25 index of the model's corpus (genir bm25 --index-out) instead of building one at start")
    .addOption(threadsOption())
    .option(
      '--workers <n>',
      `search workers: threads that each run one beam-search batch at a time with their own ONNX sessions, --threads split between them; 0 searches on the main thread (default ${defaultWorkers()} here)`,
    )
    .addOption(quantizeOption())
    .option('--max-queue <n>', `searches that may wait for a batch; more get 503 with Retry-After (default ${DEFAULT_BATCHING.maxQueue})`)
    .option(
      '--max-batch <n>',
      `queries per batched beam search (default ${defaultMaxBatch(1)} with search workers, ${defaultMaxBatch(0)} without)`,
    )
    .option('--batch-window <ms>', `how long a query waits for others to batch with (default ${DEFAULT_BATCHING.windowMs})`)
    .option('--max-k <n>', `largest k a request may ask for (default ${DEFAULT_LIMITS.maxK})`)
    .option('--max-beam <n>', `largest beam a request may ask for (default ${DEFAULT_LIMITS.maxBeam})`)
    .option('--timeout <ms>', `a search not answered in this time gets a 503 (default ${DEFAULT_LIMITS.timeoutMs})`);
}

export function registerServeCommand(program: Command, write: Write): void {
  addServeOptions(
    program
      .command('serve')
      .description(
        'serve a trained model over HTTP: search API (genir, bm25, hybrid), documents, health, Prometheus metrics, OpenAPI, and a search page at /',
      )
      .requiredOption('--model <dir>', 'model directory written by genir train sft')
      .addOption(
        dataDirOption(
          "where the model's dataset lives, for document text and BM25 (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)",
        ),
      ),
  ).action(async (options: ServeCommandOptions) => {
    await serveUntilSignal(await runServe(options, write));
  });
}
