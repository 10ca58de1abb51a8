/**
 * Docid files (`docids.bin`): a compact, versioned binary format, written atomically.
 *
 *   bytes 0–7    magic "GENIRDID"
 *   u32 LE       format version (1)
 *   u32 LE       header length H
 *   H bytes      UTF-8 JSON header: scheme, layout, params, count, tokenCount, keys, labels?
 *   0–3 bytes    zero padding to a multiple of 4
 *   i32 LE × (count + 1)   offsets
 *   i32 LE × tokenCount    tokens (model output ids)
 *   u32 LE       CRC-32 of every byte before it
 *
 * The trie is rebuilt from the sequences on load (linear time, deterministic).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic.js';
import { UserError, where } from '../util/errors.js';
import { DOCID_SCHEMES, DocidTable, type DocidLayout, type DocidParams, type DocidScheme } from './table.js';

const MAGIC = 'GENIRDID';
export const DOCID_FORMAT_VERSION = 1;

interface Header {
  scheme: DocidScheme;
  layout: DocidLayout;
  params: DocidParams;
  count: number;
  tokenCount: number;
  keys: string[];
  labels?: string[];
}

/** Serializes a table to bytes (see the format above). */
export function encodeDocids(table: DocidTable): Uint8Array {
  const header: Header = {
    scheme: table.scheme,
    layout: { ...table.layout },
    params: { ...table.params },
    count: table.size,
    tokenCount: table.tokens.length,
    keys: [...table.keys],
    ...(table.labels ? { labels: [...table.labels] } : {}),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 16 + headerBytes.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const total = dataStart + 4 * (table.offsets.length + table.tokens.length) + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, DOCID_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, 16);
  let position = dataStart;
  for (const value of table.offsets) {
    view.setInt32(position, value, true);
    position += 4;
  }
  for (const value of table.tokens) {
    view.setInt32(position, value, true);
    position += 4;
  }
  view.setUint32(position, crc32(out.subarray(0, position)), true);
  return out;
}

/** Parses bytes written by {@link encodeDocids}; `file` names the source in errors. */
export function decodeDocids(bytes: Uint8Array, file: string): DocidTable {
  const fail = (why: string): never => {
    throw new UserError(`${where(file)}${why}`);
  };
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail('not a genir docid file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== DOCID_FORMAT_VERSION) {
    fail(
      `docid file format version ${version}; this genir reads version ${DOCID_FORMAT_VERSION} (rebuild the docids or use a matching genir)`,
    );
  }
  const storedCrc = view.getUint32(bytes.length - 4, true);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== storedCrc) fail('corrupt docid file (checksum mismatch)');
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail('corrupt docid file (header runs past the end)');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerLength))) as Header;
  } catch {
    return fail('corrupt docid file (unreadable header)');
  }
  const { scheme, layout, params, count, tokenCount, keys, labels } = header ?? {};
  if (
    !DOCID_SCHEMES.includes(scheme) ||
    typeof layout !== 'object' ||
    layout === null ||
    !Number.isInteger(count) ||
    !Number.isInteger(tokenCount) ||
    !Array.isArray(keys) ||
    keys.length !== count ||
    keys.some((k) => typeof k !== 'string') ||
    (labels !== undefined && (!Array.isArray(labels) || labels.length !== count))
  ) {
    fail('corrupt docid file (header fields missing or inconsistent)');
  }
  const dataStart = Math.ceil((16 + headerLength) / 4) * 4;
  if (dataStart + 4 * (count + 1 + tokenCount) + 4 !== bytes.length) fail('corrupt docid file (size does not match its header)');
  const offsets = new Int32Array(count + 1);
  const tokens = new Int32Array(tokenCount);
  let position = dataStart;
  for (let i = 0; i < offsets.length; i++, position += 4) offsets[i] = view.getInt32(position, true);
  for (let i = 0; i < tokens.length; i++, position += 4) tokens[i] = view.getInt32(position, true);
  try {
    return new DocidTable({ scheme, layout, params: params ?? {}, keys, labels, offsets, tokens });
  } catch (err) {
    return fail(`invalid docids: ${(err as Error).message}`);
  }
}

export function saveDocidsSync(table: DocidTable, path: string): void {
  writeFileAtomicSync(path, encodeDocids(table));
}

export async function saveDocids(table: DocidTable, path: string): Promise<void> {
  await writeFileAtomic(path, encodeDocids(table));
}

function readError(err: unknown, path: string): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UserError(`${where(path)}${code === 'ENOENT' ? 'no such docid file' : `cannot read docid file (${code ?? String(err)})`}`);
}

export function loadDocidsSync(path: string): DocidTable {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw readError(err, path);
  }
  return decodeDocids(bytes, path);
}

export async function loadDocids(path: string): Promise<DocidTable> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw readError(err, path);
  }
  return decodeDocids(bytes, path);
}
