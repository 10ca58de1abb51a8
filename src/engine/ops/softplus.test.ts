import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../util/random.js';
import { checkGradients } from '../gradcheck.js';
import { assertClose, evaluate, numbers, randomShape } from '../testing.js';
import { logSigmoid, softplus } from './softplus.js';

const values = [-30, -1.5, 0, 0.7, 40];

test('softplus: log(1 + e^x), in float32 (ORT has no float64 Softplus kernel)', async () => {
  const y = await evaluate((_g, [x]) => softplus(x), [{ name: 'x', dims: [5], values, dtype: 'float32' }]);
  assert.equal(y.dtype, 'float32');
  assertClose(
    numbers(y),
    values.map((v) => Math.log1p(Math.exp(v))),
    1e-6,
  );
});

test('softplus: gradient in float32 with a looser tolerance', async () => {
  const rng = new Rng(3);
  for (let i = 0; i < 3; i++) {
    const report = await checkGradients((_g, [x]) => softplus(x), [{ name: 'x', shape: randomShape(rng, 1 + i), range: [-3, 3] }], {
      dtype: 'float32',
      seed: i,
    });
    assert.ok(report.maxGradient > 0);
  }
});

test('logSigmoid: stable for large |x| and exact in float64', async () => {
  const y = await evaluate((_g, [x]) => logSigmoid(x), [{ name: 'x', dims: [5], values }]);
  assertClose(
    numbers(y),
    values.map((v) => -Math.log1p(Math.exp(-v))),
    1e-12,
  );
});

test('logSigmoid: gradient matches central differences (float64)', async () => {
  const rng = new Rng(4);
  for (let i = 0; i < 3; i++) {
    await checkGradients((_g, [x]) => logSigmoid(x), [{ name: 'x', shape: randomShape(rng, 1 + i), range: [-6, 6] }], { seed: i });
  }
});

test('logSigmoid: gradient at exactly 0 matches central differences (where DPO starts)', async () => {
  // A Min-based form passes the random-point checks above but gives 1 instead of 1/2 here.
  const report = await checkGradients((_g, [x]) => logSigmoid(x), [{ name: 'x', shape: [3], values: [0, 0, 0] }], { seed: 0 });
  assert.ok(report.checked === 3 && report.maxGradient > 0);
});
