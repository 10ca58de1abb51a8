import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, fnv1a64, hashUnit } from './random.js';

test('fnv1a64 matches the published FNV-1a test vectors', () => {
  assert.equal(fnv1a64(''), 0xcbf29ce484222325n);
  assert.equal(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
  assert.equal(fnv1a64('foobar'), 0x85944171f73967e8n);
});

test('Rng is deterministic per seed and hashUnit stays in [0, 1)', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const seqA = Array.from({ length: 5 }, () => a.next());
  const seqB = Array.from({ length: 5 }, () => b.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(
    seqA,
    Array.from({ length: 5 }, () => new Rng(43).next()),
  );
  for (let i = 0; i < 100; i++) {
    const u = hashUnit(7, `q${i}`);
    assert.ok(u >= 0 && u < 1);
  }
});
