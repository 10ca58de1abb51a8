import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderRlgfList } from './lists.js';

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
