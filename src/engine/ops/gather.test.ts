import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { gather } from './gather.js';

test('gather: embedding lookup picks rows, output = indices shape + row shape', async () => {
  const y = await evaluate(
    (g, [table]) => gather(table, g.constant([2, 0, 2], [1, 3], 'int64')),
    [{ name: 'table', dims: [3, 2], values: [1, 2, 3, 4, 5, 6] }],
  );
  assert.deepEqual(y.dims, [1, 3, 2]);
  assertClose(numbers(y), [5, 6, 1, 2, 5, 6]);
  const g = new Graph();
  assert.deepEqual(gather(g.param('emb', [100, 16]), g.input('ids', 'int64', ['batch', 'seq'])).shape, ['batch', 'seq', 16]);
  assert.throws(() => gather(g.param('e2', [4, 2]), g.input('f', 'float32', [3])), /gather: needs int64 or int32/);
});

test('gather: gradient adds up repeated ids (ScatterND with reduction add, float64)', async () => {
  // id 1 appears three times, id 3 never: its row must get exactly zero.
  const report = await checkGradients(
    (g, [table]) => gather(table, g.constant([1, 0, 1, 1, 2, 0], [2, 3], 'int64')),
    [{ name: 'table', shape: [4, 3] }],
  );
  assert.ok(report.maxGradient > 0);
  await checkGradients((g, [table]) => gather(table, g.constant([3, 1], [2], 'int32')), [{ name: 'table', shape: [4, 2, 2] }]);
});
