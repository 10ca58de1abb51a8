/**
 * The training loop: micro-batches in a seeded, epoch-wise order, gradient accumulation,
 * global-norm clipping, AdamW with a learning-rate schedule, a progress bar, the loss
 * curve (CSV + SVG), periodic checkpoints, and `resume` that continues bit-for-bit: the
 * data position, the dropout-seed RNG, the optimizer moments and the parameters are all
 * restored, and every random choice is a function of them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, type AdamWOptions } from '../../engine/optim/adamw.js';
import { GradientAccumulator } from '../../engine/optim/accumulate.js';
import { clipFactor, globalGradNorm } from '../../engine/optim/clip.js';
import type { Schedule } from '../../engine/optim/schedule.js';
import type { Gradients } from '../../engine/optim/types.js';
import { UserError, warn } from '../../util/errors.js';
import { progressBar } from '../../util/progress.js';
import { Rng } from '../../util/random.js';
import { sweepStaleTemporaries } from '../../util/temporaries.js';
import { checkpointsDir, hasCheckpoint, loadLatestCheckpoint, saveTrainingCheckpoint, type TrainerState } from './checkpoints.js';
import { LossLog, type LossRecord } from './loss-log.js';
import type { TrainableModel } from '../../engine/optim/trainable.js';

// What the loop trains is declared beside the optimizer, so models implement it without importing the loop.
export type { LossAndGradients, TrainableModel } from '../../engine/optim/trainable.js';

/**
 * The data, as plans (cheap descriptions, e.g. example indices) per epoch, materialised one
 * at a time. `plan(epoch)` must be a pure function of the epoch (seeded), so a resumed run
 * rebuilds the same order.
 */
export interface TrainingData<Plan, Batch> {
  plan(epoch: number): readonly Plan[];
  materialize(plan: Plan): Batch;
  /** Examples in a batch, for examples/s. */
  examples(batch: Batch): number;
  /** Weight of a micro-batch when accumulating (default 1); use target tokens for per-token means. */
  weight?(batch: Batch): number;
}

export interface TrainOptions<Plan, Batch> {
  model: TrainableModel<Batch>;
  data: TrainingData<Plan, Batch>;
  /** Optimizer updates to reach (a resumed run counts the updates already done). */
  totalUpdates: number;
  schedule: Schedule;
  /** Micro-batches per update (default 1). */
  accumulationSteps?: number;
  optimizer?: AdamWOptions;
  /** Global-norm clipping threshold (default 1; 0 disables). */
  clipNorm?: number;
  /**
   * Run the optimizer inside the model's graph (model.adamWStep) rather than in TypeScript.
   * Default: when the model offers it and accumulationSteps is 1 (it was the faster; see
   * docs/training.md). Both give the same updates up to float rounding.
   */
  optimizerInGraph?: boolean;
  seed: number;
  /** Where loss.csv, loss.svg and checkpoints/ go. */
  runDir: string;
  /** Save a checkpoint every this many updates (default 0: only at the end). */
  checkpointEvery?: number;
  /** Checkpoints to keep (default 2). */
  keepCheckpoints?: number;
  /** Continue from the latest checkpoint in runDir (a fresh start when there is none). */
  resume?: boolean;
  /** Extra files for every checkpoint directory, e.g. the model's config.json. */
  writeCheckpointExtra?: (dir: string) => Promise<void>;
  /** Called after every update; return 'stop' to end the run early (after a checkpoint is saved if due). */
  onUpdate?: (record: LossRecord) => void | 'stop' | Promise<void | 'stop'>;
  /** Show the progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  label?: string;
}

export interface TrainResult {
  records: LossRecord[];
  /** Updates done, including those before a resume. */
  update: number;
  /** True when onUpdate stopped the run before totalUpdates. */
  stopped: boolean;
  resumedFrom?: number;
  /** Updates skipped because the gradient was not finite. */
  skippedUpdates: number;
}

export async function train<Plan, Batch>(options: TrainOptions<Plan, Batch>): Promise<TrainResult> {
  const { model, data, runDir, schedule } = options;
  const accumulation = options.accumulationSteps ?? 1;
  const clipNorm = options.clipNorm ?? 1;
  const checkpointEvery = options.checkpointEvery ?? 0;
  if (!Number.isInteger(options.totalUpdates) || options.totalUpdates < 1)
    throw new RangeError(`train: totalUpdates must be a positive integer, got ${options.totalUpdates}`);
  if (!Number.isInteger(accumulation) || accumulation < 1)
    throw new RangeError(`train: accumulationSteps must be a positive integer, got ${accumulation}`);
  mkdirSync(runDir, { recursive: true });
  // Checkpoint and plot temporaries of a run that was killed (SIGKILL, a crash) before it could remove them.
  sweepStaleTemporaries(runDir);
  sweepStaleTemporaries(checkpointsDir(runDir));
  const csvPath = join(runDir, 'loss.csv');
  const svgPath = join(runDir, 'loss.svg');

  const optimizer = new AdamW(model.parameters, options.optimizer);
  const rng = new Rng(options.seed);
  let state: TrainerState = {
    update: 0,
    epoch: 0,
    batchInEpoch: 0,
    seed: options.seed,
    rngState: rng.getState(),
    examplesSeen: 0,
    elapsedS: 0,
  };
  let log: LossLog;
  let resumedFrom: number | undefined;
  if (options.resume && hasCheckpoint(runDir)) {
    const checkpoint = loadLatestCheckpoint(runDir, model.parameters);
    if (checkpoint.state.seed !== options.seed) {
      throw new UserError(
        `${join(checkpoint.dir, 'trainer_state.json')}: the run was started with seed ${checkpoint.state.seed}, not ${options.seed}`,
      );
    }
    for (const param of model.parameters) param.data.set(checkpoint.parameters.get(param.name)!.data as Float32Array);
    optimizer.setState(checkpoint.optimizer);
    state = checkpoint.state;
    rng.setState(state.rngState);
    resumedFrom = state.update;
    log = LossLog.resume(csvPath, state.update);
  } else {
    if (!options.resume && (hasCheckpoint(runDir) || existsSync(csvPath))) {
      throw new UserError(`${runDir}: already holds a training run; resume it or choose another directory`);
    }
    log = LossLog.create(csvPath);
  }

  const inGraph = options.optimizerInGraph ?? (model.adamWStep !== undefined && accumulation === 1);
  if (inGraph && (model.adamWStep === undefined || accumulation !== 1)) {
    throw new RangeError('train: optimizerInGraph needs a model with adamWStep and accumulationSteps 1');
  }
  const accumulator = accumulation > 1 ? new GradientAccumulator(model.parameters) : undefined;
  let epochPlan = data.plan(state.epoch);
  if (epochPlan.length === 0) throw new UserError('train: the training data yields no batches');
  const bar = progressBar({
    label: options.label ?? 'train',
    total: options.totalUpdates,
    unit: 'upd',
    fields: ['loss', 'ex/s'],
    enabled: options.progress,
  });
  bar.tick(state.update);
  const records: LossRecord[] = [];
  let skippedUpdates = 0;
  let stopped = false;
  /** Index of the next batch plan, moving to the next epoch when this one is used up. */
  const nextPlan = (): number => {
    if (state.batchInEpoch >= epochPlan.length) {
      state.epoch += 1;
      state.batchInEpoch = 0;
      epochPlan = data.plan(state.epoch);
    }
    state.batchInEpoch += 1;
    return state.batchInEpoch - 1;
  };
  const nextDropoutSeed = (): number => Math.floor(rng.next() * 4294967296) >>> 0;
  const save = async () => {
    state.rngState = rng.getState();
    await saveTrainingCheckpoint(runDir, model.parameters, optimizer.getState(), state, {
      keep: options.keepCheckpoints,
      writeExtra: options.writeCheckpointExtra,
    });
    log.writePlot(svgPath);
  };

  try {
    while (state.update < options.totalUpdates) {
      const started = process.hrtime.bigint();
      const update = state.update + 1;
      const lr = schedule(update);
      let lossSum = 0;
      let weightSum = 0;
      let examples = 0;
      let gradNorm: number;
      if (inGraph) {
        const batch = data.materialize(epochPlan[nextPlan()]);
        const result = await model.adamWStep!(batch, nextDropoutSeed(), optimizer, lr, clipNorm);
        lossSum = result.loss;
        weightSum = 1;
        examples = data.examples(batch);
        gradNorm = result.gradNorm;
      } else {
        let gradients: Gradients | undefined;
        accumulator?.reset();
        for (let micro = 0; micro < accumulation; micro++) {
          const batch = data.materialize(epochPlan[nextPlan()]);
          const result = await model.lossAndGradients(batch, nextDropoutSeed());
          const weight = data.weight?.(batch) ?? 1;
          lossSum += result.loss * weight;
          weightSum += weight;
          examples += data.examples(batch);
          if (accumulator) accumulator.add(result.gradients, weight);
          else gradients = result.gradients;
        }
        const grads = accumulator ? accumulator.mean() : gradients!;
        // The clipping factor is applied inside the AdamW pass, saving a pass over the gradients.
        gradNorm = globalGradNorm(grads);
        if (Number.isFinite(gradNorm)) optimizer.update(grads, lr, clipNorm > 0 ? clipFactor(gradNorm, clipNorm) : 1);
      }
      if (!Number.isFinite(gradNorm)) {
        skippedUpdates += 1;
        warn(`update ${update}: gradient norm is ${gradNorm}; update skipped`);
      }
      state.update = update;
      state.examplesSeen += examples;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      state.elapsedS += seconds;
      const record: LossRecord = {
        update,
        epoch: state.epoch,
        loss: lossSum / weightSum,
        lr,
        gradNorm,
        examples,
        elapsedS: state.elapsedS,
      };
      log.append(record);
      records.push(record);
      bar.tick(1, { loss: record.loss.toFixed(4), 'ex/s': (examples / seconds).toFixed(1) });
      const verdict = options.onUpdate ? await options.onUpdate(record) : undefined;
      const finished = state.update >= options.totalUpdates;
      if (finished || verdict === 'stop' || (checkpointEvery > 0 && state.update % checkpointEvery === 0)) await save();
      if (verdict === 'stop' && !finished) {
        stopped = true;
        break;
      }
    }
    if (state.update >= options.totalUpdates && records.length === 0) log.writePlot(svgPath);
  } finally {
    bar.stop();
  }
  return { records: log.records, update: state.update, stopped, resumedFrom, skippedUpdates };
}
