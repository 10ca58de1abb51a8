/**
 * Pre-trained checkpoints from Hugging Face model directories (T5 v1.0, T5 v1.1, Flan-T5,
 * mT5, and genir's own `export hf` output): `config.json`, `model.safetensors` or the shards
 * of `model.safetensors.index.json` (float32, float16, bfloat16 or float64; converted to
 * float32), and the tokenizer from `tokenizer.json` or `spiece.model`. Also the two ways back:
 * new embedding / head rows for docid tokens, and writing a model as such a directory.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { CONFIG_FILE, WEIGHTS_FILE, checkWeights, readModelConfig, saveModelCheckpoint } from './checkpoint.js';
import { parameterCount, t5ParameterSpecs, totalVocabSize, type T5Config } from './config.js';
import { readSafetensors, toFloat32, type StoredTensor } from './safetensors.js';

export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
export const HF_TOKENIZER_FILE = 'tokenizer.json';
export const SENTENCEPIECE_FILE = 'spiece.model';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
/** T5's tokenizer appends this many `<extra_id_N>` sentinels unless tokenizer_config.json says otherwise. */
export const T5_DEFAULT_SENTINELS = 100;

export interface HfCheckpoint {
  dir: string;
  config: T5Config;
  /** Every parameter of `config`, float32, by HF name. */
  weights: Map<string, Float32Array>;
  /** Text vocabulary padded to the embedding's rows; docid tokens as the config has them. */
  tokenizer: SubwordTokenizer;
  /** Which files were read, for messages. */
  files: { weights: string[]; tokenizer: string; storedDtypes: string[] };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** Every stored tensor of the checkpoint, from one file or from the shards its index names. */
function readStoredTensors(dir: string): { tensors: Map<string, StoredTensor>; files: string[] } {
  const single = join(dir, WEIGHTS_FILE);
  if (existsSync(single)) return { tensors: readSafetensors(single).tensors, files: [WEIGHTS_FILE] };
  const indexPath = join(dir, WEIGHTS_INDEX_FILE);
  if (!existsSync(indexPath)) {
    const hint = existsSync(join(dir, 'pytorch_model.bin'))
      ? ` (it has pytorch_model.bin: save it as safetensors first, e.g. model.save_pretrained(dir, safe_serialization=True) in transformers)`
      : '';
    throw new UserError(`${dir}: no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}${hint}`);
  }
  const index = readJson(indexPath) as { weight_map?: unknown } | null;
  const weightMap = index?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap))
    throw new UserError(`${indexPath}: weight_map must map tensor names to shard files`);
  const byFile = new Map<string, string[]>();
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file === '..')
      throw new UserError(`${indexPath}: weight_map['${name}'] must be a file name in ${dir}`);
    byFile.set(file, [...(byFile.get(file) ?? []), name]);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const [file, names] of byFile) {
    const shard = readSafetensors(join(dir, file)).tensors;
    for (const name of names) {
      const tensor = shard.get(name);
      if (tensor === undefined)
        throw new UserError(`${join(dir, file)}: tensor '${name}' is missing (${WEIGHTS_INDEX_FILE} puts it there)`);
      tensors.set(name, tensor);
    }
  }
  return { tensors, files: [...byFile.keys()] };
}

/** The tokenizer of the checkpoint, its text vocabulary padded to `config.vocabSize` rows. */
function readTokenizer(dir: string, config: T5Config): { tokenizer: SubwordTokenizer; file: string } {
  const jsonPath = join(dir, HF_TOKENIZER_FILE);
  const spmPath = join(dir, SENTENCEPIECE_FILE);
  let tokenizer: SubwordTokenizer;
  let file: string;
  if (existsSync(jsonPath)) {
    tokenizer = SubwordTokenizer.fromFile(jsonPath);
    file = HF_TOKENIZER_FILE;
  } else if (existsSync(spmPath)) {
    let sentinels = T5_DEFAULT_SENTINELS;
    const tokenizerConfigPath = join(dir, TOKENIZER_CONFIG_FILE);
    if (existsSync(tokenizerConfigPath)) {
      const extraIds = (readJson(tokenizerConfigPath) as { extra_ids?: unknown } | null)?.extra_ids;
      if (extraIds !== undefined) {
        if (typeof extraIds !== 'number' || !Number.isInteger(extraIds) || extraIds < 0)
          throw new UserError(`${tokenizerConfigPath}: extra_ids must be an integer >= 0`);
        sentinels = extraIds;
      }
    }
    tokenizer = SubwordTokenizer.fromSentencePiece(readFileSync(spmPath), spmPath, { sentinels });
    file = SENTENCEPIECE_FILE;
  } else {
    throw new UserError(`${dir}: no ${HF_TOKENIZER_FILE} or ${SENTENCEPIECE_FILE}; genir needs the checkpoint's tokenizer`);
  }
  const path = join(dir, file);
  if (tokenizer.subwordVocabSize > config.vocabSize) {
    throw new UserError(
      `${path}: ${tokenizer.subwordVocabSize} text tokens, but ${CONFIG_FILE} has only ${config.vocabSize} embedding rows (vocab_size)`,
    );
  }
  if (tokenizer.subwordVocabSize < config.vocabSize) {
    if (tokenizer.kind !== 'unigram')
      throw new UserError(`${path}: ${tokenizer.subwordVocabSize} text tokens, but ${CONFIG_FILE} has ${config.vocabSize} embedding rows`);
    tokenizer = tokenizer.withTextVocabSize(config.vocabSize);
  }
  if (tokenizer.docidCount !== config.docidVocabSize) {
    if (tokenizer.docidCount > 0)
      throw new UserError(
        `${path}: ${tokenizer.docidCount} docid tokens, but ${CONFIG_FILE} has genir_docid_vocab_size ${config.docidVocabSize}`,
      );
    tokenizer = tokenizer.withDocidTokens(config.docidVocabSize);
  }
  return { tokenizer, file };
}

/** Reads a Hugging Face T5 / mT5 model directory; every problem is a UserError naming the file and field. */
export function readHfCheckpoint(dir: string): HfCheckpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: model directory not found`);
  const config = readModelConfig(dir);
  const { tensors, files } = readStoredTensors(dir);
  const where = files.length === 1 ? join(dir, files[0]) : `${join(dir, WEIGHTS_INDEX_FILE)} shards`;
  const storedDtypes = new Set<string>();
  const converted = new Map<string, StoredTensor>();
  for (const [name, tensor] of tensors) {
    storedDtypes.add(tensor.dtype);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(tensor.dtype))
      throw new UserError(`${where}: tensor '${name}' has dtype ${tensor.dtype}; genir reads float weights`);
    converted.set(name, { dtype: 'F32', shape: tensor.shape, data: toFloat32(tensor) });
  }
  // Some checkpoints store the embedding only under the encoder's or decoder's tied name.
  if (!converted.has('shared.weight')) {
    const copy = converted.get('encoder.embed_tokens.weight') ?? converted.get('decoder.embed_tokens.weight');
    if (copy !== undefined) converted.set('shared.weight', copy);
  }
  const weights = checkWeights(where, config, converted);
  const { tokenizer, file } = readTokenizer(dir, config);
  return { dir, config, weights, tokenizer, files: { weights: files, tokenizer: file, storedDtypes: [...storedDtypes].sort() } };
}

/** How docid rows are initialised: per dimension, a normal draw with the mean and spread of the checkpoint's text rows. */
function newRows(existing: Float32Array, rows: number, width: number, count: number, rng: Rng): Float32Array {
  const mean = new Float64Array(width);
  const square = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const value = existing[r * width + c];
      mean[c] += value;
      square[c] += value * value;
    }
  }
  const out = new Float32Array((rows + count) * width);
  out.set(existing.subarray(0, rows * width));
  for (let c = 0; c < width; c++) {
    mean[c] /= rows;
    square[c] = Math.sqrt(Math.max(0, square[c] / rows - mean[c] * mean[c]));
  }
  for (let r = rows; r < rows + count; r++) for (let c = 0; c < width; c++) out[r * width + c] = mean[c] + square[c] * rng.normal();
  return out;
}

/**
 * The checkpoint with `docidVocabSize` docid tokens: new rows after the text vocabulary in
 * the embedding and (untied) output head. Docid tokens are new symbols that no text row
 * stands for, so each row is drawn (seeded) from the per-dimension mean and standard
 * deviation of the text rows: the scale the pre-trained layers expect, no bias towards any
 * word. An existing docid block is replaced.
 */
export function withDocidRows(
  config: T5Config,
  weights: ReadonlyMap<string, Float32Array>,
  docidVocabSize: number,
  seed: number,
): { config: T5Config; weights: Map<string, Float32Array> } {
  const next: T5Config = { ...config, docidVocabSize };
  const out = new Map(weights);
  const rng = new Rng(seed);
  for (const name of ['shared.weight', ...(config.tieWordEmbeddings ? [] : ['lm_head.weight'])]) {
    out.set(name, newRows(weights.get(name)!, config.vocabSize, config.dModel, docidVocabSize, rng));
  }
  return { config: next, weights: out };
}

/** Parameters in genir's order, for T5Model's constructor. */
export function parametersOf(
  config: T5Config,
  weights: ReadonlyMap<string, Float32Array>,
): { name: string; shape: number[]; data: Float32Array }[] {
  return t5ParameterSpecs(config).map((spec) => {
    const data = weights.get(spec.name);
    if (data === undefined) throw new Error(`no weights for '${spec.name}'`);
    return { name: spec.name, shape: spec.shape, data };
  });
}

/** A one-paragraph description of a checkpoint for `genir import hf` and `train sft --init`. */
export function describeCheckpoint(checkpoint: HfCheckpoint): Record<string, unknown> {
  const { config, tokenizer } = checkpoint;
  return {
    source: checkpoint.dir,
    feed_forward: config.feedForward,
    tied_head: config.tieWordEmbeddings,
    parameters: parameterCount(config),
    d_model: config.dModel,
    layers: [config.numLayers, config.numDecoderLayers],
    heads: config.numHeads,
    d_kv: config.dKv,
    text_vocab: tokenizer.subwordVocabSize,
    tokenizer: `${checkpoint.files.tokenizer} (${tokenizer.kind})`,
    weights: checkpoint.files.weights,
    stored_dtypes: checkpoint.files.storedDtypes,
    docid_rows: config.docidVocabSize,
  };
}

/**
 * Writes a model as a Hugging Face directory that `transformers` and genir both load:
 * config.json (model_type t5, genir_docid_vocab_size), model.safetensors (float32),
 * tokenizer.json (docid tokens as special added tokens) and tokenizer_config.json.
 */
export async function writeHfDirectory(
  dir: string,
  config: T5Config,
  weights: ReadonlyMap<string, Float32Array>,
  tokenizer: SubwordTokenizer,
): Promise<void> {
  if (tokenizer.vocabSize !== totalVocabSize(config))
    throw new Error(`writeHfDirectory: tokenizer has ${tokenizer.vocabSize} ids, the model ${totalVocabSize(config)}`);
  // Refused before anything is written: HF's T5 would drop the tensor and rank differently.
  if (config.lexicalHead)
    throw new UserError(
      `${dir}: the model has a lexical head (lexical_head.weight, a bag-of-words term in the docid logits), which Hugging Face T5 has no place for; it cannot be exported`,
    );
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a directory`);
  mkdirSync(dir, { recursive: true });
  await writeFileAtomic(join(dir, HF_TOKENIZER_FILE), tokenizer.toJson());
  // A plain fast tokenizer: T5TokenizerFast would add its own 100 sentinels after genir's ids.
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    pad_token: '<pad>',
    eos_token: '</s>',
    unk_token: '<unk>',
    model_max_length: 512,
  };
  await writeFileAtomic(join(dir, TOKENIZER_CONFIG_FILE), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
  // Weights and config last (saveModelCheckpoint writes the config after the weights).
  await saveModelCheckpoint(dir, config, weights);
}

/** The directory's name, for labels. */
export function checkpointLabel(dir: string): string {
  return `hf:${basename(dir)}`;
}
