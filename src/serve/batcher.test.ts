import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobAbortedError, MicroBatcher, QueueFullError } from './batcher.js';

interface Job {
  value: number;
  kind: string;
}

function recorder(delayMs = 0) {
  const batches: number[][] = [];
  const run = async (jobs: Job[]) => {
    batches.push(jobs.map((j) => j.value));
    if (delayMs > 0) await sleep(delayMs);
    return jobs.map((j) => j.value * 10);
  };
  return { batches, run };
}

test('concurrent jobs within the window share one batch; each gets its own result', async () => {
  const { batches, run } = recorder();
  const sizes: number[] = [];
  const batcher = new MicroBatcher(run, (j: Job) => j.kind, { maxQueue: 100, windowMs: 20, maxBatch: 16, onBatch: (n) => sizes.push(n) });
  const results = await Promise.all([1, 2, 3, 4, 5].map((value) => batcher.submit({ value, kind: 'a' })));
  assert.deepEqual(results, [10, 20, 30, 40, 50]);
  assert.deepEqual(batches, [[1, 2, 3, 4, 5]]);
  assert.deepEqual(sizes, [5]);
});

test('a full batch starts at once; jobs of another kind wait for their own batch, in order', async () => {
  const { batches, run } = recorder(5);
  const batcher = new MicroBatcher(run, (j: Job) => j.kind, { maxQueue: 100, windowMs: 10_000, maxBatch: 3 });
  const jobs = [
    { value: 1, kind: 'a' },
    { value: 2, kind: 'b' },
    { value: 3, kind: 'a' },
    { value: 4, kind: 'a' },
    { value: 5, kind: 'b' },
    { value: 6, kind: 'a' },
  ];
  const started = Date.now();
  const results = await Promise.all(jobs.map((job) => batcher.submit(job)));
  // A 10 s window never ran out: full batches and the backlog after each batch start at once.
  assert.ok(Date.now() - started < 5_000);
  assert.deepEqual(results, [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(batches, [[1, 3, 4], [2, 5], [6]]);
});

test('closeWindow starts waiting jobs at once, one batch per kind on free slots, and later jobs do not wait either', async () => {
  const { batches, run } = recorder(5);
  const batcher = new MicroBatcher(run, (j: Job) => j.kind, { maxQueue: 100, windowMs: 60_000, maxBatch: 8, concurrency: 2 });
  const queued = [1, 2, 3, 4].map((value) => batcher.submit({ value, kind: value % 2 === 0 ? 'a' : 'b' }));
  await sleep(20);
  // Nothing is full and the minute-long window is open: all four still wait.
  assert.deepEqual([batcher.depth, batcher.inFlight, batches.length], [4, 0, 0]);
  const started = Date.now();
  batcher.closeWindow();
  assert.equal(batcher.inFlight, 2, 'both kinds start together on the two slots');
  assert.deepEqual(await Promise.all(queued), [10, 20, 30, 40]);
  assert.deepEqual(await batcher.submit({ value: 5, kind: 'a' }), 50);
  await batcher.drained();
  assert.ok(Date.now() - started < 5_000);
  assert.deepEqual(batches, [[2, 4], [1, 3], [5]]);
});

test('past maxQueue waiting jobs, submit refuses at once with QueueFullError; the queued ones still finish', async () => {
  const { run } = recorder(30);
  const depths: number[] = [];
  const batcher = new MicroBatcher(run, () => 'a', { maxQueue: 2, windowMs: 0, maxBatch: 1, onQueueDepth: (d) => depths.push(d) });
  const first = batcher.submit({ value: 1, kind: 'a' }); // starts running at once
  const queued = [batcher.submit({ value: 2, kind: 'a' }), batcher.submit({ value: 3, kind: 'a' })];
  await assert.rejects(batcher.submit({ value: 4, kind: 'a' }), QueueFullError);
  assert.equal(batcher.depth, 2);
  assert.deepEqual(await Promise.all([first, ...queued]), [10, 20, 30]);
  await batcher.drained();
  assert.equal(Math.max(...depths), 2);
  assert.equal(depths[depths.length - 1], 0);
});

test('an aborted job leaves the queue before its batch; a failing batch rejects its own jobs only', async () => {
  let calls = 0;
  const batcher = new MicroBatcher(
    async (jobs: Job[]) => {
      calls++;
      await sleep(20);
      if (jobs.some((j) => j.value < 0)) throw new Error('bad batch');
      return jobs.map((j) => j.value);
    },
    (j: Job) => j.kind,
    { maxQueue: 10, windowMs: 0, maxBatch: 1 },
  );
  const running = batcher.submit({ value: -1, kind: 'a' });
  const controller = new AbortController();
  const abandoned = batcher.submit({ value: 2, kind: 'a' }, controller.signal);
  const kept = batcher.submit({ value: 3, kind: 'a' });
  controller.abort();
  await assert.rejects(abandoned, JobAbortedError);
  await assert.rejects(running, /bad batch/);
  assert.equal(await kept, 3);
  assert.equal(calls, 2, 'the aborted job never ran');
});

test('concurrency 2: two batches run at once and never more; leftover jobs start on the free one; drained waits for both', async () => {
  let running = 0;
  let most = 0;
  const batches: number[][] = [];
  const batcher = new MicroBatcher(
    async (jobs: Job[]) => {
      running++;
      most = Math.max(most, running);
      batches.push(jobs.map((j) => j.value));
      await sleep(30);
      running--;
      return jobs.map((j) => j.value * 10);
    },
    (j: Job) => j.kind,
    { maxQueue: 100, windowMs: 10_000, maxBatch: 2, concurrency: 2 },
  );
  assert.throws(
    () =>
      new MicroBatcher(
        async () => [],
        () => 'a',
        { maxQueue: 1, windowMs: 0, maxBatch: 1, concurrency: 0 },
      ),
    /concurrency/,
  );
  const started = Date.now();
  const results = Promise.all([1, 2, 3, 4, 5, 6].map((value) => batcher.submit({ value, kind: 'a' })));
  // Two full batches start at once, without waiting out the 10 s window.
  await sleep(10);
  // Read through a function: an assertion on the getter would narrow its type for the later ones.
  const inFlight = () => batcher.inFlight;
  assert.equal(inFlight(), 2);
  assert.equal(batcher.depth, 2);
  let drained = false;
  const idle = batcher.drained().then(() => (drained = true));
  assert.deepEqual(await results, [10, 20, 30, 40, 50, 60]);
  await idle;
  assert.ok(drained);
  assert.equal(inFlight(), 0);
  assert.ok(Date.now() - started < 5_000);
  assert.deepEqual(batches, [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.equal(most, 2);
});
