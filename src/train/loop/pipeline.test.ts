import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../util/errors.js';
import { cachedStage, claimOutput, PipelineRun, type Stage } from './pipeline.js';

function withFolder(body: (root: string) => Promise<void> | void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'genir-pipeline-'));
  return Promise.resolve(body(root)).finally(() => rmSync(root, { recursive: true, force: true }));
}

test('cachedStage computes once, reloads on the same inputs, recomputes on other inputs or a missing file', async () => {
  await withFolder(async (root) => {
    let computed = 0;
    const spec = (inputs: unknown) => ({
      name: 'vocabulary',
      dir: root,
      inputs,
      files: ['words.txt'],
      load: () => readFileSync(join(root, 'words.txt'), 'utf8'),
      compute: () => {
        computed += 1;
        writeFileSync(join(root, 'words.txt'), `run ${computed}`);
        return `run ${computed}`;
      },
    });
    assert.deepEqual(await cachedStage(spec({ vocab: 8000 })), { value: 'run 1', hit: false });
    assert.deepEqual(await cachedStage(spec({ vocab: 8000 })), { value: 'run 1', hit: true });
    assert.deepEqual(await cachedStage(spec({ vocab: 4000 })), { value: 'run 2', hit: false });
    rmSync(join(root, 'words.txt'));
    assert.deepEqual(await cachedStage(spec({ vocab: 4000 })), { value: 'run 3', hit: false });
  });
});

test('cachedStage records no key when the stage fails, so the next run computes it again', async () => {
  await withFolder(async (root) => {
    const failing = {
      name: 'docids',
      dir: root,
      inputs: 1,
      files: [],
      load: () => 'stale',
      compute: () => Promise.reject(new Error('killed')),
    };
    await assert.rejects(cachedStage(failing), /killed/);
    assert.equal(existsSync(join(root, 'docids.key')), false);
    assert.deepEqual(await cachedStage({ ...failing, compute: () => 'fresh' }), { value: 'fresh', hit: false });
  });
});

test('PipelineRun runs typed stages and adds up the seconds of each timed part, also of a part that throws', async () => {
  const lines: string[] = [];
  const run = new PipelineRun('test', (line) => lines.push(line));
  const double: Stage<number, number> = { name: 'double', run: (n, pipeline) => pipeline.time('math', () => n * 2) };
  assert.equal(await run.run(double, 21), 42);
  await run.run(double, 1);
  await assert.rejects(run.time('broken', () => Promise.reject(new Error('no'))));
  assert.deepEqual(Object.keys(run.timings).sort(), ['broken', 'math']);
  assert.ok(run.timings.math >= 0 && run.wallSeconds() >= run.timings.math);
});

test('claimOutput: a model directory needs --overwrite, a foreign folder is refused, an unfinished run is resumed, refused or discarded', async () => {
  await withFolder((root) => {
    const out = join(root, 'model');
    const work = `${out}.training`;
    const lines: string[] = [];
    const policy = { out, work, resumable: true, label: 'sft', log: (line: string) => lines.push(line) };
    claimOutput(policy); // nothing there yet
    mkdirSync(out);
    assert.throws(
      () => claimOutput(policy),
      (err: unknown) => err instanceof UserError && /model: exists and is not a genir model directory/.test(err.message),
    );
    writeFileSync(join(out, 'manifest.json'), '{}');
    assert.throws(
      () => claimOutput(policy),
      (err: unknown) => err instanceof UserError && /already holds a trained model; pass --overwrite/.test(err.message),
    );
    mkdirSync(work);
    claimOutput({ ...policy, resume: true });
    assert.ok(existsSync(work), '--resume keeps the unfinished run');
    rmSync(join(out, 'manifest.json'));
    rmSync(out, { recursive: true });
    assert.throws(
      () => claimOutput(policy),
      (err: unknown) =>
        err instanceof UserError && /holds an unfinished training run; pass --resume to continue it, or --overwrite/.test(err.message),
    );
    assert.throws(
      () => claimOutput({ ...policy, resume: true, resumable: false }),
      (err: unknown) => err instanceof UserError && /unfinished training run; remove it, or pass --overwrite/.test(err.message),
    );
    claimOutput({ ...policy, overwrite: true });
    assert.equal(existsSync(work), false);
    assert.deepEqual(lines, [`sft: discarding the unfinished run in ${work} (--overwrite)`]);
  });
});
