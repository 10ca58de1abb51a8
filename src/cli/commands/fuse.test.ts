import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir } from '../testing.js';

/** Three systems on a tuning split and a test split: only C ranks q1's and q2's relevant documents first. */
function writeRuns(dir: string): Record<string, string> {
  const files: Record<string, string> = {
    qrels: 'q1 0 r1 1\nq2 0 r2 1\nq3 0 r3 1\n',
    a: 'q1 Q0 x 1 3 a\nq1 Q0 y 2 2 a\nq1 Q0 r1 3 1 a\nq2 Q0 u 1 3 a\nq2 Q0 v 2 2 a\nq2 Q0 r2 3 1 a\nq3 Q0 r3 1 3 a\nq3 Q0 s 2 2 a\nq3 Q0 t 3 1 a\n',
    b: 'q1 Q0 y 1 3 b\nq1 Q0 x 2 2 b\nq1 Q0 r1 3 1 b\nq2 Q0 v 1 3 b\nq2 Q0 u 2 2 b\nq2 Q0 r2 3 1 b\nq3 Q0 r3 1 3 b\nq3 Q0 t 2 2 b\nq3 Q0 s 3 1 b\n',
    c: 'q1 Q0 r1 1 3 c\nq1 Q0 x 2 2 c\nq1 Q0 y 3 1 c\nq2 Q0 r2 1 3 c\nq2 Q0 u 2 2 c\nq2 Q0 v 3 1 c\nq3 Q0 s 1 3 c\nq3 Q0 r3 2 2 c\nq3 Q0 t 3 1 c\n',
  };
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, `${name}.txt`);
    writeFileSync(paths[name], text);
  }
  return paths;
}

test('genir fuse: RRF of run files, weights tuned on judged queries, and one-line errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-fuse-'));
  try {
    const p = writeRuns(dir);
    const rrfOut = join(dir, 'rrf.run');
    const rrf = await runGenir(['fuse', p.a, p.b, p.c, '--out', rrfOut, '--depth', '2']);
    assert.equal(rrf.code, 0, rrf.stderr);
    assert.match(rrf.stdout, /fused 3 runs \(rrf\)/);
    const lines = readFileSync(rrfOut, 'utf8').trim().split('\n');
    // q1: x ranks 1, 2, 2 (1/61 + 2/62), y 2, 1, 3, r1 3, 3, 1 (2/63 + 1/61): x, y, then r1, cut at depth 2.
    assert.deepEqual(
      lines.filter((l) => l.startsWith('q1 ')).map((l) => l.split(' ').slice(2, 4).join(' ')),
      ['x 1', 'y 2'],
    );
    assert.ok(lines.every((l) => l.endsWith(' fused')));

    const tunedOut = join(dir, 'tuned.run');
    const tuned = await runGenir([
      'fuse',
      p.a,
      p.b,
      p.c,
      '--out',
      tunedOut,
      '--method',
      'interp',
      '--tune',
      [p.a, p.b, p.c].join(','),
      '--qrels',
      p.qrels,
      '--steps',
      '10',
      '--json',
    ]);
    assert.equal(tuned.code, 0, tuned.stderr);
    const summary = JSON.parse(tuned.stdout.trim().split('\n').at(-1)!) as {
      fusion: { weights: number[] };
      tuned: { value: number; tried: number; queries: number };
    };
    assert.equal(summary.tuned.value, 1);
    assert.equal(summary.tuned.tried, 66);
    assert.equal(summary.tuned.queries, 3);
    assert.ok(summary.fusion.weights[2] > 0);
    const evaluated = await runGenir(['eval', '--qrels', p.qrels, '--run', tunedOut, '--metrics', 'RR@10', '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.equal((JSON.parse(evaluated.stdout.trim()) as { metrics: { 'RR@10': number } }).metrics['RR@10'], 1);

    const bad: [string[], RegExp][] = [
      [[p.a, '--out', join(dir, 'x.run')], /two or more run files/],
      [[p.a, p.b, '--out', join(dir, 'x.run'), '--weights', '1'], /1 weights for 2 runs/],
      [[p.a, p.b, '--out', join(dir, 'x.run'), '--method', 'interp'], /needs --weights/],
      [[p.a, p.b, '--out', join(dir, 'x.run'), '--method', 'mean'], /--method mean: expected rrf or interp/],
      [[p.a, p.b, '--out', join(dir, 'x.run'), '--tune', p.a], /1 runs for 2 runs to fuse/],
      [[p.a, p.b, '--out', join(dir, 'x.run'), '--qrels', p.qrels], /--qrels applies to --tune/],
      [[p.a, join(dir, 'missing.run'), '--out', join(dir, 'x.run')], /missing\.run/],
    ];
    for (const [args, message] of bad) {
      const result = await runGenir(['fuse', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(existsSync(join(dir, 'x.run')), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
