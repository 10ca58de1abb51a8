import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers, randomBroadcastPair } from '../testing.js';
import { div } from './div.js';

test('div: [2,1] with [3] broadcasts to [2,3]', async () => {
  const y = await evaluate((_g, [a, b]) => div(a, b), [
    { name: 'a', dims: [2, 1], values: [1, 2] },
    { name: 'b', dims: [3], values: [10, 20, 40] },
  ]);
  assert.deepEqual(y.dims, [2, 3]);
  assertClose(numbers(y), [0.1, 0.05, 0.025, 0.2, 0.1, 0.05]);
});

test('div: gradient matches central differences on random broadcast shapes (float64)', async () => {
  const rng = new Rng(11);
  for (let i = 0; i < 4; i++) {
    const [sa, sb] = randomBroadcastPair(rng);
    const report = await checkGradients((_g, [a, b]) => div(a, b), [
      { name: 'a', shape: sa, range: [-1,1] },
      { name: 'b', shape: sb, range: [0.5,2] },
    ], { seed: i });
    assert.ok(report.maxGradient > 0);
  }
});

test('div: a number operand becomes a scalar of the tensor dtype', () => {
  const g = new Graph();
  const y = div(g.input('x', 'float64', ['batch', 3]), 2);
  assert.equal(y.dtype, 'float64');
  assert.deepEqual(y.shape, ['batch', 3]);
});

test('div: shapes that cannot broadcast are refused at build time, naming the op', () => {
  const g = new Graph();
  assert.throws(() => div(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])), /^GraphError: div: dims 3 and 4/);
  assert.throws(() => div(g.input('c', 'float32', ['src', 3]), g.input('d', 'float32', ['tgt', 3])), /div: dims src and tgt/);
});
