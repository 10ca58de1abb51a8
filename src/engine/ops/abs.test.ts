import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { abs } from './abs.js';

test('abs: matches the formula elementwise', async () => {
  const values = [-2.5, -0.3, 0.4, 1.7];
  const y = await evaluate((_g, [x]) => abs(x), [{ name: 'x', dims: [2, 2], values }]);
  assert.deepEqual(y.dims, [2, 2]);
  assertClose(
    numbers(y),
    values.map((v) => Math.abs(v)),
  );
});

test('abs: gradient matches central differences on random shapes (float64)', async () => {
  const rng = new Rng(5);
  for (let i = 0; i < 3; i++) {
    const report = await checkGradients((_g, [x]) => abs(x), [{ name: 'x', shape: randomShape(rng, 1 + i), range: [-1, 1] }], { seed: i });
    assert.ok(report.maxGradient > 0);
  }
});
