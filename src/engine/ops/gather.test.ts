import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Rng } from '../../util/random.js';
import { gradients } from '../autodiff.js';
import { checkGradients } from '../gradcheck.js';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { assertClose, evaluate, numbers } from '../testing.js';
import { gather } from './gather.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';

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

test('gather: on 2 threads, a gradient with many repeated ids is exact and the same every run (ScatterND add lost updates here)', async () => {
  // 4,096 ids over 16 rows: every row is added to hundreds of times, by both threads.
  const [rows, width, count] = [2000, 64, 4096];
  const g = new Graph();
  const table = g.param('table', [rows, width], 'float32');
  const ids = g.input('ids', 'int64', [count]);
  const weights = g.input('weights', 'float32', [count, width]);
  g.output('grad', gradients(reduceSum(mul(gather(table, ids), weights)), [table])[0]);
  const rng = new Rng(7);
  const idValues = Array.from({ length: count }, () => rng.int(16));
  const weightValues = Float32Array.from({ length: count * width }, () => rng.next() - 0.5);
  const expected = new Float64Array(rows * width);
  idValues.forEach((id, i) => {
    for (let j = 0; j < width; j++) expected[id * width + j] += weightValues[i * width + j];
  });
  const session = await Session.create(exportModel(g), { threads: 2 });
  const digests = new Set<string>();
  let worst = 0;
  for (let run = 0; run < 20; run++) {
    const { grad } = await session.run({
      table: { data: new Float32Array(rows * width), dims: [rows, width], dtype: 'float32' },
      ids: { data: BigInt64Array.from(idValues, BigInt), dims: [count], dtype: 'int64' },
      weights: { data: weightValues, dims: [count, width], dtype: 'float32' },
    });
    const values = grad.data as Float32Array;
    for (let k = 0; k < values.length; k++) worst = Math.max(worst, Math.abs(values[k] - expected[k]));
    digests.add(createHash('sha256').update(values).digest('hex'));
  }
  await session.release();
  assert.ok(worst < 1e-3, `largest error against the float64 sum: ${worst}`);
  assert.equal(digests.size, 1, 'every run gives the same bytes');
});

test('gather: gradient of rows with run-time (named) sizes, rank-2 ids (the DDRO graph gathers activations)', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', ['rows', 'n', 2]);
  const picked = gather(x, g.constant([2, 0, 2, 2], [2, 2], 'int64'));
  g.output('dx', gradients(reduceSum(mul(picked, picked)), [x])[0]);
  const session = await Session.create(exportModel(g), { threads: 2 });
  const values = Float64Array.from({ length: 3 * 2 * 2 }, (_, i) => i + 1);
  const { dx } = await session.run({ x: { data: values, dims: [3, 2, 2], dtype: 'float64' } });
  await session.release();
  // d/dx of Σ x[id]² is 2·x[row] times how often the row was picked: row 0 once, row 1 never, row 2 three times.
  const times = [1, 0, 3];
  assert.deepEqual(dx.dims, [3, 2, 2]);
  assertClose(
    numbers(dx),
    Array.from(values, (v, i) => 2 * v * times[Math.floor(i / 4)]),
  );
});
