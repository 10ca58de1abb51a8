/**
 * Model checkpoints: a directory with `model.safetensors` (weights under HF T5 names) and
 * `config.json` (HF T5Config fields plus genir's), the layout `transformers` reads.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { fromHfConfig, t5ParameterSpecs, toHfConfig, type T5Config } from './config.js';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorInput } from './safetensors.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';

export interface NamedWeights {
  /** Weights by HF name; each Float32Array holds the tensor row-major in its HF shape. */
  weights: Map<string, Float32Array>;
}

export interface ModelCheckpoint extends NamedWeights {
  config: T5Config;
}

/**
 * Saves weights and config into `dir` (created if needed). Each file is written atomically;
 * the config goes last, so a directory with a config always has matching weights.
 */
export async function saveModelCheckpoint(dir: string, config: T5Config, weights: ReadonlyMap<string, Float32Array>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorInput>();
  for (const spec of t5ParameterSpecs(config)) {
    const data = weights.get(spec.name);
    if (data === undefined) throw new Error(`saveModelCheckpoint: no weights for '${spec.name}'`);
    tensors.set(spec.name, { shape: spec.shape, data });
  }
  await writeSafetensors(join(dir, WEIGHTS_FILE), tensors, { format: 'pt', producer: 'genir' });
  await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(toHfConfig(config), null, 2)}\n`);
}

/** Reads `config.json` of a checkpoint directory. */
export function readModelConfig(dir: string): T5Config {
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${path}: cannot read model config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return fromHfConfig(json, path);
}

/**
 * Loads a checkpoint directory and checks every tensor against the config: all expected
 * names present, no unexpected ones, float32 dtype, exact shapes. HF's tied copies
 * `encoder.embed_tokens.weight` / `decoder.embed_tokens.weight` (and `lm_head.weight` of a
 * tied head) are accepted when they have `shared.weight`'s shape and are dropped. When `expected` is given the stored
 * config must match it in every shape-defining field.
 */
export function loadModelCheckpoint(dir: string, expected?: T5Config): ModelCheckpoint {
  const config = readModelConfig(dir);
  const configPath = join(dir, CONFIG_FILE);
  if (expected !== undefined) {
    for (const key of [
      'vocabSize',
      'docidVocabSize',
      'dModel',
      'dKv',
      'dFf',
      'numLayers',
      'numDecoderLayers',
      'numHeads',
      'relativeAttentionNumBuckets',
      'tieWordEmbeddings',
      'lexicalHead',
    ] as const) {
      if (config[key] !== expected[key]) {
        throw new UserError(`${configPath}: ${key} is ${String(config[key])}, but the model expects ${String(expected[key])}`);
      }
    }
  }
  const path = join(dir, WEIGHTS_FILE);
  const { tensors } = readSafetensors(path);
  return { config, weights: checkWeights(path, config, tensors) };
}

/** Validates stored tensors against the parameter list of `config`; errors name `file` and the tensor. */
export function checkWeights(file: string, config: T5Config, tensors: Map<string, StoredTensor>): Map<string, Float32Array> {
  const specs = t5ParameterSpecs(config);
  const weights = new Map<string, Float32Array>();
  for (const spec of specs) {
    const tensor = tensors.get(spec.name);
    if (tensor === undefined) throw new UserError(`${file}: tensor '${spec.name}' is missing`);
    if (tensor.dtype !== 'F32') throw new UserError(`${file}: tensor '${spec.name}' has dtype ${tensor.dtype}, expected F32`);
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((d, i) => d !== spec.shape[i])) {
      throw new UserError(`${file}: tensor '${spec.name}' has shape [${tensor.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
    }
    weights.set(spec.name, tensor.data as Float32Array);
  }
  const shared = specs[0].shape;
  for (const name of tensors.keys()) {
    if (weights.has(name)) continue;
    const tensor = tensors.get(name)!;
    // HF keeps copies of the tied embedding under these names (and the head, when tied).
    const tiedNames = [
      'encoder.embed_tokens.weight',
      'decoder.embed_tokens.weight',
      ...(config.tieWordEmbeddings ? ['lm_head.weight'] : []),
    ];
    const tiedCopy =
      tiedNames.includes(name) && tensor.shape.length === 2 && tensor.shape[0] === shared[0] && tensor.shape[1] === shared[1];
    if (!tiedCopy) throw new UserError(`${file}: unexpected tensor '${name}' (not a parameter of this config)`);
  }
  return weights;
}
