import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers, randomBroadcastPair } from '../testing.js';
import { sub } from './sub.js';

test('sub: [2,1] with [3] broadcasts to [2,3]', async () => {
  const y = await evaluate((_g, [a, b]) => sub(a, b), [
    { name: 'a', dims: [2, 1], values: [1, 2] },
    { name: 'b', dims: [3], values: [10, 20, 30] },
  ]);
  assert.deepEqual(y.dims, [2, 3]);
  assertClose(numbers(y), [-9, -19, -29, -8, -18, -28]);
});

test('sub: gradient matches central differences on random broadcast shapes (float64)', async () => {
  const rng = new Rng(11);
  for (let i = 0; i < 4; i++) {
    const [sa, sb] = randomBroadcastPair(rng);
    const report = await checkGradients((_g, [a, b]) => sub(a, b), [
      { name: 'a', shape: sa, range: [-1,1] },
      { name: 'b', shape: sb, range: [-1,1] },
    ], { seed: i });
    assert.ok(report.maxGradient > 0);
  }
});

test('sub: a number operand becomes a scalar of the tensor dtype', () => {
  const g = new Graph();
  const y = sub(g.input('x', 'float64', ['batch', 3]), 2);
  assert.equal(y.dtype, 'float64');
  assert.deepEqual(y.shape, ['batch', 3]);
});

test('sub: shapes that cannot broadcast are refused at build time, naming the op', () => {
  const g = new Graph();
  assert.throws(() => sub(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])), /^GraphError: sub: dims 3 and 4/);
  assert.throws(() => sub(g.input('c', 'float32', ['src', 3]), g.input('d', 'float32', ['tgt', 3])), /sub: dims src and tgt/);
});
