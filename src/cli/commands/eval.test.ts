import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, type CliResult } from '../testing.js';

function genir(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return runGenir(args, env === undefined ? {} : { env });
}

/** The fixture of metrics.test.ts as TREC files; its trec_eval -c means are known. */
function writeFixture(dir: string): { qrels: string; run: string; run2: string } {
  const qrels = join(dir, 'qrels.txt');
  writeFileSync(qrels, 'q1 0 d1 2\nq1 0 d2 1\nq1 0 d3 0\nq1 0 d4 1\nq1 0 d9 -1\nq2 0 d5 1\nq3 0 d6 0\n');
  const run = join(dir, 'run.trec');
  writeFileSync(
    run,
    'q1 Q0 dA 1 0.9 t\nq1 Q0 d2 2 0.8 t\nq1 Q0 d3 3 0.8 t\nq1 Q0 d1 4 0.5 t\nq1 Q0 dB 5 0.4 t\nq1 Q0 d4 6 0.1 t\n' +
      'q1 Q0 d9 7 0.05 t\nq3 Q0 d6 1 0.5 t\nq3 Q0 d7 2 0.3 t\nq4 Q0 d1 1 1.0 t\n',
  );
  const run2 = join(dir, 'run2.trec');
  writeFileSync(run2, 'q1 Q0 d1 1 0.9 t\nq1 Q0 d2 2 0.8 t\nq2 Q0 d5 1 0.5 t\n');
  return { qrels, run, run2 };
}

test('genir eval prints a table, and with --json one JSON object as the last line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-eval-cli-'));
  try {
    const files = writeFixture(dir);
    const table = await genir(['eval', '--qrels', files.qrels, '--run', files.run, '--metrics', 'AP,nDCG@5,P(rel=2)@5']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /queries\s+3/);
    assert.match(table.stdout, /AP\s+0\.1481/); // trec_eval -c -m map prints 0.1481
    assert.match(table.stdout, /nDCG@5\s+0\.1449/);
    assert.match(table.stderr, /1 query has no judgments and is ignored/);
    assert.match(table.stderr, /1 judged query is missing from the run and scores 0/);

    const json = await genir(['eval', '--qrels', files.qrels, '--run', files.run, '--metrics', 'AP,RR@3', '--per-query', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trim().split('\n');
    const report = JSON.parse(lines[lines.length - 1]) as {
      qrels: string;
      run: string;
      queries: number;
      metrics: Record<string, number>;
      perQuery: Record<string, Record<string, number>>;
    };
    assert.equal(report.qrels, files.qrels);
    assert.equal(report.run, files.run);
    assert.equal(report.queries, 3);
    assert.ok(Math.abs(report.metrics.AP - (1 / 3 + 2 / 4 + 3 / 6) / 9) < 1e-12);
    assert.ok(Math.abs(report.perQuery.q1['RR@3'] - 1 / 3) < 1e-12);
    assert.deepEqual(Object.keys(report.perQuery), ['q1', 'q2', 'q3']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('genir compare reports both means, the difference and two p-values per metric', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-eval-cli-'));
  try {
    const files = writeFixture(dir);
    const args = [
      'compare',
      '--qrels',
      files.qrels,
      files.run,
      files.run2,
      '--metrics',
      'RR,Success@1',
      '--trials',
      '500',
      '--seed',
      '9',
      '--json',
    ];
    const result = await genir(args);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      queries: number;
      runs: string[];
      metrics: Record<string, { run1: number; run2: number; delta: number; tTestP: number; randomizationP: number }>;
    };
    assert.equal(report.queries, 3);
    assert.deepEqual(report.runs, [files.run, files.run2]);
    const rr = report.metrics.RR;
    assert.ok(Math.abs(rr.run1 - 1 / 9) < 1e-12);
    assert.ok(Math.abs(rr.run2 - 2 / 3) < 1e-12); // q1: d1 at rank 1; q2: d5 at rank 1; q3 missing
    assert.ok(Math.abs(rr.delta - (2 / 3 - 1 / 9)) < 1e-12);
    assert.ok(rr.tTestP > 0 && rr.tTestP < 1);
    assert.ok(rr.randomizationP > 0 && rr.randomizationP <= 1);
    const again = await genir(args);
    assert.equal(again.stdout, result.stdout); // the seed fixes the randomization test
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('user errors exit with code 2 and one line on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-eval-cli-'));
  try {
    const files = writeFixture(dir);
    const badRun = join(dir, 'bad.trec');
    writeFileSync(badRun, 'q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2\n');
    const cases: [string[], RegExp][] = [
      [['eval', '--qrels', files.qrels, '--run', badRun], new RegExp(`bad\\.trec:2: expected 6 columns`)],
      [['eval', '--qrels', files.qrels, '--run', files.run, '--metrics', 'nDCG@10,BLEU'], /unknown metric 'BLEU'; valid forms/],
      [['eval', '--qrels', files.qrels], /give --run/],
      [['eval', '--qrels', files.qrels, '--run', join(dir, 'absent.trec')], /absent\.trec.*not found/],
      [['compare', '--qrels', files.qrels, files.run, files.run2, '--trials', 'many'], /--trials many: expected a positive integer/],
    ];
    const results = await Promise.all(cases.map(([args]) => genir(args)));
    results.forEach((result, i) => {
      const [args, pattern] = cases[i];
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/); // no stack trace
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const dataDir = process.env.GENIR_DATA_DIR;

test('--qrels takes a dataset id when no such file exists', { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-eval-cli-'));
  try {
    // Query 1 of the SciFact test split, with its judged abstract at rank 1.
    const qrelsText = readFileSync(join(dataDir!, 'scifact', 'qrels', 'test.tsv'), 'utf8');
    const [queryId, docId] = qrelsText.split('\n')[1].split('\t');
    const run = join(dir, 'one.trec');
    writeFileSync(run, `${queryId} Q0 ${docId} 1 1 t\n`);
    const result = await genir(['eval', '--qrels', 'scifact', '--run', run, '--metrics', 'RR@10', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      qrels: string;
      split: string;
      queries: number;
      metrics: Record<string, number>;
    };
    assert.equal(report.qrels, 'scifact');
    assert.equal(report.split, 'test');
    assert.equal(report.queries, 300);
    assert.ok(report.metrics['RR@10'] >= 1 / 300 - 1e-12); // one query of 300 found; the others score 0
    assert.match(result.stderr, /299 judged queries are missing from the run and score 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
