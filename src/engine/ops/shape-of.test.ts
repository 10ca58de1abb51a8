import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, numbers } from '../testing.js';
import { shapeOf } from './shape-of.js';

test('shapeOf: the run-time shape as int64', async () => {
  const y = await evaluate((_g, [x]) => shapeOf(x), [{ name: 'x', dims: [2, 3, 1], values: [1, 2, 3, 4, 5, 6] }]);
  assert.equal(y.dtype, 'int64');
  assert.deepEqual(numbers(y), [2, 3, 1]);
});
