import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkDevice, executionProviders, parseDevice } from './device.js';
import { Session } from './runtime.js';
import { Graph } from './graph.js';
import { add } from './ops/index.js';
import { exportModel } from './onnx.js';

const ortRoot = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
const hasCuda = existsSync(join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));

test('devices: cpu is the default and needs nothing; unknown names are user errors', async () => {
  assert.equal(parseDevice('cpu'), 'cpu');
  assert.equal(parseDevice('cuda'), 'cuda');
  assert.throws(
    () => parseDevice('gpu'),
    (err: unknown) => err instanceof UserError && err.message === '--device gpu: expected cpu or cuda',
  );
  checkDevice('cpu');
  assert.deepEqual(executionProviders('cpu'), ['cpu']);
  assert.deepEqual(executionProviders('cuda'), ['cuda', 'cpu']);
  const g = new Graph('add');
  g.output('y', add(g.input('x', 'float32', [2]), 1));
  const session = await Session.create(exportModel(g), { threads: 1, device: 'cpu' });
  assert.deepEqual(Array.from((await session.run({ x: { data: Float32Array.of(1, 2), dims: [2] } })).y.data as Float32Array), [2, 3]);
  await session.release();
});

test(
  "--device cuda without onnxruntime-node's CUDA binaries: one user error saying how to install them",
  { skip: hasCuda ? 'this install has the CUDA provider (run npm run check:cuda on a GPU machine)' : false },
  async () => {
    const isInstallHint = (err: unknown) =>
      err instanceof UserError &&
      /^--device cuda: onnxruntime-node has no CUDA provider \(libonnxruntime_providers_cuda\.so is not in .*\); .*ONNXRUNTIME_NODE_INSTALL=cuda12/.test(
        err.message,
      );
    assert.throws(() => checkDevice('cuda'), isInstallHint);
    const g = new Graph('add');
    g.output('y', add(g.input('x', 'float32', [2]), 1));
    await assert.rejects(Session.create(exportModel(g), { device: 'cuda' }), isInstallHint);
  },
);
