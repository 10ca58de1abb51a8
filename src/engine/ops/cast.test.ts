import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { cast } from './cast.js';
import { mul } from './mul.js';

test('cast: float → int64 truncates toward zero, bool → float is 0/1', async () => {
  const ints = await evaluate((_g, [x]) => cast(x, 'int64'), [{ name: 'x', dims: [3], values: [1.7, -1.7, 2] }]);
  assert.equal(ints.dtype, 'int64');
  assert.deepEqual(numbers(ints), [1, -1, 2]);
  const floats = await evaluate((_g, [m]) => cast(m, 'float32'), [{ name: 'm', dims: [2], values: [1, 0], dtype: 'bool' }]);
  assertClose(numbers(floats), [1, 0]);
});

test('cast: float64 → float32 → float64 passes the gradient through', async () => {
  // float32 rounding sits inside the function, so the finite differences use a larger step.
  await checkGradients((_g, [x]) => mul(cast(cast(x, 'float32'), 'float64'), x), [{ name: 'x', shape: [3] }], {
    eps: 1e-3,
    rtol: 1e-3,
    atol: 1e-4,
  });
});
