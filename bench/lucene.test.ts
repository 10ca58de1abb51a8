/**
 * bench:lucene where Lucene cannot be had: one clear line, a JSON line saying why, exit 0
 * (the side-by-side itself needs Java and minutes; it is run with `npm run bench:lucene`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url).replace(/\.test\.(ts|js)$/, '.$1');

test('bench:lucene without javac or apt-get on PATH: skipped with one line naming what is missing, exit 0', async () => {
  const emptyPath = mkdtempSync(join(tmpdir(), 'genir-bench-lucene-test-'));
  try {
    const args = [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script, '--json'];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, args, { env: { ...process.env, PATH: emptyPath }, timeout: 60_000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
    });
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^bench:lucene skipped: .*(javac|jars).*apt-get/);
    assert.deepEqual(Object.keys(JSON.parse(lines[1]) as object), ['skipped']);
  } finally {
    rmSync(emptyPath, { recursive: true, force: true });
  }
});
