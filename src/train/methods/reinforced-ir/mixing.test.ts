import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mixQueryEmbedding, mixedScore, positiveRanks, preferencePair, rowDot } from './mixing.js';

test('mixed query embedding is 0.8·q + 0.2·a per row, not renormalised', () => {
  const query = Float32Array.of(1, 0, 0, 1);
  const augmentation = Float32Array.of(0, 1, 0.6, 0.8);
  const mixed = mixQueryEmbedding(query, augmentation, 2);
  assert.deepEqual(
    [...mixed].map((v) => Math.round(v * 1e6) / 1e6),
    [0.8, 0.2, 0.12, 0.96],
  );
  // ⟨mix, d⟩ = 0.8⟨q, d⟩ + 0.2⟨a, d⟩: the score RLRF and retrieval use.
  const doc = Float32Array.of(0.6, 0.8);
  assert.ok(Math.abs(rowDot(mixed, 0, doc, 0, 2) - (0.8 * 0.6 + 0.2 * 0.8)) < 1e-6);
  assert.ok(Math.abs(mixedScore(query, 1, augmentation, 1, doc, 0, 2) - rowDot(mixed, 1, doc, 0, 2)) < 1e-6);
  assert.throws(() => mixQueryEmbedding(query, Float32Array.of(1, 2), 2), /not rows of 2/);
});

// raw = 0.5 throughout: share·raw = 0.4, so a pair needs max > 0.5 and (max − 0.4)·0.95 ≥ min − 0.4.
test('preference pair: kept when the best augmentation beats the raw query and the worst is far enough below', () => {
  assert.deepEqual(preferencePair([0.45, 0.7, 0.5, 0.42, 0.6], 0.5), { chosen: 1, rejected: 3 });
});

test('preference pair: dropped when no augmentation beats the raw query (max = raw and max < raw)', () => {
  assert.equal(preferencePair([0.5, 0.3, 0.2], 0.5), null);
  assert.equal(preferencePair([0.49, 0.3, 0.2], 0.5), null);
  // Just above raw passes the first condition (and the second, with min far below).
  assert.deepEqual(preferencePair([0.5001, 0.3, 0.2], 0.5), { chosen: 0, rejected: 2 });
});

test('preference pair: the separation condition on both sides of its boundary', () => {
  // max 0.6: (0.6 − 0.4)·0.95 = 0.19, so min may be at most 0.59.
  assert.deepEqual(preferencePair([0.6, 0.589], 0.5), { chosen: 0, rejected: 1 });
  assert.equal(preferencePair([0.6, 0.591], 0.5), null);
  // A negative raw: share·raw = −0.08, max 0.1 → bound (0.18)·0.95 − 0.08 = 0.091.
  assert.deepEqual(preferencePair([0.1, 0.09], -0.1), { chosen: 0, rejected: 1 });
  assert.equal(preferencePair([0.1, 0.092], -0.1), null);
});

test('preference pair: equal scores, or a single sample, give no pair', () => {
  assert.equal(preferencePair([0.7, 0.7, 0.7], 0.5), null);
  assert.equal(preferencePair([0.7], 0.5), null);
});

test("positive ranks: one plus the documents scoring strictly above the query's own, ties counted in its favour", () => {
  // Four documents in 2-d; query 0 = (1, 0) scores them 0.9, 0.5, 0.9, -1; query 1 = (0, 1) scores them 0.1, 0.8, 0.2, 0.
  const docs = Float32Array.of(0.9, 0.1, 0.5, 0.8, 0.9, 0.2, -1, 0);
  const queries = Float32Array.of(1, 0, 0, 1);
  // Query 0's own document is row 1 (0.5): rows 0 and 2 are above it. Query 1's is row 1 (0.8): none above.
  assert.deepEqual(positiveRanks(queries, docs, [1, 1], 2), [3, 1]);
  // For query 0, row 0 ties row 2 at 0.9: the tie does not push it down. For query 1, row 3 (0) is below all three others.
  assert.deepEqual(positiveRanks(queries, docs, [0, 3], 2), [1, 4]);
  assert.throws(() => positiveRanks(queries, docs, [0], 2), /not rows of 2/);
});
