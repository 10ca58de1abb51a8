import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AtomicWriteStream,
  checkWritableFile,
  checkWritableFolder,
  writeFileAtomic,
  writeFileAtomicSync,
  writeLinesAtomic,
} from './atomic.js';
import { UserError } from './errors.js';

function withFolder(body: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genir-atomic-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const userError = (pattern: RegExp) => (err: unknown) => err instanceof UserError && pattern.test(err.message);
const isRoot = process.getuid?.() === 0;

test(
  'writeFileAtomic writes through a temp file and leaves nothing else behind',
  withFolder(async (dir) => {
    await writeFileAtomic(join(dir, 'a.txt'), 'hello');
    writeFileAtomicSync(join(dir, 'b.txt'), 'world');
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'hello');
    assert.deepEqual(readdirSync(dir).sort(), ['a.txt', 'b.txt']);
  }),
);

test(
  'a file that cannot be written is a UserError naming the target, not the temp file',
  withFolder(async (dir) => {
    writeFileSync(join(dir, 'afile'), '');
    mkdirSync(join(dir, 'adir'));
    await assert.rejects(
      writeFileAtomic(join(dir, 'afile', 'x.json'), '{}'),
      userError(/afile\/x\.json: .*afile is a file, not a folder$/),
    );
    assert.throws(
      () => writeFileAtomicSync(join(dir, 'nodir', 'x.json'), '{}'),
      userError(/nodir\/x\.json: folder .*nodir does not exist$/),
    );
    await assert.rejects(writeFileAtomic(join(dir, 'adir'), '{}'), userError(/adir: is a folder; give the path of a file$/));
    assert.throws(
      () => new AtomicWriteStream(join(dir, 'nodir', 'x', 'run.trec')),
      userError(/nodir\/x\/run\.trec: folder .*nodir\/x does not exist$/),
    );
    assert.throws(() => new AtomicWriteStream(join(dir, 'adir')), userError(/adir: is a folder; give the path of a file$/));
    assert.deepEqual(readdirSync(dir).sort(), ['adir', 'afile'], 'no temp file is left behind');
    assert.deepEqual(readdirSync(join(dir, 'adir')), []);
  }),
);

test(
  'AtomicWriteStream: a failure while writing rejects write() and leaves nothing, instead of an unhandled error event',
  withFolder(async (dir) => {
    const target = join(dir, 'big.bin');
    const out = new AtomicWriteStream(target);
    await out.write('first chunk');
    // What the file system reports when the disk fills up in the middle of a write.
    out.stream.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
    await assert.rejects(out.write('second chunk'), userError(/big\.bin: cannot write \(no space left on the device\)$/));
    await assert.rejects(out.commit(), userError(/big\.bin: cannot write/));
    await out.abort();
    assert.deepEqual(readdirSync(dir), []);
  }),
);

test(
  'checkWritableFile and checkWritableFolder name the option and what is wrong, before any work',
  withFolder((dir) => {
    writeFileSync(join(dir, 'afile'), '');
    mkdirSync(join(dir, 'adir'));
    checkWritableFile(join(dir, 'adir', 'run.trec'), '--run-out');
    checkWritableFolder(join(dir, 'new', 'deeper', 'model'), { option: '--out', besideToo: true });
    assert.throws(
      () => checkWritableFile(join(dir, 'adir'), '--run-out'),
      userError(/^--run-out .*adir: is a folder; give the path of a file$/),
    );
    assert.throws(
      () => checkWritableFile(join(dir, 'nodir', 'x', 'run.trec'), '--run-out'),
      userError(/^--run-out .*run\.trec: folder .*nodir\/x does not exist$/),
    );
    assert.throws(
      () => checkWritableFolder(join(dir, 'afile', 'model'), { option: '--out' }),
      userError(/^--out .*afile\/model: .*afile is a file, not a folder$/),
    );
    assert.throws(
      () => checkWritableFolder(join(dir, 'afile'), { option: '--cache-dir' }),
      userError(/^--cache-dir .*afile: is a file, not a folder$/),
    );
    assert.deepEqual(readdirSync(dir).sort(), ['adir', 'afile'], 'the checks create nothing');
  }),
);

test(
  'a folder where files cannot be created fails the check, even for root (/proc)',
  { skip: process.platform === 'linux' ? false : '/proc is Linux-only' },
  () => {
    assert.throws(
      () => checkWritableFile('/proc/genir-run.trec', '--run-out'),
      userError(/^--run-out \/proc\/genir-run\.trec: cannot create files in \/proc \(/),
    );
    assert.throws(
      () => checkWritableFolder('/proc/genir-model', { option: '--out' }),
      userError(/^--out \/proc\/genir-model: cannot create files in \/proc \(/),
    );
  },
);

test(
  'a read-only folder fails the check with "permission denied"',
  { skip: isRoot ? 'running as root: permission bits do not stop root (the /proc test covers this path)' : false },
  withFolder((dir) => {
    const readOnly = join(dir, 'ro');
    mkdirSync(readOnly, { mode: 0o555 });
    try {
      assert.throws(
        () => checkWritableFile(join(readOnly, 'run.trec')),
        userError(/ro\/run\.trec: cannot create files in .*ro \(permission denied\)$/),
      );
      assert.throws(
        () => new AtomicWriteStream(join(readOnly, 'run.trec')),
        userError(/ro\/run\.trec: cannot write \(permission denied\)$/),
      );
      assert.ok(!existsSync(join(readOnly, 'run.trec')));
    } finally {
      chmodSync(readOnly, 0o755);
    }
  }),
);

test(
  'writeLinesAtomic writes lines past one 64 KiB chunk whole; an error while producing them leaves nothing',
  withFolder(async (dir) => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(20)}\n`);
    await writeLinesAtomic(join(dir, 'many.txt'), lines);
    assert.equal(readFileSync(join(dir, 'many.txt'), 'utf8'), lines.join(''));
    function* failing(): Generator<string> {
      yield* lines;
      throw new UserError('bad line 5001');
    }
    await assert.rejects(writeLinesAtomic(join(dir, 'failed.txt'), failing()), userError(/^bad line 5001$/));
    assert.deepEqual(readdirSync(dir), ['many.txt']);
  }),
);
