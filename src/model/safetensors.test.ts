import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, toFloat32, writeSafetensors } from './safetensors.js';
import { UserError } from '../util/errors.js';

// Written by the reference implementation (safetensors.numpy.save) for
// {'a.ids': int64 [7, -1], 'b.weight': float32 [[1.5, -2], [0.25, 3]]}, metadata {'format': 'pt'}.
const REFERENCE_HEX =
  'a0000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c22612e696473223a7b226474797065223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c22622e776569676874223a7b226474797065223a22463332222c227368617065223a5b322c325d2c22646174615f6f666673657473223a5b31362c33325d7d7d2020202020200700000000000000ffffffffffffffff0000c03f000000c00000803e00004040';

test('safetensors: decodes a file written by the reference library', () => {
  const { tensors, metadata } = decodeSafetensors(Buffer.from(REFERENCE_HEX, 'hex'), 'ref.safetensors');
  assert.deepEqual(metadata, { format: 'pt' });
  const ids = tensors.get('a.ids')!;
  assert.equal(ids.dtype, 'I64');
  assert.deepEqual(Array.from(ids.data as BigInt64Array), [7n, -1n]);
  const weight = tensors.get('b.weight')!;
  assert.equal(weight.dtype, 'F32');
  assert.deepEqual(weight.shape, [2, 2]);
  assert.deepEqual(Array.from(weight.data as Float32Array), [1.5, -2, 0.25, 3]);
});

test('safetensors: encodes the same tensors to the reference bytes, and the file writer agrees', async () => {
  const tensors = new Map([
    ['a.ids', { shape: [2], data: BigInt64Array.from([7n, -1n]) }],
    ['b.weight', { shape: [2, 2], data: Float32Array.from([1.5, -2, 0.25, 3]) }],
  ]);
  assert.equal(Buffer.from(encodeSafetensors(tensors, { format: 'pt' })).toString('hex'), REFERENCE_HEX);
  const dir = mkdtempSync(join(tmpdir(), 'genir-st-'));
  try {
    const path = join(dir, 'x.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt' });
    assert.equal(readFileSync(path).toString('hex'), REFERENCE_HEX);
    assert.deepEqual(Array.from(readSafetensors(path).tensors.get('b.weight')!.data as Float32Array), [1.5, -2, 0.25, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('safetensors: corrupt files fail with a UserError naming the file', () => {
  const bytes = Buffer.from(REFERENCE_HEX, 'hex');
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'cut.safetensors'),
    (err: unknown) =>
      err instanceof UserError &&
      /cut\.safetensors: .*'b\.weight' data_offsets \[16, 32\] fall outside the 28 data bytes/.test(err.message),
  );
  const huge = Buffer.from(bytes);
  huge.writeBigUInt64LE(10_000n, 0);
  assert.throws(() => decodeSafetensors(huge, 'h.safetensors'), /h\.safetensors: .*header length 10000 exceeds/);
  const dir = mkdtempSync(join(tmpdir(), 'genir-st-'));
  try {
    writeFileSync(join(dir, 'junk.safetensors'), 'hello');
    assert.throws(() => readSafetensors(join(dir, 'junk.safetensors')), /junk\.safetensors: not a valid safetensors file/);
    assert.throws(() => readSafetensors(join(dir, 'absent.safetensors')), /absent\.safetensors: cannot read safetensors file \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('safetensors: F16 and BF16 bit patterns convert to float32 values', () => {
  // F16: 0x3c00 = 1, 0xc000 = -2, 0x3555 ~ 0.33325, 0x0001 = 2^-24 (subnormal). BF16: 0x3f80 = 1, 0xc0a0 = -5.
  const half = toFloat32({ dtype: 'F16', shape: [4], data: Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001]) });
  assert.deepEqual(Array.from(half), [1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24)]);
  const brain = toFloat32({ dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0xc0a0]) });
  assert.deepEqual(Array.from(brain), [1, -5]);
});
