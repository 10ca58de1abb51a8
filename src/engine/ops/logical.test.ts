import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import { evaluate, numbers } from '../testing.js';
import { and, not, or } from './logical.js';

test('not/and/or: truth tables with broadcasting', async () => {
  const a = { name: 'a', dims: [4], values: [0, 0, 1, 1], dtype: 'bool' as const };
  const b = { name: 'b', dims: [4], values: [0, 1, 0, 1], dtype: 'bool' as const };
  assert.deepEqual(numbers(await evaluate((_g, [x]) => not(x), [a])), [1, 1, 0, 0]);
  assert.deepEqual(numbers(await evaluate((_g, [x, y]) => and(x, y), [a, b])), [0, 0, 0, 1]);
  assert.deepEqual(numbers(await evaluate((_g, [x, y]) => or(x, y), [a, b])), [0, 1, 1, 1]);
  const g = new Graph();
  assert.throws(() => not(g.input('f', 'float32', [2])), /not: needs bool/);
});
