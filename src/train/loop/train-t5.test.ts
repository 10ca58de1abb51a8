import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { t5Config } from '../../model/config.js';
import { T5Model } from '../../model/t5.js';
import { linearSchedule } from '../../engine/optim/schedule.js';
import { copyReverseExamples, seq2seqTrainingData } from './seq2seq-data.js';
import { train } from './trainer.js';
import { RESUME_CHECKPOINT_EVERY, RESUME_TOTAL_UPDATES, resumeRun } from './testdata/resume-run.js';

test('a tiny T5 learns the copy/reverse task to >= 99% exact match with greedy decoding', async () => {
  const started = Date.now();
  const runDir = mkdtempSync(join(tmpdir(), 'genir-toy-'));
  const config = t5Config('tiny', { vocabSize: 14, dropoutRate: 0 });
  const model = T5Model.create(config, 1, { threads: 2 });
  try {
    const examples = copyReverseExamples(20000, 1);
    await train({
      model,
      // Random (un-bucketed) batches: every update sees all lengths, which trains faster here.
      data: seq2seqTrainingData(examples, { batchSize: 64, seed: 5, poolBatches: 1, padId: 0, eosId: 1, decoderStartId: 0 }),
      totalUpdates: 1000,
      schedule: linearSchedule({ peak: 4e-3, warmupSteps: 30, totalSteps: 1000 }),
      seed: 1,
      runDir,
      progress: false,
    });
    const held = copyReverseExamples(500, 777);
    const decoded = await model.greedyDecode(
      held.map((e) => e.source),
      12,
    );
    const exact = decoded.filter((out, i) => out.length === held[i].target.length && out.every((t, j) => t === held[i].target[j])).length;
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`copy/reverse: ${exact}/${held.length} exact after 1000 updates in ${seconds.toFixed(1)} s\n`);
    assert.ok(exact / held.length >= 0.99, `exact match ${exact}/${held.length}`);
    assert.ok(existsSync(join(runDir, 'loss.svg')));
  } finally {
    await model.release();
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('a T5 run killed between checkpoints and resumed ends with bit-identical losses and weights', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-resume-'));
  try {
    const unbroken = await resumeRun(join(root, 'unbroken'), false);
    await unbroken.model.release();

    // Kill a child process running the same training once it is past its second checkpoint.
    const killedDir = join(root, 'killed');
    const testFile = fileURLToPath(import.meta.url);
    const script = join(testFile, '..', 'testdata', testFile.endsWith('.ts') ? 'resume-run.ts' : 'resume-run.js');
    const child = spawn(process.execPath, [...process.execArgv, script, killedDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const target = 2 * RESUME_CHECKPOINT_EVERY + 2;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const csv = join(killedDir, 'loss.csv');
        const rows = existsSync(csv) ? readFileSync(csv, 'utf8').trim().split('\n').length - 1 : 0;
        if (rows >= target) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`child exited (${code}) before it could be killed`));
      });
    });
    await new Promise((resolve) => child.once('exit', resolve).once('close', resolve));

    const resumed = await resumeRun(killedDir, true);
    await resumed.model.release();
    assert.ok(resumed.result.resumedFrom !== undefined && resumed.result.resumedFrom >= 2 * RESUME_CHECKPOINT_EVERY);
    assert.equal(resumed.result.update, RESUME_TOTAL_UPDATES);
    assert.deepEqual(
      resumed.result.records.map((r) => r.loss),
      unbroken.result.records.map((r) => r.loss),
    );
    for (let i = 0; i < unbroken.model.parameters.length; i++) {
      assert.deepEqual(resumed.model.parameters[i].data, unbroken.model.parameters[i].data, unbroken.model.parameters[i].name);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
