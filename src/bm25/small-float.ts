/**
 * Lucene's one-byte document-length encoding (`SmallFloat.intToByte4` / `byte4ToInt`),
 * which BM25Similarity stores as the norm of every field. Lengths 0–23 are exact; longer
 * ones keep 4 significant bits (the leading one implicit), so e.g. 100 is stored as 96.
 * Scoring with the decoded length rather than the true one is what makes scores match
 * Lucene (and Anserini) exactly.
 */

/** 4-significant-bit encoding of a non-negative integer (`SmallFloat.longToInt4`). */
function longToInt4(value: number): number {
  const numBits = 32 - Math.clz32(value);
  if (numBits < 4) return value; // subnormal: stored as is
  const shift = numBits - 4;
  // Keep the 4 most significant bits, drop the implicit leading one, store the shift + 1.
  return ((value >>> shift) & 0x07) | ((shift + 1) << 3);
}

function int4ToLong(encoded: number): number {
  const bits = encoded & 0x07;
  const shift = (encoded >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

const INT32_MAX = 0x7fffffff;

/** Byte values below this decode to themselves: 255 − longToInt4(Integer.MAX_VALUE) = 24. */
export const NUM_FREE_VALUES = 255 - longToInt4(INT32_MAX);

/** Encodes a field length (token count) into one byte, as Lucene does at index time. */
export function intToByte4(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > INT32_MAX) throw new RangeError(`length out of range: ${length}`);
  if (length < NUM_FREE_VALUES) return length;
  return NUM_FREE_VALUES + longToInt4(length - NUM_FREE_VALUES);
}

/** Decodes a norm byte (0–255) to the length BM25 scores with. */
export function byte4ToInt(byte: number): number {
  const b = byte & 0xff;
  if (b < NUM_FREE_VALUES) return b;
  return Math.min(NUM_FREE_VALUES + int4ToLong(b - NUM_FREE_VALUES), INT32_MAX);
}

/** The decoded length of every norm byte (Lucene's `BM25Similarity.LENGTH_TABLE`). */
export const LENGTH_TABLE: Float32Array = Float32Array.from({ length: 256 }, (_, byte) => byte4ToInt(byte));
