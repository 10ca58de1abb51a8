/**
 * Training checkpoints: everything needed to continue a run bit-for-bit. Each checkpoint
 * is a directory `checkpoints/step-<update>` holding
 *   model.safetensors      parameters by name (plus config.json when the caller writes one),
 *   optimizer.safetensors  AdamW moments as `m.<name>` / `v.<name>`,
 *   trainer_state.json     update count, data position, RNG state, seed.
 * It is written under a temporary name and renamed into place, then `latest.json` is
 * replaced atomically, so a run killed at any moment leaves the previous checkpoint intact.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { removeOnExit } from '../../util/temporaries.js';
import type { AdamWState } from '../../engine/optim/adamw.js';
import type { Parameter } from '../../engine/optim/types.js';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorInput } from '../../model/safetensors.js';

export interface TrainerState {
  /** Optimizer updates done. */
  update: number;
  /** Epoch and batch index (within its epoch) of the next micro-batch to train on. */
  epoch: number;
  batchInEpoch: number;
  seed: number;
  /** State of the trainer's Rng (dropout seeds). */
  rngState: number;
  examplesSeen: number;
  /** Training seconds so far, summed over resumed runs. */
  elapsedS: number;
}

export interface TrainingCheckpoint {
  dir: string;
  parameters: Map<string, StoredTensor>;
  optimizer: AdamWState;
  state: TrainerState;
}

const LATEST = 'latest.json';

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

export async function saveTrainingCheckpoint(
  runDir: string,
  parameters: readonly Parameter[],
  optimizer: AdamWState,
  state: TrainerState,
  options: { keep?: number; writeExtra?: (dir: string) => Promise<void> } = {},
): Promise<string> {
  const root = checkpointsDir(runDir);
  mkdirSync(root, { recursive: true });
  const name = `step-${String(state.update).padStart(8, '0')}`;
  const finalDir = join(root, name);
  const tmpDir = join(root, `.${name}.${process.pid}.tmp`);
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir);
  const release = removeOnExit(tmpDir);
  try {
    const weights = new Map<string, TensorInput>(parameters.map((p) => [p.name, { shape: p.shape, data: p.data }]));
    await writeSafetensors(join(tmpDir, 'model.safetensors'), weights, { format: 'pt', producer: 'genir' });
    const moments = new Map<string, TensorInput>();
    for (const p of parameters) {
      const m = optimizer.m.get(p.name);
      const v = optimizer.v.get(p.name);
      if (m === undefined || v === undefined) throw new Error(`saveTrainingCheckpoint: optimizer state lacks '${p.name}'`);
      moments.set(`m.${p.name}`, { shape: p.shape, data: m });
      moments.set(`v.${p.name}`, { shape: p.shape, data: v });
    }
    await writeSafetensors(join(tmpDir, 'optimizer.safetensors'), moments, { step: String(optimizer.step) });
    if (options.writeExtra) await options.writeExtra(tmpDir);
    writeFileAtomicSync(join(tmpDir, 'trainer_state.json'), `${JSON.stringify(state, null, 2)}\n`);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmpDir, finalDir);
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  } finally {
    release();
  }
  writeFileAtomicSync(join(root, LATEST), `${JSON.stringify({ dir: name, update: state.update })}\n`);
  const keep = options.keep ?? 2;
  const old = readdirSync(root)
    .filter((entry) => /^step-\d{8}$/.test(entry) && entry !== name)
    .sort();
  for (const entry of old.slice(0, Math.max(0, old.length - (keep - 1)))) rmSync(join(root, entry), { recursive: true, force: true });
  return finalDir;
}

/** Whether `runDir` holds a checkpoint to resume from. */
export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(checkpointsDir(runDir), LATEST));
}

/** Whether `workDir` or one of its subdirectories (e.g. one run per SFT stage) holds a checkpoint. */
export function holdsAnyCheckpoint(workDir: string): boolean {
  if (hasCheckpoint(workDir)) return true;
  if (!existsSync(workDir)) return false;
  return readdirSync(workDir, { withFileTypes: true }).some((entry) => entry.isDirectory() && hasCheckpoint(join(workDir, entry.name)));
}

/** The checkpoint `latest.json` points to; parameters are checked against `parameters` by name, shape and dtype. */
export function loadLatestCheckpoint(runDir: string, parameters: readonly Parameter[]): TrainingCheckpoint {
  const root = checkpointsDir(runDir);
  const latestPath = join(root, LATEST);
  let latest: { dir?: unknown };
  try {
    latest = JSON.parse(readFileSync(latestPath, 'utf8')) as { dir?: unknown };
  } catch (err) {
    throw new UserError(`${latestPath}: cannot read the latest-checkpoint pointer (${(err as Error).message})`);
  }
  if (typeof latest.dir !== 'string' || !/^step-\d{8}$/.test(latest.dir))
    throw new UserError(`${latestPath}: field 'dir' must name a step-NNNNNNNN directory`);
  const dir = join(root, latest.dir);
  const statePath = join(dir, 'trainer_state.json');
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
  } catch (err) {
    throw new UserError(`${statePath}: cannot read trainer state (${(err as Error).message})`);
  }
  for (const key of ['update', 'epoch', 'batchInEpoch', 'seed', 'rngState', 'examplesSeen', 'elapsedS'] as const) {
    if (typeof state[key] !== 'number') throw new UserError(`${statePath}: field '${key}' must be a number`);
  }
  const modelPath = join(dir, 'model.safetensors');
  const model = readSafetensors(modelPath).tensors;
  const optimizerPath = join(dir, 'optimizer.safetensors');
  const optimizerFile = readSafetensors(optimizerPath);
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const p of parameters) {
    checkTensor(modelPath, p.name, model.get(p.name), p.shape);
    const mName = `m.${p.name}`;
    const vName = `v.${p.name}`;
    m.set(p.name, checkTensor(optimizerPath, mName, optimizerFile.tensors.get(mName), p.shape));
    v.set(p.name, checkTensor(optimizerPath, vName, optimizerFile.tensors.get(vName), p.shape));
  }
  for (const name of model.keys()) {
    if (!parameters.some((p) => p.name === name))
      throw new UserError(`${modelPath}: unexpected tensor '${name}' (not a parameter of this model)`);
  }
  const step = Number(optimizerFile.metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new UserError(`${optimizerPath}: metadata 'step' must be a non-negative integer`);
  return { dir, parameters: model, optimizer: { step, m, v }, state };
}

function checkTensor(file: string, name: string, tensor: StoredTensor | undefined, shape: readonly number[]): Float32Array {
  if (tensor === undefined) throw new UserError(`${file}: tensor '${name}' is missing`);
  if (tensor.dtype !== 'F32') throw new UserError(`${file}: tensor '${name}' has dtype ${tensor.dtype}, expected F32`);
  if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    throw new UserError(`${file}: tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return tensor.data as Float32Array;
}
