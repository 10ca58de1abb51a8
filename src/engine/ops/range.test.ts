import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../graph.js';
import { exportModel } from '../onnx.js';
import { Session } from '../runtime.js';
import { numbers } from '../testing.js';
import { range } from './range.js';

test('range: static bounds give a static length; a run-time bound works too', async () => {
  const g = new Graph();
  const fixed = range(2, 9, 3, 'int64', g);
  assert.deepEqual(fixed.shape, [3]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const positions = range(0, g.dimTensor('seq'));
  g.output('fixed', fixed);
  g.output('positions', positions);
  g.output('ids_out', ids);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ ids: { data: new BigInt64Array(10), dims: [2, 5] } });
  assert.deepEqual(numbers(out.fixed), [2, 5, 8]);
  assert.deepEqual(numbers(out.positions), [0, 1, 2, 3, 4]);
  await session.release();
});
