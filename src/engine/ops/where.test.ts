import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { assertClose, evaluate, numbers, randomBroadcastPair } from '../testing.js';
import { less } from './less.js';
import { where } from './where.js';

test('where: masks with a broadcast condition and a number', async () => {
  const y = await evaluate(
    (g, [x]) => where(g.constant([1, 0, 1], [3], 'bool'), x, -1e9),
    [{ name: 'x', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] }],
  );
  assertClose(numbers(y), [1, -1e9, 3, 4, -1e9, 6]);
  const g = new Graph();
  assert.throws(() => where(g.input('c', 'float32', [3]), g.input('a', 'float32', [3]), 0), /where: needs bool/);
});

test('where: gradients go to the chosen branch, summed over broadcast (float64)', async () => {
  const rng = new Rng(8);
  for (let i = 0; i < 3; i++) {
    const [sa, sb] = randomBroadcastPair(rng);
    await checkGradients(
      (_g, [a, b]) => where(less(a, 0), a, b),
      [
        { name: 'a', shape: sa },
        { name: 'b', shape: sb },
      ],
      { seed: i },
    );
  }
});
