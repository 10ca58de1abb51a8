import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { warn } from '../util/errors.js';
import { startModuleWorker } from '../util/worker.js';
import { termFrontiers, type TermFrontiers } from './bounds.js';
import { Bm25Searcher, type PruningMode } from './searcher.js';
import type { Bm25Params, IndexData, SearchHits, SearchQuery } from './types.js';

/** The part of an index a search worker needs; its typed arrays are shared, not copied. */
export interface WorkerIndex {
  analyzer: IndexData['analyzer'];
  fieldMode: IndexData['fieldMode'];
  docCount: number;
  docIdOrder: Uint32Array;
  terms: readonly string[];
  fields: IndexData['fields'];
  /** Each field's term frontiers (bounds.ts), computed once here rather than in every worker; absent without pruning. */
  frontiers?: TermFrontiers[];
}

export interface WorkerInit {
  index: WorkerIndex;
  params: Partial<Bm25Params>;
  pruning?: PruningMode;
}

export interface BatchRequest {
  batch: number;
  queries: SearchQuery[];
  k: number;
}

/** Hits of a batch, concatenated: query i's hits are [offsets[i], offsets[i+1]). */
export interface BatchReply {
  batch: number;
  offsets: Uint32Array;
  docs: Uint32Array;
  scores: Float32Array;
  error?: string;
}

function isShared(array: ArrayBufferView): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

/** Shares an index's arrays with workers (copying into SharedArrayBuffers any that are not already). */
function workerIndexOf(data: IndexData, pruning: PruningMode): WorkerIndex {
  const share = <T extends Uint8Array | Uint16Array | Uint32Array>(array: T): T => {
    if (isShared(array)) return array;
    const ctor = array.constructor as new (buffer: SharedArrayBuffer) => T;
    const copy = new ctor(new SharedArrayBuffer(array.byteLength));
    copy.set(array);
    return copy;
  };
  return {
    analyzer: data.analyzer,
    fieldMode: data.fieldMode,
    docCount: data.docIds.length,
    docIdOrder: share(data.docIdOrder),
    terms: data.terms,
    fields: data.fields.map((field) => ({
      ...field,
      offsets: share(field.offsets),
      docs: share(field.docs),
      freqs: share(field.freqs),
      norms: share(field.norms),
    })),
    ...(pruning === 'exhaustive' ? {} : { frontiers: data.fields.map(termFrontiers) }),
  };
}

/** Starts a search worker (search-worker.ts). */
function startWorker(init: WorkerInit): Worker {
  return startModuleWorker(import.meta.url, 'search-worker', init);
}

interface PendingBatch {
  resolve: (reply: BatchReply) => void;
  reject: (err: Error) => void;
}

/**
 * Worker threads that search one shared index in parallel. Start once, run many batches,
 * close. The index's typed arrays live in SharedArrayBuffers, so each worker reads the
 * same memory; each worker only rebuilds the term → id map.
 */
export class SearchPool {
  private readonly pending = new Map<number, PendingBatch>();
  private nextBatch = 0;
  private closed = false;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: BatchReply) => {
        const waiting = this.pending.get(reply.batch);
        if (waiting === undefined) return;
        this.pending.delete(reply.batch);
        if (reply.error !== undefined) waiting.reject(new Error(reply.error));
        else waiting.resolve(reply);
      });
      worker.on('error', (err) => {
        for (const waiting of this.pending.values()) waiting.reject(err);
        this.pending.clear();
      });
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** `options.pruning` is each worker searcher's (default `auto`; see Bm25Searcher). */
  static async start(
    data: IndexData,
    params: Partial<Bm25Params> = {},
    threads = availableParallelism(),
    options: { pruning?: PruningMode } = {},
  ): Promise<SearchPool> {
    const pruning = options.pruning ?? 'auto';
    const init: WorkerInit = { index: workerIndexOf(data, pruning), params, pruning };
    const count = Math.max(1, Math.floor(threads));
    const workers = Array.from({ length: count }, () => startWorker(init));
    // A worker reports 'ready' once its vocabulary is built, so timing a batch excludes start-up.
    const ready = Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (message: unknown) => {
              if (message === 'ready') {
                worker.off('message', onMessage);
                worker.off('error', reject);
                resolve();
              }
            };
            worker.on('message', onMessage);
            worker.once('error', reject);
            // Settling twice is a no-op, so this only matters for a worker that dies before 'ready'.
            worker.once('exit', (code) => reject(new Error(`search worker exited with code ${code} before it was ready`)));
          }),
      ),
    );
    try {
      await ready;
    } catch (err) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw err;
    }
    return new SearchPool(workers);
  }

  /** Top-k hits for every query, in query order. */
  async search(queries: readonly SearchQuery[], k = 1000): Promise<SearchHits[]> {
    const results = new Array<SearchHits>(queries.length);
    await this.searchEach(queries, k, (index, hits) => (results[index] = hits));
    return results;
  }

  /**
   * Searches every query and hands each one's hits to `onHits` (query index, hits) as soon as
   * its batch comes back, in no fixed order: whatever the caller does with them (building run
   * entries) runs on this thread while the workers search the next batches, instead of after
   * the last one. An exception from `onHits` rejects the returned promise.
   */
  async searchEach(queries: readonly SearchQuery[], k: number, onHits: (queryIndex: number, hits: SearchHits) => void): Promise<void> {
    if (this.closed) throw new Error('SearchPool is closed');
    // Small batches keep both threads busy to the end; each costs one message round trip.
    const batchSize = Math.max(1, Math.min(128, Math.ceil(queries.length / (this.workers.length * 8))));
    let next = 0;
    const runWorker = async (worker: Worker): Promise<void> => {
      while (next < queries.length) {
        const start = next;
        const end = Math.min(queries.length, start + batchSize);
        next = end;
        const batch = this.nextBatch++;
        const reply = await new Promise<BatchReply>((resolve, reject) => {
          this.pending.set(batch, { resolve, reject });
          const request: BatchRequest = { batch, queries: queries.slice(start, end), k };
          worker.postMessage(request);
        });
        for (let i = 0; i < end - start; i++) {
          const from = reply.offsets[i];
          const to = reply.offsets[i + 1];
          onHits(start + i, { docs: reply.docs.subarray(from, to), scores: reply.scores.subarray(from, to) });
        }
      }
    };
    await Promise.all(this.workers.map(runWorker));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** A worker's hit buffers, reused from batch to batch and grown on demand. */
export interface BatchScratch {
  docs: Uint32Array;
  scores: Float32Array;
}

/**
 * Runs one batch request on a searcher (used by the worker, and testable in-thread): every
 * query's hits go straight into the scratch buffers, which are copied once into the reply.
 */
export function answerBatch(searcher: Bm25Searcher, request: BatchRequest, scratch: BatchScratch): BatchReply {
  const queries = request.queries;
  const room = Math.min(request.k, searcher.data.docIds.length);
  const offsets = new Uint32Array(queries.length + 1);
  let filled = 0;
  for (let i = 0; i < queries.length; i++) {
    if (filled + room > scratch.docs.length) {
      const capacity = Math.max(filled + room, 2 * scratch.docs.length);
      const docs = new Uint32Array(capacity);
      const scores = new Float32Array(capacity);
      docs.set(scratch.docs.subarray(0, filled));
      scores.set(scratch.scores.subarray(0, filled));
      scratch.docs = docs;
      scratch.scores = scores;
    }
    filled += searcher.searchInto(queries[i], request.k, scratch.docs, scratch.scores, filled);
    offsets[i + 1] = filled;
  }
  return { batch: request.batch, offsets, docs: scratch.docs.slice(0, filled), scores: scratch.scores.slice(0, filled) };
}

export interface SearchBatchOptions {
  params?: Partial<Bm25Params>;
  /** Upper bound on worker threads (default: every core); 1 keeps the search on this thread. */
  threads?: number;
  /**
   * Start worker threads once the work left, projected from the queries searched so far,
   * exceeds this many milliseconds on this thread (default 500; 2000 when running from the
   * TypeScript sources, where each worker first loads tsx). Starting workers costs a few
   * hundred milliseconds, so small batches are faster on one thread.
   */
  parallelAfterMs?: number;
}

/**
 * Searches a batch of queries. The search starts on this thread; when the projected time
 * of the rest exceeds `parallelAfterMs`, worker threads are started in the background and,
 * once ready, take over the remaining queries. Results are identical either way.
 */
export async function searchBatch(
  data: IndexData,
  queries: readonly SearchQuery[],
  k = 1000,
  options: SearchBatchOptions = {},
): Promise<SearchHits[]> {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const thresholdMs = options.parallelAfterMs ?? (import.meta.url.endsWith('.ts') ? 2000 : 500);
  const searcher = new Bm25Searcher(data, options.params);
  const results = new Array<SearchHits>(queries.length);
  const slice = 16;
  const started = performance.now();
  let next = 0;
  let starting: Promise<SearchPool | undefined> | undefined;
  let pool: SearchPool | undefined;
  try {
    while (next < queries.length) {
      const end = Math.min(queries.length, next + slice);
      for (; next < end; next++) results[next] = searcher.search(queries[next], k);
      if (next === queries.length) break;
      if (threads > 1 && starting === undefined) {
        const projectedMs = ((performance.now() - started) / next) * (queries.length - next);
        if (projectedMs > thresholdMs) {
          starting = SearchPool.start(data, options.params, threads).then(
            (ready) => (pool = ready),
            (err: unknown) => {
              warn(`BM25 search workers did not start (${err instanceof Error ? err.message : String(err)}); searching on one thread`);
              return undefined;
            },
          );
        }
      }
      if (starting !== undefined) {
        // Let the workers' "ready" messages in between slices.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (pool !== undefined) break;
      }
    }
    if (next < queries.length && pool !== undefined) {
      const rest = await pool.search(queries.slice(next), k);
      for (let i = 0; i < rest.length; i++) results[next + i] = rest[i];
    }
  } finally {
    const startedPool = await starting;
    await startedPool?.close();
  }
  return results;
}
