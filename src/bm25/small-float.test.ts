import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LENGTH_TABLE, NUM_FREE_VALUES, byte4ToInt, intToByte4 } from './small-float.js';

test('lengths below 40 are stored exactly, longer ones keep 4 significant bits', () => {
  assert.equal(NUM_FREE_VALUES, 24);
  for (let length = 0; length < 40; length++) assert.equal(byte4ToInt(intToByte4(length)), length);
  // 100 − 24 = 76 = 0b1001100: top 4 bits 1001 (shift 3) → 9 · 8 = 72, + 24 = 96; byte 24 + (1 | (4 << 3)) = 57.
  assert.equal(intToByte4(100), 57);
  assert.equal(byte4ToInt(57), 96);
  // 1000 − 24 = 976 = 0b1111010000: top bits 1111 (shift 6) → 15 · 64 = 960, + 24 = 984.
  assert.equal(byte4ToInt(intToByte4(1000)), 984);
  assert.equal(intToByte4(2 ** 31 - 1), 255);
});

test('encoding is monotone and decodes to a length no larger than the original', () => {
  let previous = 0;
  for (let length = 0; length < 100_000; length += 7) {
    const byte = intToByte4(length);
    assert.ok(byte >= previous);
    assert.ok(byte4ToInt(byte) <= length);
    previous = byte;
  }
  for (let byte = 1; byte < 256; byte++) assert.ok(LENGTH_TABLE[byte] > LENGTH_TABLE[byte - 1]);
  assert.throws(() => intToByte4(-1), RangeError);
});
