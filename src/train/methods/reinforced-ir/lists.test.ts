import assert from 'node:assert/strict';
import { test } from 'node:test';
import { falseNegativeThreshold, mineNegativeCandidates, orderRlgfList } from './lists.js';

// Source document 40 first in the list, as the loop builds it; the generator prefers 7, then 40, then 12 and 3 (tied).
const docs = [40, 12, 7, 3];
const scores = [-1.5, -2.25, -0.5, -2.25];

test('RLGF list in the generator order: every passage by its score, ties to the lower row, source not pinned', () => {
  assert.deepEqual(orderRlgfList(docs, scores, 'generator'), { ranked: [7, 40, 3, 12], generatorPutSourceFirst: false });
});

test('RLGF list source-first: the source document pinned first, the others in the generator order', () => {
  assert.deepEqual(orderRlgfList(docs, scores, 'source-first'), { ranked: [40, 7, 3, 12], generatorPutSourceFirst: false });
  // When the generator agrees, both orders are the same list.
  const agreeing = [0, -3, -1, -2];
  assert.deepEqual(orderRlgfList(docs, agreeing, 'source-first'), orderRlgfList(docs, agreeing, 'generator'));
  assert.equal(orderRlgfList(docs, agreeing, 'generator').generatorPutSourceFirst, true);
  assert.throws(() => orderRlgfList(docs, [1, 2], 'generator'), /4 documents and 2 scores/);
});

test('RLGF list in the retriever order: the source document pinned first, the others by the retriever, generator diagnostic kept', () => {
  const retriever = [0.1, 0.5, 0.2, 0.5];
  assert.deepEqual(orderRlgfList(docs, scores, 'retriever', retriever), { ranked: [40, 3, 12, 7], generatorPutSourceFirst: false });
  assert.throws(() => orderRlgfList(docs, scores, 'retriever'), /needs 4 retriever scores, got none/);
});

test('false-negative threshold: 95 % of a positive score, and below a negative one too (never above the positive)', () => {
  assert.equal(falseNegativeThreshold(0.6), 0.6 - 0.03);
  assert.ok(Math.abs(falseNegativeThreshold(0.6) - 0.95 * 0.6) < 1e-15);
  // −0.4: the plain 0.95 × positive rule gives −0.38, above the positive; the cut must stay below it.
  assert.ok(Math.abs(falseNegativeThreshold(-0.4) - -0.42) < 1e-15);
  assert.ok(falseNegativeThreshold(-0.4) < -0.4);
  assert.equal(falseNegativeThreshold(0), 0);
});

// A retriever's ranking of 6 rows, best first; the source document (row 9) scores 0.5, third.
const minedRows = [4, 2, 9, 7, 5, 1];
const minedScores = [0.9, 0.49, 0.5, 0.46, 0.3, 0.1];

test('mined negatives below the positive: those above the cut (within 5 % of 0.5, i.e. above 0.475) and the source skipped', () => {
  // 0.9 outranks the source, 0.49 lies within 5 % of it: both are likely false negatives under the paper's rule.
  assert.deepEqual(mineNegativeCandidates(minedRows, minedScores, 9, 0.5, 10, 'below-positive'), [7, 5, 1]);
  assert.deepEqual(mineNegativeCandidates(minedRows, minedScores, 9, 0.5, 2, 'below-positive'), [7, 5]);
});

test('mined negatives from the top: every row but the source, in ranking order, those that outrank it included', () => {
  assert.deepEqual(mineNegativeCandidates(minedRows, minedScores, 9, 0.5, 10, 'top'), [4, 2, 7, 5, 1]);
  assert.deepEqual(mineNegativeCandidates(minedRows, minedScores, 9, 0.5, 3, 'top'), [4, 2, 7]);
  assert.throws(() => mineNegativeCandidates([1, 2], [0.5], 9, 0.5, 3, 'top'), /2 rows and 1 scores/);
});
