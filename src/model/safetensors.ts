/**
 * The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON mapping each tensor name to
 * { dtype, shape, data_offsets: [begin, end] } (offsets relative to the data that follows)
 * plus an optional "__metadata__" map of strings, then the raw little-endian data.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { AtomicWriteStream } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export type TensorArray = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** F16 and BF16 come as raw Uint16Array bit patterns; use `toFloat32` for values. */
  data: TensorArray;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The safetensors dtype a typed array is written as. */
function dtypeOf(data: TensorArray): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint16Array)
    throw new Error('safetensors: a Uint16Array is ambiguous (F16 or BF16); pass a StoredTensor with its dtype');
  return 'U8';
}

export type TensorInput = StoredTensor | { shape: readonly number[]; data: TensorArray };

function checkLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: only little-endian hosts are supported');
}

function byteView(data: TensorArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Builds the header bytes (length prefix + JSON padded with spaces so the data starts 8-byte aligned). */
function encodeHeader(tensors: ReadonlyMap<string, TensorInput>, metadata: Record<string, string> | undefined): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor may not be called __metadata__');
    const dtype = 'dtype' in tensor ? tensor.dtype : dtypeOf(tensor.data);
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) {
      throw new Error(`safetensors: tensor '${name}' has ${tensor.data.length} values but shape [${tensor.shape.join(', ')}]`);
    }
    const size = count * BYTES[dtype];
    if (size !== tensor.data.byteLength) throw new Error(`safetensors: tensor '${name}': ${dtype} data of the wrong element size`);
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let jsonBytes = encoder.encode(json);
  const pad = (8 - ((8 + jsonBytes.length) % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    jsonBytes = encoder.encode(json);
  }
  const out = new Uint8Array(8 + jsonBytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  return out;
}

/** The whole file in memory. */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  checkLittleEndian();
  const header = encodeHeader(tensors, metadata);
  let total = header.length;
  for (const tensor of tensors.values()) total += tensor.data.byteLength;
  const out = new Uint8Array(total);
  out.set(header, 0);
  let offset = header.length;
  for (const tensor of tensors.values()) {
    out.set(byteView(tensor.data), offset);
    offset += tensor.data.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically, streaming tensor by tensor (no second copy of the weights). */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  checkLittleEndian();
  const header = encodeHeader(tensors, metadata);
  const out = new AtomicWriteStream(path);
  try {
    await out.write(header);
    for (const tensor of tensors.values()) {
      // Copy: the stream may hold the chunk after write() returns and callers may keep training.
      await out.write(Uint8Array.prototype.slice.call(byteView(tensor.data)));
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes; `file` names the source in UserErrors. Tensor data is copied out. */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  checkLittleEndian();
  const fail = (message: string): never => {
    throw new UserError(`${file}: not a valid safetensors file: ${message}`);
  };
  if (bytes.length < 8) fail('shorter than its 8-byte header length');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(`header length ${headerLength} exceeds the file size ${bytes.length}`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map names to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const info = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(`tensor '${name}' has no description`);
    const dtype = info.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(info.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor '${name}' has a bad shape`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isInteger(o) || o < 0))
      fail(`tensor '${name}' has bad data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength) fail(`tensor '${name}' data_offsets [${begin}, ${end}] fall outside the ${dataLength} data bytes`);
    if (end - begin !== count * BYTES[dtype])
      fail(`tensor '${name}' holds ${end - begin} bytes, but ${dtype}[${(shape as number[]).join(', ')}] needs ${count * BYTES[dtype]}`);
    // Copy into a fresh, aligned buffer: offsets in foreign files need not be aligned, and
    // Buffer.slice would return a view into Node's shared pool.
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape: shape as number[], data: viewAs(dtype, raw.buffer) });
  }
  return { tensors, metadata };
}

function viewAs(dtype: SafetensorsDtype, buffer: ArrayBuffer): TensorArray {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer);
    case 'F32':
      return new Float32Array(buffer);
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer);
    case 'I64':
      return new BigInt64Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'I16':
      return new Int16Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer);
  }
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read safetensors file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

/** Float values of a floating-point tensor (F32 returned as is; F16, BF16 and F64 converted). */
export function toFloat32(tensor: StoredTensor): Float32Array {
  const { dtype, data } = tensor;
  if (dtype === 'F32') return data as Float32Array;
  if (dtype === 'F64') return Float32Array.from(data as Float64Array);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(data.length);
    const half = data as Uint16Array;
    for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
    return new Float32Array(bits.buffer);
  }
  if (dtype === 'F16') {
    const half = data as Uint16Array;
    const out = new Float32Array(half.length);
    for (let i = 0; i < half.length; i++) out[i] = halfToFloat(half[i]);
    return out;
  }
  throw new Error(`safetensors: dtype ${dtype} is not a float type`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
