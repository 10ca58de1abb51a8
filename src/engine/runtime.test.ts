import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Graph } from './graph.js';
import { exportModel } from './onnx.js';
import { add, matmul } from './ops/index.js';
import { Session } from './runtime.js';
import { numbers } from './testing.js';

test('Session: one session serves many runs with different batch and sequence sizes', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 2]);
  const w = g.param('w', [2, 3]);
  g.output('y', add(matmul(x, w), 1));
  const session = await Session.create(exportModel(g), { threads: 2 });
  const w0 = { data: Float32Array.from([1, 0, 1, 0, 1, 1]), dims: [2, 3] };
  for (const [batch, seq] of [
    [1, 1],
    [3, 5],
    [2, 7],
  ]) {
    const data = new Float32Array(batch * seq * 2).fill(1);
    const out = await session.run({ x: { data, dims: [batch, seq, 2] }, w: w0, ignored: { data: new Float32Array(1), dims: [1] } });
    assert.deepEqual(out.y.dims, [batch, seq, 3]);
    assert.deepEqual(numbers(out.y).slice(0, 3), [2, 2, 3]);
  }
  // Updating the param array in place is seen by the next run: feeds are not copied at wrap time.
  w0.data.fill(0);
  const out = await session.run({ x: { data: new Float32Array(2).fill(1), dims: [1, 1, 2] }, w: w0 });
  assert.deepEqual(numbers(out.y), [1, 1, 1]);
  await assert.rejects(session.run({ x: { data: new Float32Array(2), dims: [1, 1, 2] } }), /missing feed w/);
  await assert.rejects(session.run({ x: { data: new Float32Array(3), dims: [1, 1, 2] }, w: w0 }), /needs 2 values, got 3/);
  await session.release();
});

test('Session: outputs can be requested by name', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [2]);
  g.output('a', add(x, 1));
  g.output('b', add(x, 2));
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ x: { data: Float64Array.from([1, 2]), dims: [2] } }, ['b']);
  assert.deepEqual(Object.keys(out), ['b']);
  assert.deepEqual(numbers(out.b), [3, 4]);
  await session.release();
});

test(
  'Session: creating a session survives a command line of 100 KB (ORT telemetry parses /proc/self/cmdline recursively)',
  { skip: process.platform === 'linux' ? false : 'the crash is in ORT’s Linux telemetry' },
  async () => {
    // Before the fix ORT overflowed the main thread's stack (SIGSEGV, exit 139) once the command
    // line of a script passed about 29 KB. The opt-out is removed from the child's environment so
    // that genir's own default is what is tested.
    const fromSource = import.meta.url.endsWith('.ts');
    const moduleUrl = (name: string) => JSON.stringify(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url).href);
    const dir = mkdtempSync(join(tmpdir(), 'genir-runtime-'));
    try {
      const script = join(dir, 'create-session.mjs');
      writeFileSync(
        script,
        [
          `import { Session } from ${moduleUrl('runtime')};`,
          `import { Graph } from ${moduleUrl('graph')};`,
          `import { exportModel } from ${moduleUrl('onnx')};`,
          `const g = new Graph();`,
          `g.output('y', g.input('x', 'float32', [2]));`,
          `const session = await Session.create(exportModel(g), { threads: 1 });`,
          `await session.release();`,
          `console.log('session created');`,
        ].join('\n'),
      );
      const { ORT_DISABLE_TELEMETRY: _optOut, ...env } = process.env;
      const args = [...(fromSource ? ['--import', 'tsx'] : []), script, 'x'.repeat(100_000)];
      const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
        execFile(process.execPath, args, { env }, (error, stdout) =>
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, signal: error?.signal ?? null, stdout }),
        );
      });
      assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null });
      assert.equal(result.stdout, 'session created\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
