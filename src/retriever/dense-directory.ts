/**
 * A trained dense retriever as one self-contained directory:
 *
 *   manifest.json        format ('genir-dense-model') and versions, dataset, sizes, every file with size and sha256
 *   config.json          HF T5 config (architectures T5EncoderModel) with genir's `genir_dense` block
 *   model.safetensors    the encoder's weights (HF T5 names)
 *   tokenizer.json       HF tokenizer.json; its added tokens <docid_0> and <docid_1> are the query and passage markers
 *   vectors.npy          float32 [documents, d_model], unit-length document vectors
 *   vectors.ids.txt      the document id of each row (so `--embeddings <dir>/vectors.npy` reads it)
 *   docs.jsonl           {"id", "title"} per row, to print results
 *   onnx/encoder.onnx    the encoder with its weights baked in (input_ids, attention_mask, encoder_position_buckets → embedding)
 *
 * Written and verified like the seq2seq model directory (directory.ts): staged and renamed
 * into place, every file checked against the manifest before anything is parsed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportModel } from '../engine/index.js';
import { encodeNpy, parseNpy } from '../docids/embeddings.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { UserError } from '../util/errors.js';
import { CONFIG_FILE, WEIGHTS_FILE } from '../model/checkpoint.js';
import { totalVocabSize } from '../model/config.js';
import { DENSE_MARKER_COUNT, DenseModel, type DenseRuntimeOptions } from '../model/dense.js';
import { buildDenseEncoderGraph, encoderParameterSpecs } from '../model/dense-graph.js';
import {
  MANIFEST_FILE,
  TOKENIZER_FILE,
  checkFileList,
  checkIsDirectory,
  corpusFingerprint,
  genirVersion,
  listCheckpointFiles,
  parseJson,
  parsing,
  verifyModelDirectory,
  writeExtraFiles,
  writeModelDirectory,
  type ManifestCommon,
  type SavedDirectoryCommon,
} from './directory.js';
import { inferenceParams } from '../model/t5-graph.js';

export const DENSE_FORMAT_NAME = 'genir-dense-model';
export const DENSE_FORMAT_VERSION = 1;
export const VECTORS_FILE = 'vectors.npy';
export const VECTOR_IDS_FILE = 'vectors.ids.txt';
export const DENSE_DOCS_FILE = 'docs.jsonl';
export const DENSE_ONNX_ENCODER_FILE = 'onnx/encoder.onnx';
const REQUIRED_FILES = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, VECTORS_FILE, VECTOR_IDS_FILE, DENSE_DOCS_FILE] as const;

export interface DenseManifest extends ManifestCommon {
  format: typeof DENSE_FORMAT_NAME;
  model: { parameters: number; vocabSize: number; dModel: number; numLayers: number };
  dense: {
    documents: number;
    dim: number;
    temperature: { kind: 'fixed' | 'learned'; value: number };
    maxQueryTokens: number;
    maxPassageTokens: number;
  };
  corpus: { keys: number; sha256: string };
  onnx: { encoder: string } | null;
}

export interface DenseDirectoryContents extends SavedDirectoryCommon {
  model: DenseModel;
  /** Document ids, one per vector row. */
  ids: readonly string[];
  titles: readonly string[];
  /** Unit-length vectors [ids.length, d_model]. */
  vectors: Float32Array;
}

export interface LoadedDenseDirectory {
  dir: string;
  manifest: DenseManifest;
  model: DenseModel;
  tokenizer: SubwordTokenizer;
  ids: string[];
  titles: string[];
  vectors: Float32Array;
  dim: number;
}

/** The `format` a model directory's manifest names, or undefined when there is no readable manifest. */
export function modelDirectoryFormat(dir: string): string | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown } | null;
    return typeof json?.format === 'string' ? json.format : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds a dense retriever (its manifest says so). */
export function isDenseModelDirectory(dir: string): boolean {
  return modelDirectoryFormat(dir) === DENSE_FORMAT_NAME;
}

export async function saveDenseModelDirectory(dir: string, contents: DenseDirectoryContents): Promise<DenseManifest> {
  const { model, tokenizer, ids, titles, vectors } = contents;
  const d = model.config.dModel;
  if (tokenizer.vocabSize !== totalVocabSize(model.config))
    throw new Error(`saveDenseModelDirectory: tokenizer has ${tokenizer.vocabSize} ids, the model ${totalVocabSize(model.config)}`);
  if (vectors.length !== ids.length * d || titles.length !== ids.length)
    throw new Error('saveDenseModelDirectory: vectors, ids and titles do not match');
  if (ids.some((id) => /[\r\n]/.test(id)))
    throw new UserError('dense model: a document id contains a line break; ids are stored one per line');
  return writeModelDirectory(dir, async (staging, files, write) => {
    await model.save(staging);
    listCheckpointFiles(staging, files);
    write(TOKENIZER_FILE, tokenizer.toJson());
    write(VECTORS_FILE, encodeNpy(vectors, ids.length, d));
    write(VECTOR_IDS_FILE, ids.map((id) => `${id}\n`).join(''));
    write(DENSE_DOCS_FILE, ids.map((id, i) => `${JSON.stringify({ id, title: titles[i] })}\n`).join(''));
    const withOnnx = contents.onnx ?? true;
    if (withOnnx) {
      const graph = buildDenseEncoderGraph(model.config, { fuseForInference: true });
      write(DENSE_ONNX_ENCODER_FILE, exportModel(graph, { params: inferenceParams(graph, model.weights()) }).bytes);
    }
    writeExtraFiles(contents.extraFiles, files, write);
    const parameters = encoderParameterSpecs(model.config).reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
    const manifest: DenseManifest = {
      format: DENSE_FORMAT_NAME,
      formatVersion: DENSE_FORMAT_VERSION,
      genirVersion: genirVersion(),
      createdAt: new Date().toISOString(),
      dataset: contents.dataset,
      model: { parameters, vocabSize: totalVocabSize(model.config), dModel: d, numLayers: model.config.numLayers },
      dense: {
        documents: ids.length,
        dim: d,
        temperature: { kind: model.settings.temperature.kind, value: model.temperature() },
        maxQueryTokens: model.settings.maxQueryTokens,
        maxPassageTokens: model.settings.maxPassageTokens,
      },
      corpus: { keys: ids.length, sha256: corpusFingerprint(ids) },
      onnx: withOnnx ? { encoder: DENSE_ONNX_ENCODER_FILE } : null,
      files,
      ...(contents.extra ? { extra: contents.extra } : {}),
    };
    return manifest;
  });
}

/** Reads and checks a dense model's manifest.json. */
export function readDenseManifest(dir: string): DenseManifest {
  const path = join(dir, MANIFEST_FILE);
  checkIsDirectory(dir, 'genir train dense --out writes dense model directories');
  if (!existsSync(path))
    throw new UserError(`${path}: missing; ${dir} is not a genir model directory (genir train dense --out writes one)`);
  const json = parseJson(path, readFileSync(path, 'utf8')) as Partial<DenseManifest> | null;
  if (typeof json !== 'object' || json === null || json.format !== DENSE_FORMAT_NAME) {
    throw new UserError(
      `${path}: not a dense retriever's manifest (format '${String(json?.format)}'; genir train dense writes '${DENSE_FORMAT_NAME}')`,
    );
  }
  if (json.formatVersion !== DENSE_FORMAT_VERSION) {
    throw new UserError(
      `${path}: dense model format version ${String(json.formatVersion)}; this genir (${genirVersion()}) reads version ${DENSE_FORMAT_VERSION}`,
    );
  }
  checkFileList(path, json, REQUIRED_FILES);
  if (typeof json.dense?.documents !== 'number' || typeof json.dense.dim !== 'number')
    throw new UserError(`${path}: malformed dense sizes`);
  return json as DenseManifest;
}

/** Loads and cross-checks a dense model directory; `bake` fuses the weights into the encoder (search). */
export async function loadDenseModelDirectory(
  dir: string,
  options: DenseRuntimeOptions & { verify?: 'sha256' | 'size' } = {},
): Promise<LoadedDenseDirectory> {
  const root = resolve(dir);
  const manifest = readDenseManifest(root);
  verifyModelDirectory(root, { files: manifest.files }, options.verify);
  const model = parsing(join(root, WEIGHTS_FILE), 'dense encoder weights', () => DenseModel.load(root, options));
  const tokenizerPath = join(root, TOKENIZER_FILE);
  const tokenizer = parsing(tokenizerPath, 'a tokenizer', () => SubwordTokenizer.fromFile(tokenizerPath));
  if (tokenizer.vocabSize !== totalVocabSize(model.config) || tokenizer.docidCount < DENSE_MARKER_COUNT) {
    throw new UserError(
      `${tokenizerPath}: ${tokenizer.vocabSize} token ids (${tokenizer.docidCount} added), but ${CONFIG_FILE} describes ${totalVocabSize(model.config)} with ${DENSE_MARKER_COUNT} markers`,
    );
  }
  const vectorsPath = join(root, VECTORS_FILE);
  const { shape, data } = parsing(vectorsPath, 'document vectors', () => parseNpy(readFileSync(vectorsPath), vectorsPath));
  const [rows, dim] = shape;
  if (dim !== model.config.dModel)
    throw new UserError(`${vectorsPath}: vectors of dimension ${dim}, but the encoder outputs ${model.config.dModel}`);
  const idsPath = join(root, VECTOR_IDS_FILE);
  const ids = readFileSync(idsPath, 'utf8').split('\n');
  if (ids[ids.length - 1] === '') ids.pop();
  if (ids.length !== rows) throw new UserError(`${idsPath}: ${ids.length} ids, but ${VECTORS_FILE} has ${rows} rows`);
  const docsPath = join(root, DENSE_DOCS_FILE);
  const titles = readFileSync(docsPath, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line, i) => {
      const row = parseJson(`${docsPath}:${i + 1}`, line) as { id?: unknown; title?: unknown } | null;
      if (typeof row?.id !== 'string' || typeof row.title !== 'string' || row.id !== ids[i])
        throw new UserError(`${docsPath}:${i + 1}: expected {"id": "${ids[i] ?? ''}", "title": string}`);
      return row.title;
    });
  if (titles.length !== rows) throw new UserError(`${docsPath}: ${titles.length} documents, but ${VECTORS_FILE} has ${rows} rows`);
  if (manifest.dense.documents !== rows || manifest.dense.dim !== dim) {
    throw new UserError(
      `${join(root, MANIFEST_FILE)}: records ${manifest.dense.documents} × ${manifest.dense.dim} vectors, but ${VECTORS_FILE} is ${rows} × ${dim}`,
    );
  }
  return { dir: root, manifest, model, tokenizer, ids, titles, vectors: data, dim };
}
