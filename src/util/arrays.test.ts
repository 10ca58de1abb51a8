import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendAll } from './arrays.js';

test('appendAll: appends in order, in place, past the size where push(...items) overflows the stack', () => {
  const items = Array.from({ length: 500_000 }, (_, i) => i);
  assert.throws(() => [0].push(...items), RangeError, 'spread push of 500k items (the bug this helper avoids)');
  const target = [-1];
  assert.equal(appendAll(target, items), target);
  assert.equal(target.length, 500_001);
  assert.equal(target[0], -1);
  assert.equal(target[1], 0);
  assert.equal(target[500_000], 499_999);
});
