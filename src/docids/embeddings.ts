/**
 * Document vectors for the PQ and semantic docid schemes: built in (TF-IDF →
 * randomized truncated SVD, i.e. LSA) or read from a user's file (`.npy` with an
 * ids file, or JSONL), e.g. GTR-T5 vectors as DDRO used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UserError, warn, where } from '../util/errors.js';
import { randomizedSvd } from './svd.js';
import { sampleIndices } from './sample.js';
import { csrRows, type CsrMatrix } from './sparse.js';
import { tfidfMatrix, type Analyze } from './tfidf.js';

export interface DocVectors {
  dim: number;
  /** One row per document, row-major, n × dim. */
  vectors: Float32Array;
}

/** Scales every row to unit length in place; all-zero rows stay zero. */
export function l2NormalizeRows(vectors: Float32Array, n: number, dim: number): void {
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vectors[r * dim + d] ** 2;
    if (norm === 0) continue;
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) vectors[r * dim + d] *= scale;
  }
}

/** 128 dimensions, but never more than n − 1 or the number of distinct terms (at least 1). */
export function defaultLsaDims(documents: number, terms: number): number {
  return Math.max(1, Math.min(128, documents - 1, terms));
}

export interface LsaOptions {
  /** Default: {@link defaultLsaDims}. */
  dims?: number;
  seed?: number;
  analyze?: Analyze;
  /** Language of each text, passed to `analyze`. */
  langs?: readonly (string | undefined)[];
  powerIterations?: number;
  minDocFreq?: number;
  maxTerms?: number;
  /**
   * Fit the SVD on at most this many documents (a seeded random sample; default 65,536) and
   * project every document onto the fitted term-side vectors, as FAISS trains on a sample and
   * assigns all: the SVD's cost then stops growing with the corpus, and the projection is one
   * pass over the TF-IDF entries. Corpora up to this size are decomposed whole, as before.
   */
  fitSample?: number;
}

/** LSA vectors: rows of U·Σ of the TF-IDF matrix's truncated SVD (A·V for a sampled fit), L2-normalized. */
export function lsaEmbeddings(texts: readonly string[], options: LsaOptions = {}): DocVectors {
  const { seed = 0, analyze, langs, powerIterations = 2, minDocFreq, maxTerms, fitSample = 65_536 } = options;
  const { matrix } = tfidfMatrix(texts, { analyze, langs, minDocFreq, maxTerms });
  const n = texts.length;
  const dims = options.dims ?? defaultLsaDims(n, matrix.cols);
  if (matrix.cols === 0) {
    // No words at all (e.g. empty texts): every document gets the same zero vector.
    return { dim: dims, vectors: new Float32Array(n * dims) };
  }
  const vectors = new Float32Array(n * dims);
  if (n <= fitSample) {
    const svd = randomizedSvd(matrix, dims, { seed, powerIterations });
    for (let t = 0; t < svd.rank; t++) {
      for (let r = 0; r < n; r++) vectors[r * dims + t] = svd.u[t * n + r] * svd.s[t];
    }
  } else {
    const sample = sampleIndices(n, fitSample, seed);
    const svd = randomizedSvd(csrRows(matrix, sample), dims, { seed, powerIterations, rightVectors: true });
    // U·Σ = A·V on the rows the SVD saw; the same product places every other row.
    projectRows(matrix, svd.v as Float64Array, svd.rank, vectors, dims);
  }
  l2NormalizeRows(vectors, n, dims);
  return { dim: dims, vectors };
}

/** out[r, t] = A[r, :] · V[:, t] for t < rank, where V is cols × rank column-major and out is rows × width row-major. */
function projectRows(a: CsrMatrix, v: Float64Array, rank: number, out: Float32Array, width: number): void {
  // Row-major V so that each stored entry of A updates `rank` contiguous values.
  const vRows = new Float64Array(a.cols * rank);
  for (let t = 0; t < rank; t++) for (let c = 0; c < a.cols; c++) vRows[c * rank + t] = v[t * a.cols + c];
  const sum = new Float64Array(rank);
  for (let r = 0; r < a.rows; r++) {
    sum.fill(0);
    for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) {
      const value = a.values[p];
      const offset = a.indices[p] * rank;
      for (let t = 0; t < rank; t++) sum[t] += value * vRows[offset + t];
    }
    for (let t = 0; t < rank; t++) out[r * width + t] = sum[t];
  }
}

/** Vectors as read from a file, in the file's order. */
export interface VectorFile {
  file: string;
  ids: string[];
  dim: number;
  vectors: Float32Array;
}

interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Parses a NumPy `.npy` file holding little-endian float32 or float64 values. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new UserError(`${where(file)}not a .npy file (bad magic bytes)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new UserError(`${where(file)}truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new UserError(`${where(file)}unsupported .npy format version ${major}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new UserError(`${where(file)}truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?)([a-zA-Z])(\d+)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) throw new UserError(`${where(file)}malformed .npy header: ${header.trim()}`);
  const [, order, kind, sizeText] = descr;
  const itemSize = Number(sizeText);
  if (kind !== 'f' || (itemSize !== 4 && itemSize !== 8)) {
    throw new UserError(`${where(file)}dtype ${order}${kind}${itemSize} is not supported; save the array as float32 or float64`);
  }
  if (order === '>' || (order === '=' && endianness() !== 'LE')) {
    throw new UserError(`${where(file)}big-endian arrays are not supported; save with dtype '<f4'`);
  }
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.length !== 2 || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new UserError(`${where(file)}expected a 2-D array (documents × dimensions), got shape (${shapeMatch[1].trim()})`);
  }
  const [rows, cols] = shape;
  const expected = rows * cols * itemSize;
  if (bytes.length - dataStart !== expected) {
    throw new UserError(`${where(file)}shape (${rows}, ${cols}) needs ${expected} data bytes, the file has ${bytes.length - dataStart}`);
  }
  // Copying into a fresh buffer gives the typed array the alignment it needs (and a
  // Node Buffer's slice() would be a view into a shared pool, not a copy).
  const copy = new Uint8Array(expected);
  copy.set(bytes.subarray(dataStart, dataStart + expected));
  const raw = copy.buffer;
  let values: Float32Array;
  if (endianness() === 'LE') {
    values = itemSize === 4 ? new Float32Array(raw) : Float32Array.from(new Float64Array(raw));
  } else {
    const dv = new DataView(raw);
    values = new Float32Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = itemSize === 4 ? dv.getFloat32(i * 4, true) : dv.getFloat64(i * 8, true);
  }
  if (fortran[1] === 'True') {
    const rowMajor = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) rowMajor[r * cols + c] = values[c * rows + r];
    values = rowMajor;
  }
  return { shape, data: values };
}

/** The ids file a `.npy` file pairs with when none is named: `x.ids.txt`, then `ids.txt` beside it. */
export function defaultIdsPath(npyPath: string): string | undefined {
  const stem = npyPath.replace(/\.npy$/i, '');
  const candidates = [`${stem}.ids.txt`, join(dirname(npyPath), 'ids.txt')];
  return candidates.find((c) => existsSync(c));
}

function readIds(idsPath: string): string[] {
  const lines = readFileSync(idsPath, 'utf8').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const id = line.trim();
    if (id === '') throw new UserError(`${where(idsPath, i + 1)}empty document id`);
    if (seen.has(id)) throw new UserError(`${where(idsPath, i + 1)}duplicate document id '${id}'`);
    seen.add(id);
  });
  return lines.map((l) => l.trim());
}

function checkFinite(vectors: Float32Array, dim: number, file: string, ids: string[]): void {
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) {
      const row = Math.floor(i / dim);
      throw new UserError(`${where(file)}vector of '${ids[row]}' (row ${row + 1}) holds a non-finite value`);
    }
  }
}

/**
 * Reads a vector file: `.npy` (2-D float32/float64, little-endian) with an ids file
 * of one document id per line in row order, or JSONL with one
 * `{"id": …, "vector": [...]}` object per line.
 */
export function readVectorFile(path: string, idsPath?: string): VectorFile {
  if (!existsSync(path)) throw new UserError(`${where(path)}no such embeddings file`);
  if (/\.npy$/i.test(path)) {
    const idsFile = idsPath ?? defaultIdsPath(path);
    if (!idsFile) {
      throw new UserError(
        `${where(path)}a .npy file needs an ids file (one document id per line, in row order): name it or put it at ${basename(path).replace(/\.npy$/i, '')}.ids.txt`,
      );
    }
    if (!existsSync(idsFile)) throw new UserError(`${where(idsFile)}no such ids file`);
    const { shape, data } = parseNpy(readFileSync(path), path);
    const ids = readIds(idsFile);
    if (ids.length !== shape[0]) {
      throw new UserError(`${where(idsFile)}${ids.length} ids, but ${basename(path)} has ${shape[0]} rows`);
    }
    checkFinite(data, shape[1], path, ids);
    return { file: path, ids, dim: shape[1], vectors: data };
  }
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const ids: string[] = [];
  const seen = new Set<string>();
  const rows: number[][] = [];
  let dim = -1;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UserError(`${where(path, i + 1)}not valid JSON`);
    }
    const { id, vector } = (record ?? {}) as { id?: unknown; vector?: unknown };
    if (typeof id !== 'string' && typeof id !== 'number') throw new UserError(`${where(path, i + 1)}missing "id" (string)`);
    if (!Array.isArray(vector) || vector.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new UserError(`${where(path, i + 1)}"vector" must be an array of finite numbers`);
    }
    if (dim < 0) dim = vector.length;
    if (vector.length !== dim || dim === 0) {
      throw new UserError(`${where(path, i + 1)}vector has ${vector.length} dimensions, earlier lines have ${dim}`);
    }
    const key = String(id);
    if (seen.has(key)) throw new UserError(`${where(path, i + 1)}duplicate id '${key}'`);
    seen.add(key);
    ids.push(key);
    rows.push(vector as number[]);
  });
  if (rows.length === 0) throw new UserError(`${where(path)}no vectors`);
  const vectors = new Float32Array(rows.length * dim);
  rows.forEach((row, r) => vectors.set(row, r * dim));
  return { file: path, ids, dim, vectors };
}

/**
 * Orders a file's vectors by `keys` (the corpus's document ids). A key without a
 * vector is an error; vectors of ids outside the corpus are ignored with a warning.
 */
export function alignVectors(file: VectorFile, keys: readonly string[]): DocVectors {
  const row = new Map<string, number>();
  file.ids.forEach((id, i) => row.set(id, i));
  const out = new Float32Array(keys.length * file.dim);
  const missing: string[] = [];
  keys.forEach((key, i) => {
    const r = row.get(key);
    if (r === undefined) missing.push(key);
    else out.set(file.vectors.subarray(r * file.dim, (r + 1) * file.dim), i * file.dim);
  });
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 3)
      .map((m) => `'${m}'`)
      .join(', ');
    throw new UserError(`${where(file.file)}no vector for ${missing.length} of ${keys.length} corpus documents (e.g. ${shown})`);
  }
  const extra = file.ids.length - keys.length;
  if (extra > 0) warn(`${file.file}: ${extra} vectors belong to ids outside the corpus and are ignored`);
  return { dim: file.dim, vectors: out };
}

/**
 * A NumPy `.npy` file (format 1.0, little-endian, C order) holding a 2-D float32 array of
 * `rows` × `cols`, or int8 when `values` is an Int8Array. The header is padded so the data
 * starts at a multiple of 64 bytes, as NumPy writes it.
 */
export function encodeNpy(values: Float32Array | Int8Array, rows: number, cols: number): Uint8Array {
  if (values.length !== rows * cols) throw new RangeError(`encodeNpy: ${values.length} values for shape (${rows}, ${cols})`);
  const descr = values instanceof Int8Array ? '|i1' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (values instanceof Float32Array && endianness() !== 'LE') {
    const view = new DataView(out.buffer, 10 + header.length);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  } else {
    out.set(data, 10 + header.length);
  }
  return out;
}
