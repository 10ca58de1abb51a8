/**
 * Micro-batching: concurrent requests wait a few milliseconds so that one batched beam search
 * answers them together (a batch of 16 costs about 12 ms per query on the 2-core machine,
 * against 20 ms one at a time). The queue is bounded: past `maxQueue` waiting jobs, `submit`
 * refuses at once with QueueFullError, so overload becomes fast 503s instead of growing memory.
 * Up to `concurrency` batches run at once (one per search worker: docs/serving.md, "Search
 * workers"); the queue bound counts waiting jobs only, not those of running batches.
 */

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

/** A job given up (its request timed out or went away) before its batch started. */
export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError';
}

export interface MicroBatcherOptions {
  /** Jobs that may wait (not counting the running batch); more are refused. */
  maxQueue: number;
  /** How long the first job of a batch waits for company, in ms (0: no wait). */
  windowMs: number;
  /** Jobs per batch at most; a full batch starts without waiting out the window. */
  maxBatch: number;
  /** Batches that may run at once (default 1): one per search worker. */
  concurrency?: number;
  /** Called with each batch's size as it starts. */
  onBatch?: (size: number) => void;
  /** Called whenever the number of waiting jobs changes. */
  onQueueDepth?: (depth: number) => void;
  /** Called whenever the number of running batches changes. */
  onRunning?: (running: number) => void;
}

interface Waiting<Job, Result> {
  job: Job;
  key: string;
  resolve: (result: Result) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class MicroBatcher<Job, Result> {
  private readonly waiting: Waiting<Job, Result>[] = [];
  /** Batches running now. */
  private running = 0;
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  /** Set by closeWindow: shutting down, so no job waits for others to join its batch. */
  private windowClosed = false;

  /**
   * `run` answers a batch, one result per job in order; jobs with different `keyOf` (beam
   * width, say) never share a batch.
   */
  constructor(
    private readonly run: (jobs: Job[]) => Promise<Result[]>,
    private readonly keyOf: (job: Job) => string,
    private readonly options: MicroBatcherOptions,
  ) {
    this.concurrency = options.concurrency ?? 1;
    for (const [name, value] of [
      ['maxQueue', options.maxQueue],
      ['maxBatch', options.maxBatch],
      ['concurrency', this.concurrency],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`MicroBatcher: ${name} must be a positive integer, got ${value}`);
    }
    if (!(options.windowMs >= 0)) throw new RangeError(`MicroBatcher: windowMs must be ≥ 0, got ${options.windowMs}`);
  }

  /** Jobs waiting for a batch. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Whether a batch is running now. */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Queues a job; the promise settles with its result. Throws QueueFullError at once when the
   * queue is full. An abort before the job's batch starts removes it (JobAbortedError); after,
   * the batch finishes and the result is dropped by the caller.
   */
  submit(job: Job, signal?: AbortSignal): Promise<Result> {
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new QueueFullError(`the search queue is full (${this.options.maxQueue} waiting)`));
    }
    if (signal?.aborted) return Promise.reject(new JobAbortedError('aborted before it was queued'));
    return new Promise<Result>((resolve, reject) => {
      const entry: Waiting<Job, Result> = { job, key: this.keyOf(job), resolve, reject, signal };
      if (signal !== undefined) {
        entry.onAbort = () => {
          const at = this.waiting.indexOf(entry);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          this.options.onQueueDepth?.(this.waiting.length);
          reject(new JobAbortedError('aborted while queued'));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.waiting.push(entry);
      this.options.onQueueDepth?.(this.waiting.length);
      this.schedule();
    });
  }

  /** Resolves once no job waits and no batch runs. */
  drained(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * From now on no job waits out the gather window, and those waiting start as soon as a batch
   * slot is free. Shutdown calls this, so that `drained()` does not also wait for the window.
   */
  closeWindow(): void {
    this.windowClosed = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    if (this.options.windowMs === 0 || this.windowClosed || this.headBatchFull()) {
      this.clearTimer();
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.windowMs);
    }
  }

  /** Whether the oldest job's kind has a whole batch waiting. */
  private headBatchFull(): boolean {
    const key = this.waiting[0].key;
    let count = 0;
    for (const entry of this.waiting) if (entry.key === key && ++count >= this.options.maxBatch) return true;
    return false;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    this.clearTimer();
    this.running++;
    this.options.onRunning?.(this.running);
    // The oldest job's kind goes first; later jobs of that kind join it, the others keep their places.
    const key = this.waiting[0].key;
    const batch: Waiting<Job, Result>[] = [];
    for (let i = 0; i < this.waiting.length && batch.length < this.options.maxBatch;) {
      if (this.waiting[i].key === key) batch.push(...this.waiting.splice(i, 1));
      else i++;
    }
    for (const entry of batch) if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    this.options.onQueueDepth?.(this.waiting.length);
    this.options.onBatch?.(batch.length);
    // Jobs left over (another kind, or more than a batch) go to a free worker under the usual rules.
    this.schedule();
    try {
      const results = await this.run(batch.map((entry) => entry.job));
      if (results.length !== batch.length) throw new Error(`MicroBatcher: ${results.length} results for ${batch.length} jobs`);
      batch.forEach((entry, i) => entry.resolve(results[i]));
    } catch (err) {
      for (const entry of batch) entry.reject(err);
    } finally {
      this.running--;
      this.options.onRunning?.(this.running);
      if (this.waiting.length > 0) {
        // Jobs that arrived during the batch have waited long enough: no window for them.
        setImmediate(() => void this.flush());
      } else if (this.running === 0) {
        for (const resolve of this.idle.splice(0)) resolve();
      }
    }
  }
}
