import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { isAnalyzerName } from '../text/analyzers/index.js';
import { AtomicWriteStream } from '../util/atomic.js';
import { UserError, where } from '../util/errors.js';
import { FIELD_NAMES, type FieldMode, type FieldPostings, type IndexData } from './types.js';

/**
 * The on-disk BM25 index (one file, little-endian):
 *
 *   0   8 bytes  magic "\x89GBM25\r\n" (the high byte and CR LF catch text-mode mangling)
 *   8   u32      format version (FORMAT_VERSION)
 *   12  u32      header length H
 *   16  H bytes  header, UTF-8 JSON: analyzer, field mode, counts, field statistics, and
 *                the byte offset and length of every section
 *   …            sections, each starting at a multiple of 8: document ids and terms (UTF-8
 *                text plus UTF-16 offsets), the id-order ranks, then per field: CSR
 *                offsets, posting documents, posting frequencies, norms
 *   end − 32     SHA-256 of every byte before it
 *
 * Loading checks the magic, the version, the total length and the checksum before it
 * trusts any offset, so a truncated, corrupted or foreign file is a one-line UserError.
 */
export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from([0x89, 0x47, 0x42, 0x4d, 0x32, 0x35, 0x0d, 0x0a]);
const PREFIX_BYTES = 16;
const CHECKSUM_BYTES = 32;
const ALIGN = 8;

type SectionType = 'u8' | 'u16' | 'u32';

interface SectionEntry {
  name: string;
  type: SectionType;
  offset: number;
  /** Element count. */
  length: number;
}

interface FieldHeader {
  name: string;
  docCount: number;
  sumTotalTermFreq: number;
  postings: number;
  freqType: 'u16' | 'u32';
}

interface Header {
  analyzer: { name: string; lang: string };
  fieldMode: FieldMode;
  documents: number;
  terms: number;
  fields: FieldHeader[];
  sections: SectionEntry[];
  fileBytes: number;
}

const BYTES_PER: Record<SectionType, number> = { u8: 1, u16: 2, u32: 4 };

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings as one UTF-8 blob plus UTF-16 end offsets into its decoded text. */
function packStrings(strings: readonly string[], what: string): { text: Uint8Array; ends: Uint32Array } {
  const joined = strings.join('');
  if (LONE_SURROGATE.test(joined)) throw new UserError(`cannot save the index: a ${what} holds an unpaired UTF-16 surrogate`);
  const ends = new Uint32Array(strings.length);
  let end = 0;
  for (let i = 0; i < strings.length; i++) {
    end += strings[i].length;
    ends[i] = end;
  }
  return { text: new TextEncoder().encode(joined), ends };
}

/** Writes the index atomically (temp file + rename). */
export async function saveIndex(data: IndexData, path: string): Promise<void> {
  const ids = packStrings(data.docIds, 'document id');
  const terms = packStrings(data.terms, 'term');
  const payloads: { entry: Omit<SectionEntry, 'offset'>; bytes: Uint8Array }[] = [];
  const add = (name: string, type: SectionType, array: Uint8Array | Uint16Array | Uint32Array) => {
    payloads.push({ entry: { name, type, length: array.length }, bytes: new Uint8Array(array.buffer, array.byteOffset, array.byteLength) });
  };
  add('docIds.text', 'u8', ids.text);
  add('docIds.ends', 'u32', ids.ends);
  add('terms.text', 'u8', terms.text);
  add('terms.ends', 'u32', terms.ends);
  add('docIdOrder', 'u32', data.docIdOrder);
  for (const field of data.fields) {
    add(`${field.name}.offsets`, 'u32', field.offsets);
    add(`${field.name}.docs`, 'u32', field.docs);
    add(`${field.name}.freqs`, field.freqs instanceof Uint16Array ? 'u16' : 'u32', field.freqs);
    add(`${field.name}.norms`, 'u8', field.norms);
  }
  const fields: FieldHeader[] = data.fields.map((field) => ({
    name: field.name,
    docCount: field.docCount,
    sumTotalTermFreq: field.sumTotalTermFreq,
    postings: field.docs.length,
    freqType: field.freqs instanceof Uint16Array ? 'u16' : 'u32',
  }));
  // The header's length depends on the offsets it lists, which depend on its length:
  // lay out with a guess and repeat until the padded header size settles.
  const layout = (headerGuess: number): { header: Header; headerBytes: Buffer } => {
    let offset = alignUp(PREFIX_BYTES + headerGuess);
    const sections: SectionEntry[] = payloads.map(({ entry, bytes }) => {
      const placed = { ...entry, offset };
      offset = alignUp(offset + bytes.byteLength);
      return placed;
    });
    const header: Header = {
      analyzer: { ...data.analyzer },
      fieldMode: data.fieldMode,
      documents: data.docIds.length,
      terms: data.terms.length,
      fields,
      sections,
      fileBytes: offset + CHECKSUM_BYTES,
    };
    return { header, headerBytes: Buffer.from(JSON.stringify(header), 'utf8') };
  };
  let guess = 0;
  let { header, headerBytes } = layout(guess);
  while (alignUp(PREFIX_BYTES + headerBytes.length) !== alignUp(PREFIX_BYTES + guess)) {
    guess = headerBytes.length;
    ({ header, headerBytes } = layout(guess));
  }
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(FORMAT_VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);

  const hash = createHash('sha256');
  const out = new AtomicWriteStream(path);
  let written = 0;
  const emit = async (chunk: Uint8Array) => {
    hash.update(chunk);
    written += chunk.byteLength;
    await out.write(chunk);
  };
  const padTo = async (offset: number) => {
    if (offset > written) await emit(new Uint8Array(offset - written));
  };
  try {
    await emit(prefix);
    await emit(headerBytes);
    for (let i = 0; i < payloads.length; i++) {
      await padTo(header.sections[i].offset);
      // Copy: the stream may hold the chunk after we return, and shared memory can change.
      await emit(Buffer.from(payloads[i].bytes));
    }
    await padTo(header.fileBytes - CHECKSUM_BYTES);
    await out.write(hash.digest());
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}

function fail(path: string, reason: string): never {
  throw new UserError(`${where(path)}${reason}`);
}

/** Reads an index written by saveIndex; its arrays land in SharedArrayBuffers for worker threads. */
export async function loadIndex(path: string): Promise<IndexData> {
  let file: Buffer;
  try {
    file = await fsp.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(path, code === 'ENOENT' ? 'no such index file' : `cannot read the index (${code ?? String(err)})`);
  }
  return decodeIndex(file, path);
}

/** Decodes the bytes of an index file; `path` names it in errors. */
export function decodeIndex(file: Uint8Array, path: string): IndexData {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < PREFIX_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    fail(path, 'not a genir BM25 index (bad magic bytes)');
  }
  const version = bytes.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    fail(path, `BM25 index format version ${version} is not supported (this genir reads version ${FORMAT_VERSION}); rebuild the index`);
  }
  const headerLength = bytes.readUInt32LE(12);
  if (PREFIX_BYTES + headerLength + CHECKSUM_BYTES > bytes.length) fail(path, `truncated BM25 index (${bytes.length} bytes)`);
  // The header is parsed before the checksum is verified only to tell a truncated file
  // from a corrupted one; nothing in it is trusted until the checksum matches.
  let parsed: Header | undefined;
  try {
    parsed = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength)) as Header;
  } catch {
    parsed = undefined;
  }
  const declaredBytes = typeof parsed?.fileBytes === 'number' ? parsed.fileBytes : undefined;
  if (declaredBytes !== undefined && bytes.length < declaredBytes)
    fail(path, `truncated BM25 index (${bytes.length} of ${declaredBytes} bytes)`);
  if (declaredBytes !== undefined && bytes.length > declaredBytes) {
    fail(path, `corrupt BM25 index (${bytes.length - declaredBytes} unexpected bytes at the end)`);
  }
  const bodyEnd = bytes.length - CHECKSUM_BYTES;
  const digest = createHash('sha256').update(bytes.subarray(0, bodyEnd)).digest();
  if (!digest.equals(bytes.subarray(bodyEnd))) fail(path, 'corrupt BM25 index (checksum mismatch)');
  if (parsed === undefined || declaredBytes === undefined) fail(path, 'corrupt BM25 index (unreadable header)');
  const header = parsed;
  if (!isAnalyzerName(header.analyzer.name)) fail(path, `unknown analyzer '${header.analyzer.name}' in the index`);
  if (header.fieldMode !== 'flat' && header.fieldMode !== 'multi')
    fail(path, `unknown field mode '${String(header.fieldMode)}' in the index`);

  const sections = new Map(header.sections.map((section) => [section.name, section]));
  const section = (name: string): SectionEntry => {
    const entry = sections.get(name);
    if (entry === undefined) fail(path, `corrupt BM25 index (no section ${name})`);
    if (entry.offset % ALIGN !== 0 || entry.offset + entry.length * BYTES_PER[entry.type] > bodyEnd) {
      fail(path, `corrupt BM25 index (section ${name} out of bounds)`);
    }
    return entry;
  };
  const sharedCopy = (name: string, expectedLength: number) => {
    const entry = section(name);
    if (entry.length !== expectedLength)
      fail(path, `corrupt BM25 index (section ${name} has ${entry.length} entries, expected ${expectedLength})`);
    const byteLength = entry.length * BYTES_PER[entry.type];
    const shared = new SharedArrayBuffer(Math.max(1, byteLength));
    new Uint8Array(shared).set(bytes.subarray(entry.offset, entry.offset + byteLength));
    switch (entry.type) {
      case 'u8':
        return new Uint8Array(shared, 0, entry.length);
      case 'u16':
        return new Uint16Array(shared, 0, entry.length);
      case 'u32':
        return new Uint32Array(shared, 0, entry.length);
    }
  };
  const u32 = (name: string, length: number): Uint32Array => {
    const array = sharedCopy(name, length);
    if (!(array instanceof Uint32Array)) fail(path, `corrupt BM25 index (section ${name} is not u32)`);
    return array;
  };
  const strings = (name: string, count: number): string[] => {
    const text = section(`${name}.text`);
    const decoded = bytes.toString('utf8', text.offset, text.offset + text.length);
    const ends = u32(`${name}.ends`, count);
    const out = new Array<string>(count);
    let start = 0;
    for (let i = 0; i < count; i++) {
      if (ends[i] < start || ends[i] > decoded.length) fail(path, `corrupt BM25 index (${name} offsets)`);
      out[i] = decoded.slice(start, ends[i]);
      start = ends[i];
    }
    return out;
  };

  const documents = header.documents;
  const vocabularySize = header.terms;
  const expectedFields = FIELD_NAMES[header.fieldMode];
  if (header.fields.length !== expectedFields.length || header.fields.some((f, i) => f.name !== expectedFields[i])) {
    fail(path, 'corrupt BM25 index (fields do not match the field mode)');
  }
  const fields: FieldPostings[] = header.fields.map((field) => {
    const offsets = u32(`${field.name}.offsets`, vocabularySize + 1);
    const docs = u32(`${field.name}.docs`, field.postings);
    const freqs = sharedCopy(`${field.name}.freqs`, field.postings);
    const norms = sharedCopy(`${field.name}.norms`, documents);
    if (freqs instanceof Uint8Array || !(norms instanceof Uint8Array)) fail(path, `corrupt BM25 index (field ${field.name} types)`);
    if (offsets[vocabularySize] !== field.postings) fail(path, `corrupt BM25 index (field ${field.name} offsets)`);
    return { name: field.name, offsets, docs, freqs, norms, docCount: field.docCount, sumTotalTermFreq: field.sumTotalTermFreq };
  });
  return {
    analyzer: { name: header.analyzer.name, lang: header.analyzer.lang },
    fieldMode: header.fieldMode,
    docIds: strings('docIds', documents),
    docIdOrder: u32('docIdOrder', documents),
    terms: strings('terms', vocabularySize),
    fields,
  };
}
