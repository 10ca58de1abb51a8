/**
 * Search workers: `genir serve --workers n` runs constrained beam search on n worker threads,
 * each with its own ONNX sessions (threads split between them) and its own copy of the docid
 * trie, so n batches run at once. Each batch's JavaScript (trie walks, top-k heaps, feeds) runs
 * beside the other batches' ONNX compute, and the main thread keeps only HTTP, JSON, snippets
 * and BM25. The micro-batcher sends at most one batch to a worker at a time.
 */
import type { Worker } from 'node:worker_threads';
import type { WeightQuantization } from '../model/t5-graph.js';
import type { BeamTraceStep } from '../search/beam.js';
import type { SearchHit } from '../search/searcher.js';
import { startModuleWorker } from '../util/worker.js';

/** What a worker opens (genir-worker.ts). */
export interface GenirWorkerInit {
  model: string;
  /** ONNX Runtime intra-op threads of this worker's sessions. */
  threads: number;
  quantize?: WeightQuantization;
}

export interface GenirBatchRequest {
  id: number;
  texts: string[];
  beam: number;
  k: number;
  /** Per text: whether to record the beam's steps. */
  trace: boolean[];
}

export type GenirWorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'batch'; id: number; hits: SearchHit[][]; traces: (BeamTraceStep[] | undefined)[] }
  | { type: 'batch-failed'; id: number; error: string };

export interface GenirBatch {
  texts: string[];
  beam: number;
  k: number;
  trace: boolean[];
}

export interface GenirBatchResult {
  hits: SearchHit[][];
  traces: (BeamTraceStep[] | undefined)[];
}

interface Pending {
  resolve: (result: GenirBatchResult) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the batch it runs, if any. */
class Slot {
  readonly pending = new Map<number, Pending>();
  /** Settles once the worker has opened the model (rejects if it could not). */
  readonly ready: Promise<void>;
  exited = false;
  /** Whether the worker opened the model (one that never did is not started again). */
  opened = false;

  constructor(
    readonly worker: Worker,
    private readonly onExit: (slot: Slot, code: number) => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: GenirWorkerMessage) => {
        if (message.type === 'ready') {
          this.opened = true;
          resolve();
        } else if (message.type === 'failed') reject(new Error(message.error));
        else this.settle(message);
      });
      worker.on('error', (err) => {
        reject(err);
        this.failAll(err);
      });
      worker.once('exit', (code) => {
        this.exited = true;
        const err = new Error(`search worker exited with code ${code}`);
        reject(err);
        this.failAll(err);
        this.onExit(this, code);
      });
    });
    // A start failure is reported by `start`; a later one by the batch that waits on it.
    this.ready.catch(() => undefined);
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  private settle(message: Extract<GenirWorkerMessage, { id: number }>): void {
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    if (message.type === 'batch-failed') waiting.reject(new Error(message.error));
    else waiting.resolve({ hits: message.hits, traces: message.traces });
  }

  private failAll(err: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(err);
    this.pending.clear();
  }
}

export class GenirWorkers {
  private readonly slots: Slot[];
  private nextId = 0;
  private closing = false;

  private constructor(
    count: number,
    private readonly init: GenirWorkerInit,
  ) {
    this.slots = Array.from({ length: count }, () => this.startSlot());
  }

  /** `count` workers, each with the model open; rejects (and stops them all) if one cannot open it. */
  static async start(count: number, init: GenirWorkerInit): Promise<GenirWorkers> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`GenirWorkers: count must be a positive integer, got ${count}`);
    const workers = new GenirWorkers(count, init);
    try {
      await Promise.all(workers.slots.map((slot) => slot.ready));
    } catch (err) {
      await workers.close();
      throw err;
    }
    return workers;
  }

  get count(): number {
    return this.slots.length;
  }

  private startSlot(): Slot {
    return new Slot(startModuleWorker(import.meta.url, 'genir-worker', this.init), (slot, code) => {
      // A worker that died after opening the model (out of memory, a native crash) is replaced;
      // its batch has failed. One that could not open it would only fail again.
      if (this.closing || !slot.opened) return;
      process.stderr.write(`genir serve: a search worker exited with code ${code}; starting another\n`);
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots[at] = this.startSlot();
    });
  }

  /**
   * Runs one batch on an idle worker. The caller (the micro-batcher, with `concurrency` equal to
   * the worker count) never has more batches in flight than workers.
   */
  async run(batch: GenirBatch): Promise<GenirBatchResult> {
    if (this.closing) throw new Error('GenirWorkers: closed');
    const slot = this.slots.find((s) => !s.busy && !s.exited) ?? this.slots.find((s) => !s.busy);
    if (slot === undefined) throw new Error(`GenirWorkers: all ${this.slots.length} workers are busy`);
    const id = this.nextId++;
    const result = new Promise<GenirBatchResult>((resolve, reject) => slot.pending.set(id, { resolve, reject }));
    try {
      await slot.ready;
    } catch (err) {
      slot.pending.delete(id);
      throw err;
    }
    const request: GenirBatchRequest = { id, ...batch };
    slot.worker.postMessage(request);
    return result;
  }

  /** Stops every worker (after their running batches, which the caller has waited for). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.exited) return;
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        // The worker releases its ONNX sessions and closes its port, which ends the thread.
        slot.worker.postMessage('close');
        await exited;
      }),
    );
  }
}
