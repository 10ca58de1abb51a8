import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRun } from '../../data/trec.js';
import { runGenir, type CliResult } from '../testing.js';
import { TINY_CORPUS, writeTinyModel } from '../testdata/tiny-model.js';
import { MAX_QUERY_CHARS } from '../../search/searcher.js';
import { parseQueryFile } from '../queries.js';
import type { SearchManyReport, SearchReport } from './search.js';

let root: string;
let model: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'genir-search-cli-'));
  model = await writeTinyModel(join(root, 'model'));
});

after(() => rmSync(root, { recursive: true, force: true }));

function genir(args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return runGenir(args, { cwd: root, ...options });
}

function lastJson<T>(result: CliResult): T {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trimEnd().split('\n').pop()!) as T;
}

function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '');
  const [line, rest] = result.stderr.split('\n');
  assert.equal(rest, '', `one line: ${result.stderr}`);
  assert.match(line, pattern);
}

test('a 100,000-character query is one line and exit 2, decided before any ONNX session exists', async () => {
  // With ORT's telemetry forced on, creating a session under this command line would crash
  // (SIGSEGV, exit 139): exit 2 shows that no session was created.
  const result = await genir(['search', '--model', model, 'a'.repeat(100_000)], { env: { ORT_DISABLE_TELEMETRY: '0' } });
  assertOneLineError(result, new RegExp(`^genir: error: the query is 100000 characters; at most ${MAX_QUERY_CHARS} are accepted`));
});

test(`a query of exactly ${MAX_QUERY_CHARS} characters is searched; one more is refused`, async () => {
  const longest = 'melt water '.repeat(MAX_QUERY_CHARS).slice(0, MAX_QUERY_CHARS);
  const [accepted, refused] = await Promise.all([
    genir(['search', '--model', model, '--threads', '1', '--k', '2', '--json', longest]),
    genir(['search', '--model', model, '--threads', '1', `${longest}x`]),
  ]);
  assert.equal(lastJson<SearchReport>(accepted).results.length, 2);
  assertOneLineError(refused, new RegExp(`the query is ${MAX_QUERY_CHARS + 1} characters`));
});

test('--queries <tsv file>: every query searched with one model load, each ranked as the single-query search ranks it', async () => {
  const file = join(root, 'queries.tsv');
  writeFileSync(file, 'q-rivers\twhere does glacier melt water go\r\nq-tides\twhy do tides rise\n\nq-birds\twoodpeckers find insects\n');
  const [many, ...single] = await Promise.all([
    genir(['search', '--model', model, '--queries', file, '--threads', '1', '--k', '3', '--json']),
    ...['where does glacier melt water go', 'why do tides rise', 'woodpeckers find insects'].map((q) =>
      genir(['search', '--model', model, '--threads', '1', '--k', '3', '--json', q]),
    ),
  ]);
  const report = lastJson<SearchManyReport>(many);
  assert.equal(report.queries, 3);
  assert.equal(report.run_out, null);
  assert.deepEqual(
    report.results.map((r) => r.id),
    ['q-rivers', 'q-tides', 'q-birds'],
  );
  report.results.forEach((r, i) => {
    const alone = lastJson<SearchReport>(single[i]);
    assert.equal(r.query, alone.query);
    assert.deepEqual(
      r.results.map((hit) => hit.docId),
      alone.results.map((hit) => hit.docId),
    );
    r.results.forEach((hit, j) => assert.ok(Math.abs(hit.score - alone.results[j].score) < 1e-4));
  });
  assert.match(many.stdout, /^model .*: 4 documents \(atomic docids\); beam 10, top 3; 3 queries from .*queries\.tsv searched in /);
  assert.match(many.stdout, /^query q-tides: why do tides rise$/m);
});

test('--queries - reads stdin, one query per line (ids are line numbers); --run-out writes the TREC run', async () => {
  const runPath = join(root, 'stdin-run.trec');
  const result = await genir(
    ['search', '--model', model, '--queries', '-', '--run-out', runPath, '--threads', '1', '--beam', '4', '--json'],
    {
      input: 'rivers and glaciers\n\ncactus in the desert\n',
    },
  );
  const report = lastJson<SearchManyReport>(result);
  assert.deepEqual(
    report.results.map((r) => [r.id, r.query]),
    [
      ['1', 'rivers and glaciers'],
      ['3', 'cactus in the desert'],
    ],
  );
  assert.match(result.stdout, /^run written to .*stdin-run\.trec$/m);
  assert.doesNotMatch(result.stdout, /^query /m, 'with --run-out the rankings go to the file');
  const run = await readRun(runPath);
  assert.deepEqual([...run.keys()], ['1', '3']);
  for (const [id, entries] of run) {
    const reported = report.results.find((r) => r.id === id)!.results;
    assert.equal(entries.length, TINY_CORPUS.length, 'beam 4 over 4 documents: k defaults to 4');
    assert.deepEqual(
      entries.map((e) => e.docId),
      reported.map((hit) => hit.docId),
    );
  }
});

test('query file mistakes are one line naming the file and line; nothing is written', async () => {
  const files: Record<string, string> = {
    'mixed.txt': 'rivers\nq2\ttides\n',
    'no-tab.tsv': 'q1\trivers\ntides\n',
    'dup.tsv': 'q1\trivers\nq1\ttides\n',
    'spaced-id.tsv': 'query one\trivers\n',
    'long.txt': `rivers\n${'x'.repeat(MAX_QUERY_CHARS + 1)}\n`,
    'empty.txt': '\n\n',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  const runPath = join(root, 'never.trec');
  const fromFile = (name: string) => ['--queries', name, '--run-out', runPath];
  const cases: [string[], RegExp][] = [
    [fromFile('mixed.txt'), /^genir: error: mixed\.txt:2: has a tab, but line 1 has none/],
    [fromFile('no-tab.tsv'), /^genir: error: no-tab\.tsv:2: expected 'qid<TAB>text' as on line 1, found no tab$/],
    [fromFile('dup.tsv'), /^genir: error: dup\.tsv:2: duplicate query id 'q1'$/],
    [fromFile('spaced-id.tsv'), /^genir: error: spaced-id\.tsv:1: query id 'query one' is empty or contains spaces$/],
    [fromFile('long.txt'), new RegExp(`^genir: error: long\\.txt:2: the query is ${MAX_QUERY_CHARS + 1} characters`)],
    [fromFile('empty.txt'), /^genir: error: empty\.txt: no queries \(the file is empty\)$/],
    [fromFile('absent.txt'), /^genir: error: absent\.txt: queries file not found$/],
    [[...fromFile('mixed.txt'), 'rivers'], /^genir: error: give either a query or --queries <file>, not both$/],
    [['rivers', '--run-out', runPath], /^genir: error: --run-out applies to --queries <file>/],
    [[], /^genir: error: no query: give the query text, or --queries <file>/],
  ];
  const results = await Promise.all(cases.map(([args]) => genir(['search', '--model', model, ...args])));
  results.forEach((result, i) => assertOneLineError(result, cases[i][1]));
  assert.ok(!existsSync(runPath));
});

test('parseQueryFile: a byte-order mark and CRLF line ends are not part of the first query', () => {
  assert.deepEqual(parseQueryFile('\uFEFFq1\trivers\r\nq2\ttides\r\n', 'f.tsv'), [
    { id: 'q1', text: 'rivers' },
    { id: 'q2', text: 'tides' },
  ]);
  assert.deepEqual(parseQueryFile('\uFEFFrivers\r\n', 'f.txt'), [{ id: '1', text: 'rivers' }]);
});
