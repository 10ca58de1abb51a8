/**
 * bench:train in a short form (tiny model, one step, no PyTorch): the JSON line carries the
 * same-run GEMM ceiling and the step's fraction of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url).replace(/\.test\.(ts|js)$/, '.$1');

test('bench:train --json reports gemm_gflops (ORT MatMul, same threads, same run) and fraction_of_gemm = step GFLOP/s ÷ gemm_gflops', async () => {
  const args = [
    ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
    script,
    '--config',
    'tiny',
    '--batch',
    '2',
    '--src-len',
    '8',
    '--tgt-len',
    '4',
    '--steps',
    '1',
    '--warmup',
    '0',
    '--rounds',
    '1',
    '--threads',
    '1',
    '--no-torch',
    '--gemm-size',
    '128',
    '--json',
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 120_000 }, (error, out) => (error ? reject(error) : resolve(out)));
  });
  const lines = stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]) as Record<string, number>;
  assert.equal(result.gemm_size, 128);
  assert.ok(result.gemm_gflops > 0 && Number.isFinite(result.gemm_gflops), `gemm_gflops ${result.gemm_gflops}`);
  assert.ok(Math.abs(result.fraction_of_gemm - result.genir_gflops / result.gemm_gflops) < 1e-9);
  assert.match(stdout, /ORT MatMul 128² [\d.]+ GFLOP\/s \(same threads, same run\): genir's step at [\d.]+ % of it/);
});
