/**
 * `genir serve`: the HTTP API and the search page, on Fastify.
 *
 *   POST /search            {query, k?, beam?, mode?, lang?, trace?} → ranked hits
 *   GET  /search?q=…        the same for quick use (k, beam, mode, lang as parameters)
 *   GET  /documents/:id     one document (title, text, docid)
 *   GET  /health            200 once the model is loaded, 503 before
 *   GET  /metrics           Prometheus text format
 *   GET  /openapi.json      OpenAPI 3 description, generated from the route schemas
 *   GET  /                  the search page
 *
 * The server listens at once and loads the model behind it, so /health can say "loading".
 * Every request is validated against its schema (no coercion, unknown fields refused); every
 * error is a JSON {error} of one line with a 4xx (or 503 when overloaded), never a crash.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { genirVersion } from '../retriever/directory.js';
import { DEFAULT_BEAM } from '../search/beam.js';
import { MAX_QUERY_CHARS } from '../search/searcher.js';
import { UserError } from '../util/errors.js';
import { JobAbortedError, QueueFullError, type MicroBatcherOptions } from './batcher.js';
import {
  documentResponseSchema,
  errorSchema,
  healthResponseSchema,
  searchBodySchema,
  searchQuerystringSchema,
  searchResponseSchema,
  type ServeLimits,
} from './schemas.js';
import { SearchService, type SearchMode, type SearchRequest, type SearchServiceOptions } from './service.js';

export const DEFAULT_LIMITS: ServeLimits = {
  maxQueryChars: MAX_QUERY_CHARS,
  maxK: 100,
  maxBeam: 100,
  bodyBytes: 16 * 1024,
  timeoutMs: 10_000,
};
/** The queue bound and gather window; the batch size's default depends on the workers (defaultMaxBatch). */
export const DEFAULT_BATCHING: Pick<MicroBatcherOptions, 'maxQueue' | 'windowMs'> = {
  maxQueue: 64,
  windowMs: 3,
};

export interface ServeOptions extends Omit<SearchServiceOptions, 'batching' | 'onBatch' | 'onQueueDepth' | 'onRunning'> {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  limits?: Partial<ServeLimits>;
  batching?: Partial<SearchServiceOptions['batching']>;
}

export interface RunningServer {
  app: FastifyInstance;
  /** http://host:port */
  url: string;
  /** Settles when the model is loaded (rejects with the load error). */
  ready: Promise<SearchService>;
  /** Stops accepting, lets in-flight requests finish, then releases the model. */
  close(): Promise<void>;
}

/** How long a graceful shutdown waits for in-flight requests. */
const SHUTDOWN_GRACE_MS = 30_000;

/** A search that ran past the per-request time limit. */
class SearchTimeoutError extends Error {}

const ASSETS = new URL('./assets/', import.meta.url);
const PAGE_FILES: Record<string, string> = { 'page.js': 'text/javascript; charset=utf-8', 'page.css': 'text/css; charset=utf-8' };

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

interface SearchBody {
  query: string;
  k?: number;
  beam?: number;
  mode?: SearchMode;
  lang?: string;
  trace?: boolean;
}

interface SearchQuerystring {
  q: string;
  k?: string;
  beam?: string;
  mode?: SearchMode;
  lang?: string;
}

/**
 * How busy the main thread (HTTP, validation, JSON, snippets, BM25; the beam searches too
 * without workers) was since the previous scrape: near 1, it is what limits the server.
 */
function eventLoopGauge(registers: Registry[]): Gauge {
  let previous = performance.eventLoopUtilization();
  return new Gauge({
    name: 'genir_event_loop_utilization',
    help: 'Fraction of the time since the previous scrape that the main thread was busy',
    registers,
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, previous).utilization);
      previous = now;
    },
  });
}

function metrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'genir_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'genir_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    latency: new Histogram({
      name: 'genir_http_request_duration_seconds',
      help: 'Time to answer a request, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({ name: 'genir_search_queue_depth', help: 'Searches waiting for a beam-search batch', registers }),
    running: new Gauge({
      name: 'genir_search_batches_running',
      help: 'Beam-search batches running now (at most one per search worker)',
      registers,
    }),
    eventLoop: eventLoopGauge(registers),
    workers: new Gauge({
      name: 'genir_search_workers',
      help: 'Threads that run beam-search batches: search workers (1 when searching on the main thread)',
      registers,
    }),
    batchSize: new Histogram({
      name: 'genir_search_batch_size',
      help: 'Queries per batched beam search',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    rejected: new Counter({
      name: 'genir_search_rejected_total',
      help: 'Searches answered 503, by reason',
      labelNames: ['reason'],
      registers,
    }),
  };
}

/** The server's view of its search service: undefined while it loads (or after it failed to). */
export interface ServiceState {
  service: SearchService | undefined;
  status: 'loading' | 'ok' | 'failed' | 'closing';
  /** Why loading failed. */
  error?: string;
}

/**
 * Builds the Fastify app around a service that may still be loading (`state.service` is
 * undefined until then); routes only, nothing listens yet.
 */
export async function buildApp(
  state: ServiceState,
  limitsGiven: Partial<ServeLimits> = {},
  metricSet = metrics(),
): Promise<FastifyInstance> {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...limitsGiven };
  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyBytes,
    // Slow or stalled uploads cannot hold a connection for ever.
    requestTimeout: 30_000,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, useDefaults: false } },
    schemaErrorFormatter: (errors, dataVar) => {
      const error = errors[0];
      const at = `${dataVar}${error.instancePath.replaceAll('/', '.')}`;
      if (error.keyword === 'additionalProperties') return new Error(`${at}: unknown field '${String(error.params.additionalProperty)}'`);
      if (error.keyword === 'required') return new Error(`${at}: missing field '${String(error.params.missingProperty)}'`);
      return new Error(`${at} ${error.message ?? 'is invalid'}`);
    },
  });
  app.addSchema(errorSchema);
  app.addSchema(searchResponseSchema);
  app.addSchema(documentResponseSchema);
  app.addSchema(healthResponseSchema);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'genir serve',
        version: genirVersion(),
        description: 'Generative retrieval (trie-constrained beam search over docids), BM25 and their fusion over one corpus.',
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metricSet.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metricSet.latency.observe({ route }, reply.elapsedTime / 1000);
    done();
  });

  // While shutting down, each answer closes its connection: a keep-alive client would otherwise
  // hold the process open until Fastify's keep-alive timeout (72 s).
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.status === 'closing') reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = error.validation !== undefined ? 400 : (error.statusCode ?? 500);
    if (error instanceof UserError) status = 400;
    if (status >= 500) process.stderr.write(`genir serve: error: ${error.stack ?? error.message}\n`);
    let message = status >= 500 && !(error instanceof UserError) ? 'internal error' : error.message;
    if (status === 415) message = `content-type '${request.headers['content-type'] ?? ''}' is not supported: send application/json`;
    return reply.code(status).send({ error: oneLine(message) });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  const errors = { 400: { $ref: 'Error#' }, 503: { $ref: 'Error#' } };

  async function answer(request: SearchRequest, reply: FastifyReply) {
    const service = state.service;
    if (service === undefined) {
      metricSet.rejected.inc({ reason: 'loading' });
      return reply
        .code(503)
        .header('Retry-After', '5')
        .send({ error: state.status === 'failed' ? `the model failed to load: ${state.error}` : 'the model is still loading' });
    }
    if (request.mode === 'genir' && request.k > request.beam) {
      return reply
        .code(400)
        .send({ error: `k (${request.k}) is larger than beam (${request.beam}): beam search keeps only beam hypotheses` });
    }
    const controller = new AbortController();
    // A client that went away no longer needs its search: it leaves the queue (a burst of
    // abandoned requests would otherwise keep the queue full long after its clients are gone).
    const abandoned = () => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.once('close', abandoned);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SearchTimeoutError(`the search took longer than ${limits.timeoutMs} ms`));
      }, limits.timeoutMs);
    });
    try {
      return await Promise.race([service.search(request, controller.signal), timeout]);
    } catch (err) {
      if (err instanceof QueueFullError) {
        metricSet.rejected.inc({ reason: 'queue_full' });
        return reply
          .code(503)
          .header('Retry-After', '1')
          .send({ error: `overloaded: ${err.message}; retry shortly` });
      }
      if (err instanceof SearchTimeoutError || err instanceof JobAbortedError) {
        metricSet.rejected.inc({ reason: 'timeout' });
        return reply
          .code(503)
          .header('Retry-After', '1')
          .send({ error: err instanceof SearchTimeoutError ? err.message : `the search took longer than ${limits.timeoutMs} ms` });
      }
      throw err;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', abandoned);
    }
  }

  app.post<{ Body: SearchBody }>(
    '/search',
    {
      schema: {
        summary: 'Rank documents for a query',
        body: searchBodySchema(limits),
        response: { 200: { $ref: 'SearchResponse#' }, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const beam = body.beam ?? DEFAULT_BEAM;
      return answer(
        {
          query: body.query,
          beam,
          k: body.k ?? Math.min(10, beam),
          mode: body.mode ?? 'genir',
          lang: body.lang,
          trace: body.trace ?? false,
        },
        reply,
      );
    },
  );

  app.get<{ Querystring: SearchQuerystring }>(
    '/search',
    {
      schema: {
        summary: 'Rank documents for a query (quick form)',
        querystring: searchQuerystringSchema(limits),
        response: { 200: { $ref: 'SearchResponse#' }, ...errors },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const count = (value: string | undefined, name: string, max: number): number | undefined => {
        if (value === undefined) return undefined;
        const n = Number(value);
        if (n < 1 || n > max) throw new UserError(`querystring.${name} must be between 1 and ${max}`);
        return n;
      };
      const beam = count(query.beam, 'beam', limits.maxBeam) ?? DEFAULT_BEAM;
      return answer(
        { query: query.q, beam, k: count(query.k, 'k', limits.maxK) ?? Math.min(10, beam), mode: query.mode ?? 'genir', lang: query.lang },
        reply,
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { lang?: string } }>(
    '/documents/:id',
    {
      schema: {
        summary: 'One document by its id',
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['id'] },
        querystring: { type: 'object', additionalProperties: false, properties: { lang: { type: 'string', pattern: '^[a-z]{2,3}$' } } },
        response: { 200: { $ref: 'Document#' }, 404: { $ref: 'Error#' }, 503: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      if (state.service === undefined) return reply.code(503).header('Retry-After', '5').send({ error: 'the model is still loading' });
      const doc = state.service.document(request.params.id, request.query.lang);
      if (doc === undefined) return reply.code(404).send({ error: `no document '${request.params.id}'` });
      return doc;
    },
  );

  app.get(
    '/health',
    {
      schema: {
        summary: 'Ready (200) once the model is loaded; 503 while loading',
        response: { 200: { $ref: 'Health#' }, 503: { $ref: 'Health#' } },
      },
    },
    async (_request, reply) => {
      const service = state.service;
      if (service === undefined || state.status !== 'ok')
        return reply.code(503).send({ status: state.status, ...(state.error === undefined ? {} : { error: state.error }) });
      const info = service.info();
      return {
        status: 'ok',
        model: info.model,
        docids: info.docids,
        documents: info.documents,
        languages: info.languages,
        text: info.text,
        queue_depth: service.queueDepth,
        limits: { max_query_chars: limits.maxQueryChars, max_k: limits.maxK, max_beam: limits.maxBeam },
      };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    metricSet.queueDepth.set(state.service?.queueDepth ?? 0);
    metricSet.running.set(state.service?.batchesRunning ?? 0);
    metricSet.workers.set(state.service?.searchThreads ?? 0);
    return reply.type(metricSet.registry.contentType).send(await metricSet.registry.metrics());
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const page = readFileSync(new URL('index.html', ASSETS), 'utf8');
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  const assets = new Map(Object.keys(PAGE_FILES).map((name) => [name, readFileSync(new URL(name, ASSETS), 'utf8')]));
  app.get<{ Params: { name: string } }>('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const body = assets.get(request.params.name);
    if (body === undefined) return reply.code(404).send({ error: `no asset '${request.params.name}'` });
    return reply.type(PAGE_FILES[request.params.name]).send(body);
  });

  return app;
}

/**
 * Starts listening, then loads the model; `ready` settles when it is loaded. The returned
 * `close` is what SIGTERM should call.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const state: ServiceState = { service: undefined, status: 'loading' };
  const metricSet = metrics();
  const app = await buildApp(state, options.limits, metricSet);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const ready = SearchService.open({
    ...options,
    batching: { ...DEFAULT_BATCHING, ...options.batching },
    onBatch: (size) => metricSet.batchSize.observe(size),
    onQueueDepth: (depth) => metricSet.queueDepth.set(depth),
    onRunning: (batches) => metricSet.running.set(batches),
  }).then(
    (service) => {
      state.service = service;
      state.status = 'ok';
      return service;
    },
    (err: unknown) => {
      state.status = 'failed';
      state.error = err instanceof Error ? err.message : String(err);
      throw err;
    },
  );
  // A load failure is reported through `ready`; this keeps it from also being an unhandled rejection.
  ready.catch(() => undefined);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      state.status = 'closing';
      // Queued searches run now: the HTTP close below waits for their answers, not for the window.
      state.service?.closeBatchWindow();
      // In-flight requests get this long to finish; then their connections are cut.
      const deadline = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await app.close();
      clearTimeout(deadline);
      const service = await ready.catch(() => undefined);
      await service?.close();
    })());
  return { app, url: `http://${host}:${address.port}`, ready, close };
}
