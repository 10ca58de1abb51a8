import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { gelu } from './gelu.js';

test('gelu: matches the formula elementwise', async () => {
  const values = [-2.5, -0.3, 0.4, 1.7];
  const y = await evaluate((_g, [x]) => gelu(x), [{ name: 'x', dims: [2, 2], values }]);
  assert.deepEqual(y.dims, [2, 2]);
  // ORT's double Gelu agrees with the formula to ~1e-7 relative, not to the last bit.
  assertClose(
    numbers(y),
    values.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
    1e-6,
  );
});

test('gelu: gradient matches central differences on random shapes (float64)', async () => {
  const rng = new Rng(5);
  for (let i = 0; i < 3; i++) {
    const report = await checkGradients((_g, [x]) => gelu(x), [{ name: 'x', shape: randomShape(rng, 1 + i), range: [-3, 3] }], { seed: i });
    assert.ok(report.maxGradient > 0);
  }
});
