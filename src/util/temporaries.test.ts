import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMPORARY_NAME, removeOnExit, sweepStaleTemporaries } from './temporaries.js';

const testFile = fileURLToPath(import.meta.url);
const holder = join(testFile, '..', 'testdata', testFile.endsWith('.ts') ? 'hold-temporaries.ts' : 'hold-temporaries.js');

/** Runs the holder child in `dir`; `signal` is sent once it has printed "ready". */
function runHolder(
  dir: string,
  mode: string,
  signal?: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [...process.execArgv, holder, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    if (signal !== undefined && chunk.toString().includes('ready')) child.kill(signal);
  });
  return new Promise((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, stderr })));
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

test('TEMPORARY_NAME reads the writer pid of every temporary genir writes', () => {
  const pidOf = (name: string) => TEMPORARY_NAME.exec(name)?.groups?.pid;
  assert.equal(pidOf('.step-00000012.4242.tmp'), '4242');
  assert.equal(pidOf('.model.4242.0a1b2c3d.tmp'), '4242');
  assert.equal(pidOf('.model.4242.01234567.tmp'), '4242', 'an all-digit hex part is not the pid');
  assert.equal(pidOf('.model.7.4242.01234567.tmp'), '4242', 'a name ending in digits');
  assert.equal(pidOf('.model.4242.0a1b2c3d.tmp.old'), '4242');
  assert.equal(pidOf('.loss.svg.4242.0a1b2c3d.tmp'), '4242');
  for (const name of ['model', 'step-00000012', '.hidden', 'x.4242.tmp', '.model.tmp', '.model.abc.tmp'])
    assert.equal(pidOf(name), undefined, name);
});

test('sweepStaleTemporaries removes the temporaries of dead processes and keeps the rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-sweep-'));
  try {
    const dead = deadPid();
    const live = process.ppid;
    const make = (name: string, asDir = false) => {
      const path = join(dir, name);
      if (asDir) {
        mkdirSync(path);
        writeFileSync(join(path, 'model.safetensors'), 'partial');
      } else writeFileSync(path, 'partial');
      return path;
    };
    make(`.model.${dead}.0a1b2c3d.tmp`, true);
    make(`.model.${dead}.0a1b2c3d.tmp.old`, true);
    make(`.loss.svg.${dead}.0a1b2c3d.tmp`);
    make(`.model.${live}.0a1b2c3d.tmp`, true);
    make(`.model.${process.pid}.0a1b2c3d.tmp`, true);
    const mine = make(`.model.${process.pid}.ffffffff.tmp`, true);
    const release = removeOnExit(mine);
    make('model', true);
    make('notes.tmp');
    mkdirSync(join(dir, 'run', 'checkpoints'), { recursive: true });
    make(join('run', 'checkpoints', `.step-00000003.${dead}.tmp`), true);
    make(join('run', 'checkpoints', 'step-00000002'), true);

    const removed = sweepStaleTemporaries(dir)
      .map((p) => p.slice(dir.length + 1))
      .sort();
    assert.deepEqual(
      removed,
      [
        `.loss.svg.${dead}.0a1b2c3d.tmp`,
        `.model.${dead}.0a1b2c3d.tmp`,
        `.model.${dead}.0a1b2c3d.tmp.old`,
        `.model.${process.pid}.0a1b2c3d.tmp`,
      ].sort(),
      "dead writers, and an unregistered one with this process's pid (left by an earlier process with the same pid)",
    );
    assert.deepEqual(
      readdirSync(dir).sort(),
      [`.model.${live}.0a1b2c3d.tmp`, `.model.${process.pid}.ffffffff.tmp`, 'model', 'notes.tmp', 'run'].sort(),
    );
    assert.ok(existsSync(join(dir, 'run', 'checkpoints', `.step-00000003.${dead}.tmp`)), 'not recursive by default');
    assert.deepEqual(sweepStaleTemporaries(dir, TEMPORARY_NAME, { recursive: true }), [
      join(dir, 'run', 'checkpoints', `.step-00000003.${dead}.tmp`),
    ]);
    assert.ok(existsSync(join(dir, 'run', 'checkpoints', 'step-00000002')));
    release();
    assert.ok(existsSync(mine), 'release does not remove the path');
    assert.deepEqual(sweepStaleTemporaries(join(dir, 'missing')), []);
    // A caller's own pattern, e.g. for download temporaries.
    make(`archive.zip.part-${dead}`);
    assert.deepEqual(sweepStaleTemporaries(dir, /^archive\.zip\.part-(?<pid>\d+)$/), [join(dir, `archive.zip.part-${dead}`)]);
    assert.throws(() => sweepStaleTemporaries(dir, /^model$/), /named group 'pid'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGINT and SIGTERM remove the registered temporaries, keep released ones, and exit with 130 and 143', async () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'genir-signal-'));
    try {
      const result = await runHolder(dir, 'wait', signal);
      assert.equal(result.code, code, `${signal}: ${result.stderr}`);
      assert.equal(result.stderr, `genir: interrupted by ${signal}\n`);
      assert.deepEqual(
        readdirSync(dir).filter((name) => !name.startsWith('.kept.')),
        [],
        `${signal} leaves no temporaries`,
      );
      assert.equal(readdirSync(dir).length, 1, 'the released path stays');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('temporaries are removed when the process exits or crashes; with nothing registered a signal keeps its default action', async () => {
  for (const mode of ['return', 'throw']) {
    const dir = mkdtempSync(join(tmpdir(), 'genir-exit-'));
    try {
      const result = await runHolder(dir, mode);
      assert.equal(result.code, mode === 'throw' ? 1 : 0, result.stderr);
      assert.deepEqual(
        readdirSync(dir).filter((name) => !name.startsWith('.kept.')),
        [],
        mode,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'genir-default-'));
  try {
    const result = await runHolder(dir, 'released', 'SIGINT');
    assert.equal(result.signal, 'SIGINT', 'killed by the default action: no handler is left installed');
    assert.equal(readdirSync(dir).length, 3, 'released temporaries belong to their owner');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
