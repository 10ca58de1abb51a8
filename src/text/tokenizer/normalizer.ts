/**
 * SentencePiece's text normalization: the precompiled character map (a Darts double-array
 * trie over UTF-8 bytes whose values point at replacement strings, e.g. `nmt_nfkc`), applied
 * by longest match at each position, and the whitespace rules of `NormalizerSpec` (drop
 * leading, trailing and repeated spaces, prepend and escape `▁`). The steps follow
 * SentencePiece's normalizer so that ids equal `spm.encode`'s.
 */
import { UserError } from '../../util/errors.js';
import { METASPACE } from './pretokenize.js';
import type { NormalizerSpec } from './sentencepiece-model.js';

const SPACE = 0x20;
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8');
const METASPACE_BYTES = UTF8_ENCODER.encode(METASPACE);

/** Bytes of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte). */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

/** A growable byte buffer. */
class ByteBuffer {
  data = new Uint8Array(256);
  length = 0;

  push(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const needed = this.length + end - start;
    if (needed > this.data.length) {
      let capacity = this.data.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(bytes.subarray(start, end), this.length);
    this.length = needed;
  }

  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.length) return false;
    for (let i = 0; i < suffix.length; i++) if (this.data[this.length - suffix.length + i] !== suffix[i]) return false;
    return true;
  }

  text(): string {
    return UTF8_DECODER.decode(this.data.subarray(0, this.length));
  }
}

/**
 * The precompiled character map of a SentencePiece normalizer: a u32 trie length, the
 * Darts-clone double array (u32 units), then the NUL-terminated replacement strings.
 */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;

  constructor(blob: Uint8Array, source: string) {
    const fail = (why: string): never => {
      throw new UserError(`${source}: precompiled_charsmap is malformed (${why})`);
    };
    if (blob.length < 4) fail('shorter than its 4-byte header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length || trieBytes === 0)
      fail(`trie size ${trieBytes} does not fit the ${blob.length} bytes`);
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.replacements = blob.slice(4 + trieBytes);
  }

  /**
   * The longest rule matching bytes[start …): its length in bytes and the replacement's
   * offset, or length 0 when no rule matches (Darts-clone commonPrefixSearch).
   */
  longestMatch(bytes: Uint8Array, start: number, end: number): { length: number; value: number } {
    const units = this.units;
    const offset = (unit: number) => ((unit >>> 10) << ((unit & 0x200) >>> 6)) >>> 0;
    let length = 0;
    let value = 0;
    let node = offset(units[0]);
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      node ^= byte;
      const unit = units[node];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== byte) break;
      node ^= offset(unit);
      if ((unit >>> 8) & 1) {
        value = units[node] & 0x7fffffff;
        length = i - start + 1;
      }
    }
    return { length, value };
  }

  /** The replacement bytes stored at `value` (up to its NUL). */
  replacement(value: number): Uint8Array {
    let end = value;
    while (end < this.replacements.length && this.replacements[end] !== 0) end++;
    return this.replacements.subarray(value, end);
  }

  /** Applies the map alone (no whitespace rules): each position's longest rule, else the character as it is. */
  apply(text: string): string {
    const bytes = UTF8_ENCODER.encode(text);
    const out = new ByteBuffer();
    let pos = 0;
    while (pos < bytes.length) {
      const match = this.longestMatch(bytes, pos, bytes.length);
      if (match.length > 0) {
        out.push(this.replacement(match.value));
        pos += match.length;
      } else {
        const length = Math.min(utf8Length(bytes[pos]), bytes.length - pos);
        out.push(bytes, pos, pos + length);
        pos += length;
      }
    }
    return out.text();
  }
}

/** SentencePiece's `Normalizer::Normalize` for one piece of text (no user-defined symbols). */
export class SentencePieceNormalizer {
  private readonly charsmap: PrecompiledCharsmap | undefined;

  constructor(
    private readonly spec: NormalizerSpec,
    source: string,
  ) {
    this.charsmap = spec.precompiledCharsmap.length > 0 ? new PrecompiledCharsmap(spec.precompiledCharsmap, source) : undefined;
  }

  normalize(text: string): string {
    const bytes = UTF8_ENCODER.encode(text);
    const n = bytes.length;
    let pos = 0;
    // The normalized bytes of the prefix at `pos` and how many input bytes it consumes.
    let piece: Uint8Array = bytes;
    let pieceStart = 0;
    let pieceEnd = 0;
    const normalizePrefix = (): number => {
      const match = this.charsmap?.longestMatch(bytes, pos, n);
      if (match !== undefined && match.length > 0) {
        piece = this.charsmap!.replacement(match.value);
        pieceStart = 0;
        pieceEnd = piece.length;
        return match.length;
      }
      const length = Math.min(utf8Length(bytes[pos]), n - pos);
      piece = bytes;
      pieceStart = pos;
      pieceEnd = pos + length;
      return length;
    };
    const { removeExtraWhitespaces, addDummyPrefix, escapeWhitespaces } = this.spec;
    if (removeExtraWhitespaces) {
      while (pos < n) {
        const consumed = normalizePrefix();
        if (!(pieceEnd - pieceStart === 1 && piece[pieceStart] === SPACE)) break;
        pos += consumed;
      }
    }
    if (pos >= n) return '';
    const out = new ByteBuffer();
    const space = escapeWhitespaces ? METASPACE_BYTES : Uint8Array.of(SPACE);
    if (addDummyPrefix) out.push(space);
    let previousIsSpace = removeExtraWhitespaces;
    while (pos < n) {
      const consumed = normalizePrefix();
      if (previousIsSpace) while (pieceStart < pieceEnd && piece[pieceStart] === SPACE) pieceStart++;
      if (pieceStart < pieceEnd) {
        for (let i = pieceStart; i < pieceEnd; i++) {
          if (escapeWhitespaces && piece[i] === SPACE) out.push(METASPACE_BYTES);
          else out.push(piece, i, i + 1);
        }
        previousIsSpace = piece[pieceEnd - 1] === SPACE;
      }
      pos += consumed;
      if (!removeExtraWhitespaces) previousIsSpace = false;
    }
    if (removeExtraWhitespaces) while (out.endsWith(space)) out.length -= space.length;
    return out.text();
  }
}
