/**
 * bench:serve in a short form (seconds, a tiny model): the load generator, the burst over the
 * queue bound and the malformed-request soak run in `npm test`; the 60-second figures over
 * squad-dev are for `npm run bench:serve` (docs/serving.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyDataset, writeTinyModel } from '../src/cli/testdata/tiny-model.js';

const script = fileURLToPath(import.meta.url).replace(/\.test\.(ts|js)$/, '.$1');

test('bench:serve --json (short): zero errors under load, 503s with Retry-After past the queue, every malformed request a 4xx, /health up throughout', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-bench-serve-test-'));
  try {
    const model = await writeTinyModel(join(root, 'model'), { id: writeTinyDataset(join(root, 'data')) });
    const args = [
      ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      script,
      '--model',
      model,
      '--json',
      '--duration',
      '1.5',
      '--concurrency',
      '2,8',
      '--warmup',
      '0.5',
      '--burst-seconds',
      '1.5',
      '--soak-seconds',
      '1.5',
      '--max-queue',
      '4',
      '--threads',
      '2',
      '--workers',
      '2',
    ];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      );
    });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown> & { phases: Record<string, number | string>[] };
    assert.deepEqual(Object.keys(summary).slice(0, 7), ['qps', 'p50_ms', 'p99_ms', 'errors', 'rss_start_mb', 'rss_end_mb', 'rejected_503']);
    assert.equal(summary.errors, 0);
    assert.equal(summary.workers, 2, 'the server ran two search workers');
    assert.ok((summary.qps as number) > 0 && (summary.rss_end_mb as number) > 0);
    const byPhase = (name: string) => summary.phases.filter((p) => p.phase === name);
    for (const phase of byPhase('sustained')) assert.equal(phase.errors, 0, `${phase.concurrency} clients`);
    const [burst] = byPhase('burst');
    assert.ok((burst.rejected_503 as number) > 0, '16 clients overflow a queue of 4');
    assert.deepEqual([burst.timeouts, burst.errors, burst.retry_after_missing], [0, 0, 0]);
    const [soak] = byPhase('soak');
    assert.ok((soak.malformed as number) > 0 && (soak.good as number) > 0);
    assert.deepEqual(
      [soak.malformed_not_4xx, soak.malformed_unexpected_status, soak.good_not_200, soak.errors, soak.health_failures],
      [0, 0, 0, 0, 0],
    );
    assert.ok((soak.malformed as number) >= 12, 'every kind of malformed request was sent');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
