import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeToySquad } from '../train/methods/sft/testdata/toy-squad.js';
import { runGenir, type CliResult } from './testing.js';
import { writeTinyDataset, writeTinyModel } from './testdata/tiny-model.js';

const isRoot = process.getuid?.() === 0;
const packageVersion = (
  JSON.parse(
    readFileSync(new URL(import.meta.url.endsWith('.ts') ? '../../package.json' : '../../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;

let root: string;
let model: string;
let dataset: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-cli-program-'));
  model = await writeTinyModel(join(root, 'model'));
  dataset = writeTinyDataset(join(root, 'beir'));
  writeFileSync(join(root, 'afile'), 'not a folder\n');
  mkdirSync(join(root, 'adir'));
});

after(() => rmSync(root, { recursive: true, force: true }));

/** Runs genir in the test folder, so relative paths such as afile/model resolve there. */
function genir(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runGenir(args, { cwd: root, env });
}

/** Exit code 2, nothing on stdout, and stderr is exactly `lines` (each a string or a pattern). */
function assertUserError(result: CliResult, lines: (string | RegExp)[], what: string): void {
  assert.equal(result.code, 2, `${what}: exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '', `${what}: stdout`);
  const got = result.stderr.split('\n');
  assert.equal(got.pop(), '', `${what}: stderr ends with a newline`);
  assert.equal(got.length, lines.length, `${what}: ${lines.length} line(s) on stderr, got:\n${result.stderr}`);
  lines.forEach((line, i) => (typeof line === 'string' ? assert.equal(got[i], line, what) : assert.match(got[i], line, what)));
}

test('usage errors are one line "genir: error: …" plus where the help is, exit code 2', async () => {
  const cases: [string[], string, string][] = [
    [
      [],
      'missing command (one of datasets, eval, compare, fuse, bm25, search, train, experiment, quickstart, import, export, serve)',
      'genir',
    ],
    [['serch'], "unknown command 'serch' (did you mean search?)", 'genir'],
    [['help', 'nothing'], "unknown command 'nothing'", 'genir'],
    [['train'], 'train: missing command (one of sft, dense, ddro, ltrgr, reinforced-ir)', 'genir train'],
    [['train', 'dpo'], "unknown command 'dpo' (did you mean ddro?)", 'genir train'],
    [['bm25', '--dataset', 'scifact', '--k2', '3'], "unknown option '--k2' (did you mean --k1?)", 'genir bm25'],
    [['bm25'], "required option '--dataset <id>' not specified", 'genir bm25'],
    [['bm25', '--dataset'], "option '--dataset <id>' argument missing", 'genir bm25'],
    [['datasets', 'info'], "missing required argument 'id'", 'genir datasets info'],
    [['datasets', 'list', 'extra'], "too many arguments for 'list'. Expected 0 arguments but got 1.", 'genir datasets list'],
    [['compare', '--qrels', 'q.txt', 'run1'], "missing required argument 'run2'", 'genir compare'],
    [
      ['train', 'sft', '--dataset', 'xquad', '--docids', 'pq', '--model', 'tiny'],
      "required option '--out <dir>' not specified",
      'genir train sft',
    ],
    [['search', 'rivers'], "required option '--model <dir>' (or '--dense <dir>') not specified", 'genir search'],
    [
      ['experiment', 'ddro-ablation', '--dataset', 'xquad', '--quik'],
      "unknown option '--quik' (did you mean --quick?)",
      'genir experiment ddro-ablation',
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => genir(args)));
  results.forEach((result, i) => {
    const [args, message, command] = cases[i];
    assertUserError(result, [`genir: error: ${message}`, `(see ${command} --help)`], `genir ${args.join(' ')}`);
  });
});

test('a bad option value is one line too', async () => {
  const results = await Promise.all([
    genir(['bm25', '--dataset', 'scifact', '--k1', 'fast']),
    genir(['search', '--model', model, '--beam', 'wide', 'rivers']),
    genir(['train', 'sft', '--dataset', 'xquad', '--docids', 'url', '--model', 'tiny', '--out', 'm']),
  ]);
  assertUserError(results[0], ['genir: error: --k1 fast: expected a non-negative number'], 'bm25 --k1 fast');
  assertUserError(results[1], ['genir: error: --beam wide: expected a positive integer'], 'search --beam wide');
  assertUserError(results[2], [/^genir: error: --docids url: expected one of /], 'train sft --docids url');
});

test('--help and --version still print on stdout and exit 0', async () => {
  const [help, subHelp, helpCommand, version] = await Promise.all([
    genir(['--help']),
    genir(['train', 'sft', '--help']),
    genir(['help', 'search']),
    genir(['--version']),
  ]);
  for (const result of [help, subHelp, helpCommand, version]) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  }
  assert.match(help.stdout, /^Usage: genir \[options\] \[command\]/);
  assert.match(help.stdout, /^ {2}quickstart/m);
  assert.match(subHelp.stdout, /^Usage: genir train sft \[options\]/);
  assert.match(subHelp.stdout, /--out <dir>/);
  assert.match(helpCommand.stdout, /^Usage: genir search \[options\] \[query\.\.\.\]/);
  assert.equal(version.stdout, `${packageVersion}\n`);
});

test('--model names what is wrong: a file, a folder without manifest.json, a missing path', async () => {
  const [file, folder, missing] = await Promise.all([
    genir(['search', '--model', 'afile', 'rivers']),
    genir(['eval', '--model', 'adir', '--dataset', dataset]),
    genir(['search', '--model', 'nowhere', 'rivers']),
  ]);
  assertUserError(
    file,
    [`genir: error: ${join(root, 'afile')}: is a file, not a model directory (genir train sft --out writes model directories)`],
    '--model afile',
  );
  assertUserError(
    folder,
    [
      /^genir: error: .*adir\/manifest\.json: missing; .*adir is not a genir model directory \(one holds manifest\.json, config\.json, model\.safetensors, tokenizer\.json, docids\.bin, docs\.jsonl; /,
    ],
    '--model adir',
  );
  assertUserError(missing, [`genir: error: ${join(root, 'nowhere')}: model directory not found`], '--model nowhere');
});

test('outputs that cannot be written are one line and exit 2, before any work, and nothing is written', async () => {
  mkdirSync(join(root, 'toy'));
  const toySquad = writeToySquad(join(root, 'toy'));
  const cases: [string[], string][] = [
    [
      ['train', 'sft', '--dataset', toySquad, '--docids', 'title', '--model', 'tiny', '--out', 'afile/model'],
      '--out afile/model: afile is a file, not a folder',
    ],
    [
      ['train', 'sft', '--dataset', toySquad, '--docids', 'title', '--model', 'tiny', '--out', 'm', '--cache-dir', 'afile/cache'],
      '--cache-dir afile/cache: afile is a file, not a folder',
    ],
    [['train', 'ddro', '--from', model, '--out', 'afile/model'], '--out afile/model: afile is a file, not a folder'],
    [
      ['train', 'ltrgr', '--from', model, '--out', 'adir/ltrgr', '--triples', 'nodir/triples.jsonl'],
      '--triples nodir/triples.jsonl: folder nodir does not exist',
    ],
    [['train', 'ddro', '--from', model, '--out', 'adir/ddro', '--triples', 'adir'], '--triples adir: is a folder; give the path of a file'],
    [
      ['train', 'sft', '--dataset', toySquad, '--docids', 'pq', '--model', 'tiny', '--out', 'm', '--embeddings', 'adir'],
      'adir: embeddings file is not a regular file',
    ],
    [['bm25', '--dataset', dataset, '--run-out', 'nodir/x/run.trec'], '--run-out nodir/x/run.trec: folder nodir/x does not exist'],
    [['bm25', '--dataset', dataset, '--run-out', 'adir'], '--run-out adir: is a folder; give the path of a file'],
    [['bm25', '--dataset', dataset, '--index-out', 'nodir2/idx.bin'], '--index-out nodir2/idx.bin: folder nodir2 does not exist'],
    [
      ['eval', '--model', model, '--dataset', dataset, '--run-out', 'nodir/x/run.trec'],
      '--run-out nodir/x/run.trec: folder nodir/x does not exist',
    ],
    [['search', '--model', model, '--queries', '-', '--run-out', 'adir'], '--run-out adir: is a folder; give the path of a file'],
    [
      ['experiment', 'ddro-ablation', '--dataset', 'xquad', '--quick', '--work', 'afile/x'],
      '--work afile/x: afile is a file, not a folder',
    ],
    [['quickstart', '--out', 'afile/model'], '--out afile/model: afile is a file, not a folder'],
  ];
  const results = await Promise.all(cases.map(([args]) => genir(args)));
  results.forEach((result, i) => assertUserError(result, [`genir: error: ${cases[i][1]}`], cases[i][0].join(' ')));
  assert.deepEqual(readdirSync(root).sort(), ['adir', 'afile', 'beir', 'model', 'toy'], 'nothing was created');
  assert.deepEqual(readdirSync(join(root, 'adir')), []);
});

test('filesystem errors that reach the top level are one line naming the path (no stack trace)', async () => {
  // datasets fetch creates its data folder first; a file in the way is reported by main().
  const result = await genir(['datasets', 'fetch', 'cranfield', '--data-dir', 'afile/data']);
  assertUserError(
    result,
    [`genir: error: ${join(root, 'afile', 'data')}: a part of the path is a file, not a folder`],
    'datasets fetch --data-dir afile/data',
  );
});

test(
  'a folder where nothing can be created is one line (/proc, which refuses even root)',
  { skip: process.platform === 'linux' ? false : '/proc is Linux-only' },
  async () => {
    const [run, model2] = await Promise.all([
      genir(['bm25', '--dataset', dataset, '--run-out', '/proc/genir-run.trec']),
      genir(['train', 'ddro', '--from', model, '--out', '/proc/genir-model']),
    ]);
    assertUserError(
      run,
      [/^genir: error: --run-out \/proc\/genir-run\.trec: cannot create files in \/proc \([a-z -]+\)$/],
      'bm25 --run-out /proc/…',
    );
    assertUserError(
      model2,
      [/^genir: error: --out \/proc\/genir-model: cannot create files in \/proc \([a-z -]+\)$/],
      'train ddro --out /proc/…',
    );
  },
);

test(
  'a read-only folder is one line: permission denied',
  { skip: isRoot ? 'running as root: permission bits do not stop root (the /proc test covers this)' : false },
  async () => {
    const readOnly = join(root, 'ro');
    mkdirSync(readOnly, { mode: 0o555 });
    try {
      const [run, out] = await Promise.all([
        genir(['bm25', '--dataset', dataset, '--run-out', 'ro/run.trec']),
        genir(['train', 'ddro', '--from', model, '--out', 'ro/model']),
      ]);
      assertUserError(
        run,
        ['genir: error: --run-out ro/run.trec: cannot create files in ro (permission denied)'],
        'bm25 --run-out ro/run.trec',
      );
      assertUserError(out, ['genir: error: --out ro/model: cannot create files in ro (permission denied)'], 'train ddro --out ro/model');
      assert.deepEqual(readdirSync(readOnly), []);
    } finally {
      chmodSync(readOnly, 0o755);
      rmSync(readOnly, { recursive: true, force: true });
    }
  },
);
