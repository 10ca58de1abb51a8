/**
 * A trained generative retriever as one self-contained directory:
 *
 *   manifest.json           format and genir versions, dataset, docid scheme, creation time,
 *                           and every other file with its size and sha256
 *   config.json             the T5 config (HF field names)
 *   model.safetensors       the weights (HF T5 names)
 *   tokenizer.json          HF tokenizer.json, docid tokens included
 *   docids.bin              the docid table (src/docids); the trie is rebuilt from it on load
 *   docs.jsonl              {"id", "title"} per docid, in docid order, to print results
 *   onnx/encoder.onnx       inference graphs with the weights baked in as initializers, for
 *   onnx/decoder_step.onnx  onnxruntime in any language (inputs described in docs/sft.md)
 *   …                       extra files such as the training report
 *
 * Saving writes everything into a temporary sibling directory and renames it into place, so
 * a reader never sees half a model. Loading checks the format version and every listed
 * file's size and checksum before parsing anything; a problem is a UserError naming the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { exportModel } from '../engine/index.js';
import { decodeDocids, encodeDocids } from '../docids/io.js';
import type { DocidTable } from '../docids/table.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { UserError } from '../util/errors.js';
import { removeOnExit, sweepStaleTemporaries } from '../util/temporaries.js';
import { CONFIG_FILE, WEIGHTS_FILE, saveModelCheckpoint } from '../model/checkpoint.js';
import { parameterCount, totalVocabSize } from '../model/config.js';
import { T5Model, type T5RuntimeOptions } from '../model/t5.js';
import { buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from '../model/t5-graph.js';

/** Bumped whenever a file's meaning or the set of required files changes. */
export const MODEL_DIRECTORY_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const DOCIDS_FILE = 'docids.bin';
export const DOCS_FILE = 'docs.jsonl';
export const ONNX_ENCODER_FILE = 'onnx/encoder.onnx';
export const ONNX_DECODER_STEP_FILE = 'onnx/decoder_step.onnx';
const FORMAT_NAME = 'genir-model';
const REQUIRED_FILES = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, DOCIDS_FILE, DOCS_FILE] as const;
/** Manifest size fields and the names the messages give them, as config.json spells them. */
const MODEL_SIZES = [
  ['vocabSize', 'vocab_size'],
  ['dModel', 'd_model'],
  ['numLayers', 'num_layers'],
  ['numDecoderLayers', 'num_decoder_layers'],
] as const;

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** The fields every genir model manifest has, generative or dense. */
export interface ManifestCommon {
  formatVersion: number;
  genirVersion: string;
  createdAt: string;
  /** What the model was trained on (dataset id, languages, splits), as the trainer describes it. */
  dataset: Record<string, unknown>;
  files: ManifestFile[];
  /** Anything else the writer wants to keep (training summary, evaluation). */
  extra?: Record<string, unknown>;
}

export interface ModelManifest extends ManifestCommon {
  format: typeof FORMAT_NAME;
  docids: { scheme: string; count: number; docidVocabSize: number; textVocabSize: number };
  model: { parameters: number; vocabSize: number; dModel: number; numLayers: number; numDecoderLayers: number };
  /** Paths of the inference graphs, or null when they were not exported. */
  onnx: { encoder: string; decoderStep: string } | null;
  /**
   * The documents the model can return: how many docid keys, and `corpusFingerprint` of them.
   * Absent in directories written before it was recorded; the keys in docids.bin say the same.
   */
  corpus?: { keys: number; sha256: string };
}

/** A file to copy or write into the directory beside the model files (e.g. a run report). */
export interface ExtraFile {
  /** Relative path inside the model directory (forward slashes, no `..`). */
  path: string;
  /** Copy this file… */
  source?: string;
  /** …or write these bytes. */
  data?: string | Uint8Array;
}

/** What every model directory is saved with, besides its model and documents. */
export interface SavedDirectoryCommon {
  tokenizer: SubwordTokenizer;
  /** The dataset the model was trained on, as the manifest records it. */
  dataset: Record<string, unknown>;
  /** Export the ONNX inference graphs (default true). */
  onnx?: boolean;
  extraFiles?: readonly ExtraFile[];
  /** Written to the manifest's `extra`. */
  extra?: Record<string, unknown>;
}

export interface ModelDirectoryContents extends SavedDirectoryCommon {
  model: T5Model;
  docids: DocidTable;
  /** Title of each docid key (every key of `docids` needs one). */
  titles: ReadonlyMap<string, string>;
}

export interface LoadedModelDirectory {
  dir: string;
  manifest: ModelManifest;
  model: T5Model;
  tokenizer: SubwordTokenizer;
  docids: DocidTable;
  /** Docid key → title, in docid order. */
  docs: Map<string, string>;
  /** Absolute paths of the ONNX inference graphs, when the directory has them. */
  onnx?: { encoder: string; decoderStep: string };
}

export interface LoadModelDirectoryOptions extends T5RuntimeOptions {
  /** 'sha256' (default) checks every file's checksum; 'size' only sizes (faster for big models). */
  verify?: 'sha256' | 'size';
}

let cachedVersion: string | undefined;

/** The version in genir's package.json (read from source or from the compiled dist/ tree). */
export function genirVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const candidates = [new URL('../../package.json', import.meta.url), new URL('../../../package.json', import.meta.url)];
  for (const url of candidates) {
    if (!existsSync(url)) continue;
    const json = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
    if (json.name === 'genir' && typeof json.version === 'string') return (cachedVersion = json.version);
  }
  return (cachedVersion = 'unknown');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * sha256 of a set of document ids (sorted, duplicates dropped, one per line): equal for
 * two corpora exactly when they have the same ids, whatever their order.
 */
export function corpusFingerprint(ids: Iterable<string>): string {
  const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const id of sorted) hash.update(`${id}\n`);
  return hash.digest('hex');
}

function checkRelativePath(path: string): void {
  if (
    path === '' ||
    path.startsWith('/') ||
    path.split('/').some((part) => part === '..' || part === '' || part === '.') ||
    path === MANIFEST_FILE
  ) {
    throw new Error(`model directory: bad extra file path '${path}'`);
  }
}

function docsJsonl(docids: DocidTable, titles: ReadonlyMap<string, string>): string {
  return docids.keys
    .map((key) => {
      const title = titles.get(key);
      if (title === undefined) throw new Error(`saveModelDirectory: no title for docid key '${key}'`);
      return `${JSON.stringify({ id: key, title })}\n`;
    })
    .join('');
}

/**
 * Writes a model directory at `dir` atomically. An existing model directory (or an empty
 * directory) there is replaced; any other existing path is refused, so a typo cannot
 * delete unrelated files.
 */
export async function saveModelDirectory(dir: string, contents: ModelDirectoryContents): Promise<ModelManifest> {
  const { model, tokenizer, docids } = contents;
  if (tokenizer.vocabSize !== totalVocabSize(model.config)) {
    throw new Error(
      `saveModelDirectory: tokenizer has ${tokenizer.vocabSize} ids but the model's vocabulary is ${totalVocabSize(model.config)}`,
    );
  }
  if (docids.layout.textVocabSize !== tokenizer.subwordVocabSize || docids.layout.docidVocabSize > tokenizer.docidCount) {
    throw new Error('saveModelDirectory: docid layout does not match the tokenizer');
  }
  return writeModelDirectory(dir, async (staging, files, write) => {
    await saveModelCheckpoint(staging, model.config, model.weights());
    listCheckpointFiles(staging, files);
    write(TOKENIZER_FILE, tokenizer.toJson());
    write(DOCIDS_FILE, encodeDocids(docids));
    write(DOCS_FILE, docsJsonl(docids, contents.titles));
    const withOnnx = contents.onnx ?? true;
    if (withOnnx) {
      const weights = model.weights();
      const encoderGraph = buildEncoderGraph(model.config, { fuseForInference: true });
      const decoderGraph = buildDecoderStepGraph(model.config, { fuseForInference: true, compactOutputs: true });
      write(ONNX_ENCODER_FILE, exportModel(encoderGraph, { params: inferenceParams(encoderGraph, weights) }).bytes);
      write(ONNX_DECODER_STEP_FILE, exportModel(decoderGraph, { params: inferenceParams(decoderGraph, weights) }).bytes);
    }
    writeExtraFiles(contents.extraFiles, files, write);
    const config = model.config;
    const manifest: ModelManifest = {
      format: FORMAT_NAME,
      formatVersion: MODEL_DIRECTORY_FORMAT_VERSION,
      genirVersion: genirVersion(),
      createdAt: new Date().toISOString(),
      dataset: contents.dataset,
      docids: {
        scheme: docids.scheme,
        count: docids.size,
        docidVocabSize: docids.layout.docidVocabSize,
        textVocabSize: docids.layout.textVocabSize,
      },
      model: {
        parameters: parameterCount(config),
        vocabSize: totalVocabSize(config),
        dModel: config.dModel,
        numLayers: config.numLayers,
        numDecoderLayers: config.numDecoderLayers,
      },
      onnx: withOnnx ? { encoder: ONNX_ENCODER_FILE, decoderStep: ONNX_DECODER_STEP_FILE } : null,
      corpus: { keys: docids.size, sha256: corpusFingerprint(docids.keys) },
      files,
      ...(contents.extra ? { extra: contents.extra } : {}),
    };
    return manifest;
  });
}

/** Lists the checkpoint (config and weights) a model wrote into the staging folder in the manifest's files. */
export function listCheckpointFiles(staging: string, files: ManifestFile[]): void {
  for (const path of [CONFIG_FILE, WEIGHTS_FILE]) {
    const bytes = readFileSync(join(staging, path));
    files.push({ path, bytes: bytes.length, sha256: sha256(bytes) });
  }
}

/** Adds the caller's extra files (copied or written) to a directory being written. */
export function writeExtraFiles(
  extraFiles: readonly ExtraFile[] | undefined,
  files: readonly ManifestFile[],
  write: (path: string, data: string | Uint8Array) => void,
): void {
  for (const extra of extraFiles ?? []) {
    checkRelativePath(extra.path);
    if (files.some((f) => f.path === extra.path))
      throw new Error(`saveModelDirectory: extra file '${extra.path}' clashes with a model file`);
    if (extra.source !== undefined) write(extra.path, readFileSync(extra.source));
    else if (extra.data !== undefined) write(extra.path, extra.data);
    else throw new Error(`saveModelDirectory: extra file '${extra.path}' has neither source nor data`);
  }
}

/**
 * Writes a directory with a manifest atomically: `fill` writes the files into a temporary
 * sibling (through `write`, which records each file's size and checksum in `files`, or
 * directly, adding entries itself) and returns the manifest, which is written last; the
 * finished directory is then renamed into place. An existing model directory (any genir
 * format) or an empty directory at `dir` is replaced; any other existing path is refused, so
 * a typo cannot delete unrelated files.
 */
export async function writeModelDirectory<M extends { files: ManifestFile[] }>(
  dir: string,
  fill: (staging: string, files: ManifestFile[], write: (path: string, data: string | Uint8Array) => void) => Promise<M>,
): Promise<M> {
  const target = resolve(dir);
  if (existsSync(target)) {
    const isDir = statSync(target).isDirectory();
    if (!isDir || (readdirSync(target).length > 0 && !existsSync(join(target, MANIFEST_FILE)))) {
      throw new UserError(`${target}: exists and is not a genir model directory; choose another --out or remove it`);
    }
  }
  mkdirSync(dirname(target), { recursive: true });
  sweepStaleStaging(target);
  const staging = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(staging);
  const release = removeOnExit(staging);
  try {
    const files: ManifestFile[] = [];
    const write = (path: string, data: string | Uint8Array) => {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const full = join(staging, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, bytes);
      files.push({ path, bytes: bytes.length, sha256: sha256(bytes) });
    };
    const manifest = await fill(staging, files, write);
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // Rename the finished directory into place; an old model directory is moved aside first
    // (rename cannot replace a non-empty directory) and deleted only after the swap.
    let old: string | undefined;
    if (existsSync(target)) {
      old = `${staging}.old`;
      renameSync(target, old);
    }
    try {
      renameSync(staging, target);
    } catch (err) {
      if (old !== undefined) renameSync(old, target);
      throw err;
    }
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
    return manifest;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    release();
  }
}

/**
 * Removes the staging directories (and moved-aside old models) that earlier saves to `target`
 * left when their process was killed; those of running processes are kept.
 */
export function sweepStaleStaging(target: string): string[] {
  const prefix = `.${basename(target)}.`;
  const ofTarget = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?<pid>\\d+)\\.[0-9a-f]{8}\\.tmp(?:\\.old)?$`);
  return sweepStaleTemporaries(dirname(target), ofTarget);
}

export function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** A model directory exists and is a folder; `writer` says what writes one. */
export function checkIsDirectory(dir: string, writer: string): void {
  if (!existsSync(dir)) throw new UserError(`${dir}: model directory not found`);
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: is a file, not a model directory (${writer})`);
}

/** A manifest's `files` is a well-formed list holding every required file. */
export function checkFileList<T extends { files?: unknown }>(
  path: string,
  json: T,
  required: readonly string[],
): asserts json is T & { files: ManifestFile[] } {
  const files = json.files;
  if (
    !Array.isArray(files) ||
    files.some(
      (f: Partial<ManifestFile> | null) => typeof f?.path !== 'string' || typeof f.bytes !== 'number' || typeof f.sha256 !== 'string',
    )
  ) {
    throw new UserError(`${path}: malformed file list`);
  }
  for (const name of required) {
    if (!(files as ManifestFile[]).some((f) => f.path === name)) throw new UserError(`${path}: does not list ${name}`);
  }
}

/** Reads and checks `manifest.json` (format name and version, file list shape). */
export function readModelManifest(dir: string): ModelManifest {
  const path = join(dir, MANIFEST_FILE);
  checkIsDirectory(dir, 'genir train sft --out writes model directories');
  if (!existsSync(path)) {
    throw new UserError(
      `${path}: missing; ${dir} is not a genir model directory (one holds ${MANIFEST_FILE}, ${REQUIRED_FILES.join(', ')}; genir train sft --out writes it)`,
    );
  }
  const text = readFileSync(path, 'utf8');
  const json = parseJson(path, text) as Partial<ModelManifest> | null;
  if (typeof json !== 'object' || json === null || json.format !== FORMAT_NAME) throw new UserError(`${path}: not a genir model manifest`);
  if (json.formatVersion !== MODEL_DIRECTORY_FORMAT_VERSION) {
    throw new UserError(
      `${path}: model directory format version ${String(json.formatVersion)} (written by genir ${String(json.genirVersion)}); ` +
        `this genir (${genirVersion()}) reads version ${MODEL_DIRECTORY_FORMAT_VERSION} — retrain the model or use a matching genir`,
    );
  }
  checkFileList(path, json, REQUIRED_FILES);
  const model = json.model as Partial<ModelManifest['model']> | undefined;
  if (typeof model !== 'object' || model === null || MODEL_SIZES.some(([key]) => typeof model[key] !== 'number'))
    throw new UserError(`${path}: malformed model sizes`);
  if (json.onnx !== null) {
    const onnx = json.onnx as Partial<Record<'encoder' | 'decoderStep', unknown>> | undefined;
    for (const key of ['encoder', 'decoderStep'] as const) {
      const graph = onnx?.[key];
      if (typeof graph !== 'string') throw new UserError(`${path}: onnx.${key} must be a path`);
      // Listed files are the ones whose size and checksum are verified before anything is parsed.
      if (!json.files.some((f) => f.path === graph)) throw new UserError(`${path}: onnx.${key} '${graph}' is not in the file list`);
    }
  }
  return json as ModelManifest;
}

function isOutside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * The absolute path of a manifest path, refused unless it lies inside the model directory,
 * both as written and after following symbolic links: a manifest is data, and a model
 * directory from elsewhere must not make genir read (or hash) any other file.
 */
function containedPath(root: string, realRoot: string, label: string, path: string): string {
  const full = resolve(root, path);
  if (isAbsolute(path) || isOutside(root, full)) {
    throw new UserError(`${join(root, MANIFEST_FILE)}: ${label} '${path}' lies outside the model directory; refusing to read it`);
  }
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return full; // missing: reported as such by the caller
  }
  if (isOutside(realRoot, real))
    throw new UserError(`${full}: a symbolic link to ${real}, outside the model directory; refusing to read it`);
  return full;
}

/**
 * Checks that every listed file (and each ONNX graph path) lies inside the model directory
 * and is present with its recorded size (and checksum). Every path is checked before any
 * file is read.
 */
export function verifyModelDirectory(
  dir: string,
  manifest: Pick<ModelManifest, 'files'> & { onnx?: ModelManifest['onnx'] },
  verify: 'sha256' | 'size' = 'sha256',
): void {
  const root = resolve(dir);
  const realRoot = realpathSync(root);
  if (manifest.onnx) {
    containedPath(root, realRoot, 'onnx.encoder path', manifest.onnx.encoder);
    containedPath(root, realRoot, 'onnx.decoderStep path', manifest.onnx.decoderStep);
  }
  const paths = manifest.files.map((file) => containedPath(root, realRoot, 'file path', file.path));
  manifest.files.forEach((file, i) => {
    const path = paths[i];
    if (!existsSync(path)) throw new UserError(`${path}: missing from the model directory (listed in ${MANIFEST_FILE})`);
    const size = statSync(path).size;
    if (size !== file.bytes)
      throw new UserError(`${path}: ${size} bytes, but ${MANIFEST_FILE} records ${file.bytes}; the file is truncated or was changed`);
    if (verify === 'sha256' && sha256(readFileSync(path)) !== file.sha256) {
      throw new UserError(`${path}: checksum does not match ${MANIFEST_FILE}; the file is corrupt or was changed after saving`);
    }
  });
}

/**
 * Runs a parser over one file; an error it did not anticipate (it throws UserErrors for the
 * problems it knows) still becomes one line naming the file.
 */
export function parsing<T>(file: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${file}: cannot be read as ${what} (${err instanceof Error ? err.message : String(err)})`);
  }
}

function readDocs(path: string, docids: DocidTable): Map<string, string> {
  const docs = new Map<string, string>();
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (line === '') return;
    const row = parseJson(`${path}:${index + 1}`, line) as { id?: unknown; title?: unknown } | null;
    if (typeof row !== 'object' || row === null || typeof row.id !== 'string' || typeof row.title !== 'string')
      throw new UserError(`${path}:${index + 1}: expected {"id": string, "title": string}`);
    docs.set(row.id, row.title);
  });
  if (docs.size !== docids.size || docids.keys.some((key) => !docs.has(key))) {
    throw new UserError(`${path}: its ${docs.size} documents do not match the ${docids.size} docids of ${DOCIDS_FILE}`);
  }
  return docs;
}

/** Loads and cross-checks a model directory written by saveModelDirectory. */
export async function loadModelDirectory(dir: string, options: LoadModelDirectoryOptions = {}): Promise<LoadedModelDirectory> {
  const root = resolve(dir);
  const manifest = readModelManifest(root);
  verifyModelDirectory(root, manifest, options.verify);
  const model = parsing(join(root, WEIGHTS_FILE), 'model weights', () =>
    T5Model.load(root, { threads: options.threads, device: options.device }),
  );
  const manifestPath = join(root, MANIFEST_FILE);
  const actualSizes = {
    vocabSize: totalVocabSize(model.config),
    dModel: model.config.dModel,
    numLayers: model.config.numLayers,
    numDecoderLayers: model.config.numDecoderLayers,
  };
  for (const [key, name] of MODEL_SIZES) {
    if (manifest.model[key] !== actualSizes[key]) {
      throw new UserError(
        `${manifestPath}: records ${name} ${manifest.model[key]}, but ${CONFIG_FILE} has ${actualSizes[key]}; the manifest and the model files do not belong together`,
      );
    }
  }
  const tokenizerPath = join(root, TOKENIZER_FILE);
  const tokenizer = parsing(tokenizerPath, 'a tokenizer', () => SubwordTokenizer.fromFile(tokenizerPath));
  const docidsPath = join(root, DOCIDS_FILE);
  const docids = parsing(docidsPath, 'a docid table', () => decodeDocids(readFileSync(docidsPath), docidsPath));
  if (docids.size !== manifest.docids?.count) {
    throw new UserError(
      `${manifestPath}: records ${String(manifest.docids?.count)} docids, but ${DOCIDS_FILE} has ${docids.size}; the manifest and the model files do not belong together`,
    );
  }
  if (tokenizer.vocabSize !== totalVocabSize(model.config)) {
    throw new UserError(
      `${tokenizerPath}: ${tokenizer.vocabSize} token ids, but ${CONFIG_FILE} describes a vocabulary of ${totalVocabSize(model.config)}`,
    );
  }
  if (docids.layout.textVocabSize !== tokenizer.subwordVocabSize || docids.layout.docidVocabSize !== model.config.docidVocabSize) {
    throw new UserError(
      `${docidsPath}: docid layout (text ${docids.layout.textVocabSize}, docid ${docids.layout.docidVocabSize}) does not match the model (text ${tokenizer.subwordVocabSize}, docid ${model.config.docidVocabSize})`,
    );
  }
  if (docids.layout.eosId !== model.config.eosTokenId)
    throw new UserError(`${docidsPath}: docids end with token ${docids.layout.eosId}, the model's EOS is ${model.config.eosTokenId}`);
  const docsPath = join(root, DOCS_FILE);
  const docs = parsing(docsPath, 'document titles', () => readDocs(docsPath, docids));
  const onnx = manifest.onnx
    ? { encoder: join(root, manifest.onnx.encoder), decoderStep: join(root, manifest.onnx.decoderStep) }
    : undefined;
  return { dir: root, manifest, model, tokenizer, docids, docs, onnx };
}
