/**
 * The life cycle of `genir train` runs through the real CLI process: late user errors,
 * --overwrite of an unfinished run, SIGINT/SIGTERM/SIGKILL while temporaries exist, and the
 * --resume that follows. Signals are sent while the child is frozen (SIGSTOP) with a
 * temporary on disk, so each test knows there was something to clean up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeToyBeir } from '../../train/methods/sft/testdata/toy-beir.js';
import { withToySquad } from '../../train/methods/sft/testdata/toy-squad.js';
import { TEMPORARY_NAME } from '../../util/temporaries.js';
import { runGenir, spawnGenir, type SpawnedCli, trainSftArgs } from '../testing.js';

/** Every temporary (genir's naming: `.<name>.<pid>[.<hex>].tmp`) under `root`, as paths relative to it. */
function temporariesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (TEMPORARY_NAME.test(entry.name)) found.push(relative(root, path));
      else if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}

function entriesMatching(dir: string, pattern: RegExp): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => pattern.test(name))
        .map((name) => join(dir, name))
    : [];
}

/** Waits until the kernel reports the process stopped (state T), so it cannot rename anything meanwhile. */
async function waitStopped(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) [Tt] /.test(stat)) return;
    await sleep(1);
  }
  throw new Error(`process ${pid} did not stop`);
}

/**
 * Polls until `find` names a temporary, freezes the child, and — if the temporary is still
 * there — sends `signal` and lets the child go on (a pending signal is handled first).
 * Returns the temporary that existed when the signal was sent.
 */
async function signalWhileExists(cli: SpawnedCli, find: () => string[], signal: NodeJS.Signals): Promise<string> {
  let exited = false;
  void cli.done.then(() => (exited = true));
  while (!exited) {
    if (find().length > 0) {
      cli.child.kill('SIGSTOP');
      await waitStopped(cli.child.pid!);
      const present = find();
      if (present.length > 0) {
        cli.child.kill(signal);
        cli.child.kill('SIGCONT');
        return present[0];
      }
      cli.child.kill('SIGCONT');
    }
    await sleep(1);
  }
  const result = await cli.done;
  throw new Error(`the run ended (code ${result.code}) before a temporary appeared: ${result.stderr}`);
}

/** Temporaries of a checkpoint being written after the first one (so there is something to resume). */
function stageCheckpointTemporaries(out: string): () => string[] {
  const dir = join(`${out}.training`, 'stage-1-chunks', 'checkpoints');
  return () => (existsSync(join(dir, 'latest.json')) ? entriesMatching(dir, /^\.step-\d{8}\.\d+\.tmp$/) : []);
}

function modelStaging(out: string): () => string[] {
  const name = out.split('/').pop()!;
  return () => entriesMatching(join(out, '..'), new RegExp(`^\\.${name}\\.\\d+\\.[0-9a-f]{8}\\.tmp$`));
}

function sftArgs(dataset: string, out: string, root: string, extra: string[] = []): string[] {
  return [
    'train',
    'sft',
    '--dataset',
    dataset,
    '--docids',
    'pq',
    '--model',
    'tiny',
    '--pseudo',
    'spans',
    '--vocab',
    '300',
    '--threads',
    '1',
    '--out',
    out,
    '--cache-dir',
    join(root, 'cache'),
    ...extra,
  ];
}

/** Many small checkpoints: a checkpoint temporary exists often. */
const CHECKPOINT_EVERY_UPDATE = ['--stages', 'chunks:6', '--batch-size', '4', '--checkpoint-every', '1', '--no-onnx'];
/** A short run whose model save (with the ONNX export) keeps the staging directory a while. */
const SHORT_WITH_ONNX = ['--stages', 'chunks:6', '--batch-size', '4', '--checkpoint-every', '1'];

function resumedFrom(out: string): (number | null)[] {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { stages: { resumedFrom: number | null }[] };
  return report.stages.map((s) => s.resumedFrom);
}

test('genir train sft: a one-update stage whose loss and smoothed loss are one ulp apart finishes (the loss plot no longer loops)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-one-update-'));
  try {
    const dataset = writeToyBeir(root);
    const out = join(root, 'x');
    // The reported command; seed 3 gave this corpus a loss whose smoothed copy is one ulp off.
    const result = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--seed', '3', '--no-onnx']));
    assert.equal(result.code, 0, result.stderr);
    assert.match(readFileSync(join(out, 'loss.svg'), 'utf8'), /<polyline/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train sft: --vocab below the tokenizer minimum is refused before any work, leaving nothing', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-vocab-'));
  try {
    const dataset = writeToyBeir(root);
    const out = join(root, 'x');
    const result = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--vocab', '5']));
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'genir: error: --vocab 5: expected an integer from 260 to 2097151\n');
    assert.deepEqual(readdirSync(root).sort(), ['toy-beir'], 'no <out>, no <out>.training, no cache');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train sft: a user error found after the run started leaves no work directory; the corrected command runs as is or with --resume', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-late-error-'));
  try {
    const dataset = writeToyBeir(root);
    const out = join(root, 'x');
    // Vectors for 4 of the 10 documents: found only when the docids are built, after the tokenizer.
    const embeddings = join(root, 'vectors.jsonl');
    writeFileSync(embeddings, ['d0', 'd1', 'd2', 'd3'].map((id, i) => JSON.stringify({ id, vector: [i, 1, 0.5, -i] })).join('\n'));
    const failed = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--no-onnx', '--embeddings', embeddings]));
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /^genir: error: .*vectors\.jsonl: no vector for 6 of 10 corpus documents/m);
    assert.equal(
      failed.stderr
        .trimEnd()
        .split('\n')
        .filter((line) => line.startsWith('genir:')).length,
      1,
      failed.stderr,
    );
    assert.ok(!existsSync(`${out}.training`), 'the failed run left its work directory');
    assert.ok(!existsSync(out));

    const corrected = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--no-onnx']));
    assert.equal(corrected.code, 0, corrected.stderr);
    rmSync(out, { recursive: true });
    const failedAgain = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--no-onnx', '--embeddings', embeddings]));
    assert.equal(failedAgain.code, 2);
    const resumed = await runGenir(sftArgs(dataset, out, root, ['--stages', 'chunks:1', '--no-onnx', '--resume']));
    assert.equal(resumed.code, 0, `with --resume: ${resumed.stderr}`);
    assert.deepEqual(temporariesUnder(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train sft: SIGINT during a checkpoint write and SIGTERM during the model save remove their temporaries (exit 130, 143); --overwrite then discards the unfinished run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-signals-'));
  try {
    const dataset = writeToyBeir(root);
    const out = join(root, 'model');
    const interrupted = spawnGenir(sftArgs(dataset, out, root, CHECKPOINT_EVERY_UPDATE));
    const checkpointTemp = await signalWhileExists(interrupted, stageCheckpointTemporaries(out), 'SIGINT');
    const first = await interrupted.done;
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /genir: interrupted by SIGINT\n$/);
    assert.ok(!existsSync(checkpointTemp));
    assert.deepEqual(temporariesUnder(root), []);
    assert.ok(
      existsSync(join(`${out}.training`, 'stage-1-chunks', 'checkpoints', 'latest.json')),
      'the checkpoints before the signal are kept for --resume',
    );

    const saving = spawnGenir(sftArgs(dataset, out, root, [...SHORT_WITH_ONNX, '--resume']));
    const staging = await signalWhileExists(saving, modelStaging(out), 'SIGTERM');
    const second = await saving.done;
    assert.equal(second.code, 143, second.stderr);
    assert.ok(!existsSync(staging), 'the partial model directory is removed');
    assert.deepEqual(temporariesUnder(root), []);
    assert.ok(!existsSync(out), 'no model was saved');

    // Without --resume, --overwrite starts over instead of refusing the unfinished run.
    const overwritten = await runGenir(sftArgs(dataset, out, root, [...CHECKPOINT_EVERY_UPDATE, '--overwrite']));
    assert.equal(overwritten.code, 0, overwritten.stderr);
    assert.match(overwritten.stderr, /discarding the unfinished run/);
    assert.deepEqual(resumedFrom(out), [null]);
    assert.deepEqual(temporariesUnder(root), []);
    assert.ok(!existsSync(`${out}.training`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train sft: temporaries of runs killed with SIGKILL are swept by the next --resume, which finishes cleanly', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genir-sigkill-'));
  try {
    const dataset = writeToyBeir(root);
    const out = join(root, 'model');
    const killedInCheckpoint = spawnGenir(sftArgs(dataset, out, root, CHECKPOINT_EVERY_UPDATE));
    const checkpointTemp = await signalWhileExists(killedInCheckpoint, stageCheckpointTemporaries(out), 'SIGKILL');
    assert.equal((await killedInCheckpoint.done).signal, 'SIGKILL');
    assert.ok(existsSync(checkpointTemp), 'SIGKILL cannot be handled: the checkpoint temporary stays');

    const killedInSave = spawnGenir(sftArgs(dataset, out, root, [...SHORT_WITH_ONNX, '--resume']));
    const staging = await signalWhileExists(killedInSave, modelStaging(out), 'SIGKILL');
    assert.equal((await killedInSave.done).signal, 'SIGKILL');
    assert.ok(existsSync(staging), 'the partial model directory stays');
    assert.ok(!existsSync(checkpointTemp), 'the resumed run swept the checkpoint temporary of the killed one');

    const resumed = await runGenir(sftArgs(dataset, out, root, [...SHORT_WITH_ONNX, '--resume']));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(resumedFrom(out)[0]! > 0, 'continued from a checkpoint');
    assert.deepEqual(temporariesUnder(root), [], 'the staging directory of the killed save is swept too');
    assert.ok(!existsSync(`${out}.training`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genir train ddro: a wrong --dev-split is refused before the triples are mined; an interrupted run leaves no work directory', async () => {
  await withToySquad('genir-ddro-life-', async (root, dataset) => {
    const sft = join(root, 'sft');
    const trained = await runGenir(
      trainSftArgs(dataset, 'atomic', sft, [
        '--stages',
        'chunks+queries:2',
        '--pseudo',
        'spans',
        '--vocab',
        '300',
        '--d-model',
        '16',
        '--d-ff',
        '32',
        '--layers',
        '1',
        '--dropout',
        '0',
        '--batch-size',
        '8',
        '--threads',
        '1',
        '--no-onnx',
        '--cache-dir',
        join(root, 'cache'),
      ]),
    );
    assert.equal(trained.code, 0, trained.stderr);
    const ddro = (extra: string[]) => [
      'train',
      'ddro',
      '--from',
      sft,
      '--out',
      join(root, 'ddro'),
      '--negatives',
      'bm25',
      '--batch-size',
      '4',
      '--negatives-per-group',
      '2',
      '--threads',
      '1',
      '--no-onnx',
      '--cache-dir',
      join(root, 'cache'),
      ...extra,
    ];

    const wrongSplit = await runGenir(ddro(['--dev-split', 'nope']));
    assert.equal(wrongSplit.code, 2);
    assert.match(wrongSplit.stderr, /has no split 'nope'/);
    assert.ok(
      !existsSync(join(root, 'cache', 'triples')) || readdirSync(join(root, 'cache', 'triples')).length === 0,
      'no triples were mined',
    );

    const interrupted = spawnGenir(ddro(['--eval-every', '0', '--epochs', '200']));
    await signalWhileExists(interrupted, () => entriesMatching(join(root, 'ddro.training'), /^loss\.csv$/), 'SIGINT');
    const result = await interrupted.done;
    assert.equal(result.code, 130, result.stderr);
    assert.ok(!existsSync(join(root, 'ddro.training')), 'the scratch work directory is removed');
    assert.deepEqual(temporariesUnder(root), []);
    // The next run needs no --overwrite.
    const again = await runGenir(ddro(['--eval-every', '0', '--epochs', '1']));
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!existsSync(join(root, 'ddro.training')));
  });
});
