import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, type TrainableModel, type TrainingData } from './trainer.js';
import { bucketBatches } from './batching.js';
import { cosineSchedule } from '../../engine/optim/schedule.js';
import type { Parameter } from '../../engine/optim/types.js';
import { Rng } from '../../util/random.js';
import { UserError } from '../../util/errors.js';

/**
 * A linear model y = W x with input dropout, gradients by hand: enough to exercise every
 * piece of state the loop must restore (parameters, AdamW moments, data position, the
 * dropout-seed RNG) without the ONNX engine.
 */
const IN = 4;
const OUT = 2;
const xs = Array.from({ length: 21 }, (_, i) => Array.from({ length: IN }, (_, j) => Math.sin(i * 1.3 + j)));
const ys = xs.map((x) => [x[0] - 2 * x[1] + 0.5, x[2] * 0.3 + x[3]]);

function linearModel(): TrainableModel<number[]> {
  const weight: Parameter = { name: 'w', shape: [OUT, IN], data: new Float32Array(OUT * IN).fill(0.1) };
  const bias: Parameter = { name: 'b', shape: [OUT], data: new Float32Array(OUT) };
  return {
    parameters: [weight, bias],
    async lossAndGradients(batch, dropoutSeed) {
      const rng = new Rng(dropoutSeed);
      const gw = new Float32Array(OUT * IN);
      const gb = new Float32Array(OUT);
      let loss = 0;
      for (const index of batch) {
        const x = xs[index].map((v) => (rng.next() < 0.2 ? 0 : v / 0.8));
        for (let o = 0; o < OUT; o++) {
          let y = bias.data[o];
          for (let i = 0; i < IN; i++) y += weight.data[o * IN + i] * x[i];
          const err = y - ys[index][o];
          loss += (err * err) / batch.length;
          gb[o] += (2 * err) / batch.length;
          for (let i = 0; i < IN; i++) gw[o * IN + i] += (2 * err * x[i]) / batch.length;
        }
      }
      return {
        loss,
        gradients: new Map([
          ['w', gw],
          ['b', gb],
        ]),
      };
    },
  };
}

const data: TrainingData<number[], number[]> = {
  plan: (epoch) =>
    bucketBatches(
      xs.map((_, i) => i % 3),
      epoch,
      { batchSize: 4, seed: 11 },
    ),
  materialize: (plan) => plan,
  examples: (batch) => batch.length,
  weight: (batch) => batch.length,
};

function options(runDir: string, model: TrainableModel<number[]>) {
  return {
    model,
    data,
    totalUpdates: 14,
    accumulationSteps: 2,
    schedule: cosineSchedule({ peak: 0.2, warmupSteps: 3, totalSteps: 14 }),
    seed: 3,
    runDir,
    checkpointEvery: 4,
    progress: false,
  };
}

test('train: a crashed run resumed from its checkpoint ends bit-identical to an unbroken run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-train-'));
  try {
    const whole = linearModel();
    const unbroken = await train(options(join(root, 'a'), whole));
    assert.equal(unbroken.update, 14);
    assert.ok(unbroken.records[13].loss < unbroken.records[0].loss / 2, 'the toy model learns');

    const crashing = linearModel();
    await assert.rejects(
      train({
        ...options(join(root, 'b'), crashing),
        onUpdate: (record) => {
          if (record.update === 10) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    // The last checkpoint is update 8; rows 9 and 10 were logged after it.
    assert.equal(
      readFileSync(join(root, 'b', 'loss.csv'), 'utf8')
        .trim()
        .split('\n').length,
      11,
    );
    const resumedModel = linearModel();
    const resumed = await train({ ...options(join(root, 'b'), resumedModel), resume: true });
    assert.equal(resumed.resumedFrom, 8);
    assert.deepEqual(
      resumed.records.map((r) => r.loss),
      unbroken.records.map((r) => r.loss),
    );
    assert.deepEqual(
      resumed.records.map((r) => r.gradNorm),
      unbroken.records.map((r) => r.gradNorm),
    );
    for (let p = 0; p < 2; p++) assert.deepEqual(resumedModel.parameters[p].data, whole.parameters[p].data);
    assert.ok(existsSync(join(root, 'b', 'loss.svg')));
    assert.ok(existsSync(join(root, 'b', 'checkpoints', 'step-00000014', 'optimizer.safetensors')));
    assert.ok(!existsSync(join(root, 'b', 'checkpoints', 'step-00000004')), 'only the last two checkpoints are kept');
    // Starting over in a used directory without resume is refused.
    await assert.rejects(
      train(options(join(root, 'b'), linearModel())),
      (err: unknown) => err instanceof UserError && /already holds a training run/.test(err.message),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
