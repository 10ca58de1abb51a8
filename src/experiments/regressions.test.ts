import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGenir } from '../cli/testing.js';
import { UserError } from '../util/errors.js';
import {
  commandArgs,
  expectedValues,
  isScriptCommand,
  loadRegressions,
  mismatches,
  parseRegressionTable,
  printedMetrics,
  renderTable,
  replaceTable,
  type RegressionEntry,
} from './regressions.js';

/** The checkout's root (regressions/, docs/), whether the test runs from src/ or from dist/src/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'regressions')) || !existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('regressions.test: no regressions/ folder above the test file');
    dir = parent;
  }
  return dir;
}

const root = repoRoot();
const tables = loadRegressions(join(root, 'regressions'));
const dataDir = process.env.GENIR_DATA_DIR;

const entry: RegressionEntry = {
  id: 'x',
  row: 'x',
  command: 'genir bm25 --dataset x --json',
  dataset: 'x',
  metrics: { 'nDCG@10': 0.6789, 'R@100': 0.9253 },
  label: 'x',
  tolerance: 0,
  decimals: 4,
  quick: true,
  report: 'metrics',
  setup: [],
  cells: { 'nDCG@10': '{nDCG@10}', 'R@100': '{R@100}' },
  derive: null,
  note: null,
};

test('the BM25 regressions are exact (SciFact 0.6789 / 0.9253, …)', () => {
  const bm25 = tables.find((t) => t.table === 'bm25');
  assert.ok(bm25 !== undefined && bm25.entries.length >= 4);
  for (const e of bm25.entries) {
    assert.equal(e.tolerance, 0, `${e.id}: a BM25 regression is exact`);
    assert.ok(e.quick, `${e.id}: BM25 runs in seconds`);
  }
});

test(
  'every quick regression reproduces, to 4 decimals within its tolerance (each command run once)',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const byCommand = new Map<string, RegressionEntry[]>();
    for (const table of tables) {
      for (const e of table.entries) {
        if (e.quick && e.command !== null) byCommand.set(e.command, [...(byCommand.get(e.command) ?? []), e]);
      }
    }
    assert.ok(byCommand.size >= 4);
    for (const [command, entries] of byCommand) {
      assert.ok(
        entries.every((e) => e.setup.length === 0),
        `${command}: a quick entry has no setup`,
      );
      const result = await runGenir([...commandArgs(command), '--threads', '1']);
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
      for (const e of entries) assert.deepEqual(mismatches(e, printedMetrics(result.stdout, e)), [], `${e.id}: ${command}`);
    }
  },
);

test('docs/results.md holds every regressions table between its markers, as the regressions script writes it', () => {
  const doc = readFileSync(join(root, 'docs', 'results.md'), 'utf8');
  for (const table of tables) {
    // Rendering the expected values must give the documented table: the doc and the data agree.
    assert.equal(replaceTable(doc, table.table, renderTable(table, expectedValues(table)), 'docs/results.md'), doc, table.file);
  }
});

test('every Markdown table in docs/results.md stands between regressions markers', () => {
  const lines = readFileSync(join(root, 'docs', 'results.md'), 'utf8').split('\n');
  const outside: string[] = [];
  let block: string | null = null;
  let fenced = false;
  let previousWasRow = false;
  lines.forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    const open = /^<!-- regressions:([a-z0-9-]+) -->$/.exec(line);
    if (open !== null) block = open[1];
    if (line.startsWith('<!-- /regressions:')) block = null;
    const isRow = !fenced && line.startsWith('|');
    // A table is a run of rows; its first row is where it starts.
    if (isRow && !previousWasRow && block === null) outside.push(`docs/results.md:${i + 1}: ${line.slice(0, 60)}`);
    previousWasRow = isRow;
  });
  assert.deepEqual(outside, [], 'a table outside a regressions block: add regressions/<name>.json and the markers around it');
  const named = new Set(tables.map((t) => t.table));
  const markers = lines.flatMap((line) => /^<!-- regressions:([a-z0-9-]+) -->$/.exec(line)?.[1] ?? []);
  assert.deepEqual(
    markers.filter((name) => !named.has(name)),
    [],
    'a marker pair with no regressions/<name>.json',
  );
});

test('rows of different runs may show the same first cell (label); decimals set how a value is shown and compared', () => {
  const table = parseRegressionTable(
    JSON.stringify({
      table: 't',
      rowHeader: 'N classes',
      columns: ['variant', 'loss'],
      entries: [
        {
          id: 'plain',
          row: '2000-plain',
          label: '2,000',
          command: 'node --import tsx scripts/a.ts --classes 2000',
          dataset: 'synthetic',
          metrics: { loss: 3.708 },
          decimals: 3,
          tolerance: 0,
          quick: false,
          cells: { variant: 'tiny', loss: '{loss}' },
        },
        { id: 'wide', row: '2000-wide', label: '2,000', note: 'stopped', cells: { variant: '4× wider', loss: '3.842' } },
      ],
    }),
    'f.json',
  );
  assert.equal(
    renderTable(table, expectedValues(table)),
    ['| N classes | variant | loss |', '|---|---|---|', '| 2,000 | tiny | 3.708 |', '| 2,000 | 4× wider | 3.842 |'].join('\n'),
  );
  const [plain] = table.entries;
  assert.deepEqual(mismatches(plain, { loss: 3.7084 }), []);
  assert.deepEqual(mismatches(plain, { loss: 3.7086 }), ['plain loss: printed 3.709, expected 3.708']);
});

test('a printed metric is compared after rounding to 4 decimals, within the tolerance', () => {
  assert.deepEqual(mismatches(entry, { 'nDCG@10': 0.67894, 'R@100': 0.92534 }), []);
  assert.deepEqual(mismatches(entry, { 'nDCG@10': 0.67896, 'R@100': 0.9253 }), ['x nDCG@10: printed 0.6790, expected 0.6789']);
  // The old SciFact test allowed ±0.005: 0.6760 passed it; as data with tolerance 0 it does not.
  assert.deepEqual(mismatches(entry, { 'nDCG@10': 0.676, 'R@100': 0.9253 }), ['x nDCG@10: printed 0.6760, expected 0.6789']);
  assert.deepEqual(mismatches({ ...entry, tolerance: 0.005 }, { 'nDCG@10': 0.676, 'R@100': 0.9253 }), []);
});

test('printedMetrics reads the last JSON line of a command; anything else is one line naming the entry', () => {
  assert.deepEqual(printedMetrics('progress\n{"metrics":{"nDCG@10":0.5,"R@100":0.75,"RR@10":1}}\n', entry), {
    'nDCG@10': 0.5,
    'R@100': 0.75,
  });
  assert.throws(() => printedMetrics('a table\n', entry), /^UserError: x: the last line of 'genir bm25 --dataset x --json' is not JSON$/);
  assert.throws(
    () => printedMetrics('{"metrics":{"nDCG@10":0.5}}', entry),
    /^UserError: x: 'genir bm25 --dataset x --json' printed no R@100$/,
  );
});

test('a report path picks the metrics of one row of an experiment; a null metric is neither read nor compared, and shows as –', () => {
  const row: RegressionEntry = {
    ...entry,
    command: 'genir experiment x --json',
    metrics: { 'nDCG@10': 0.5, 'R@100': null },
    report: 'rows[method=sft,docids=pq].metrics',
    cells: { 'nDCG@10': '{nDCG@10}', 'R@100': '{R@100}' },
  };
  const stdout = JSON.stringify({
    rows: [
      { method: 'bm25', docids: null, metrics: { 'nDCG@10': 0.9 } },
      { method: 'sft', docids: 'title', metrics: { 'nDCG@10': 0.1 } },
      { method: 'sft', docids: 'pq', metrics: { 'nDCG@10': 0.5 } },
    ],
  });
  const printed = printedMetrics(stdout, row);
  assert.deepEqual(printed, { 'nDCG@10': 0.5 });
  assert.deepEqual(mismatches(row, printed), []);
  const table = { file: 'f', table: 't', rowHeader: 'system', columns: ['nDCG@10', 'R@100'], entries: [row] };
  assert.equal(renderTable(table, new Map([['x', printed]])).split('\n')[2], '| x | 0.5000 | – |');
  assert.throws(
    () => printedMetrics(stdout, { ...row, report: 'rows[method=ltrgr].metrics' }),
    /^UserError: x: 'genir experiment x --json' printed no metrics object at rows\[method=ltrgr\]\.metrics$/,
  );
});

test('a row can be several entries with cell templates; a mean row averages the first number of each column; a documented row is text', () => {
  const table = parseRegressionTable(
    JSON.stringify({
      table: 't',
      rowHeader: 'lang',
      columns: ['BM25', 'GenIR RR@10 / R@1', 'note'],
      entries: [
        {
          id: 'a-bm25',
          row: 'ar',
          command: 'genir bm25 --json',
          dataset: 'x',
          metrics: { 'RR@10': 0.1 },
          tolerance: 0,
          quick: true,
          cells: { BM25: '{RR@10}' },
        },
        {
          id: 'a-genir',
          row: 'ar',
          command: 'genir eval --json',
          dataset: 'x',
          report: 'components.genir',
          metrics: { 'RR@10': 0.5, 'R@1': 0.25 },
          tolerance: 0.04,
          quick: false,
          cells: { 'GenIR RR@10 / R@1': '**{RR@10}** / {R@1}', note: '826 s' },
        },
        {
          id: 'b-bm25',
          row: 'de',
          command: 'genir bm25 --json',
          dataset: 'x',
          metrics: { 'RR@10': 0.3 },
          tolerance: 0,
          quick: true,
          cells: { BM25: '{RR@10}' },
        },
        { id: 'b-genir', row: 'de', note: 'trained by code that is gone', cells: { 'GenIR RR@10 / R@1': '0.7000 / 0.6000', note: '' } },
        { id: 'mean', row: 'mean', derive: 'mean', cells: { BM25: '{}', 'GenIR RR@10 / R@1': '**{}**', note: '' } },
      ],
    }),
    'f.json',
  );
  assert.equal(
    renderTable(table, expectedValues(table)),
    [
      '| lang | BM25 | GenIR RR@10 / R@1 | note |',
      '|---|---|---|---|',
      '| ar | 0.1000 | **0.5000** / 0.2500 | 826 s |',
      '| de | 0.3000 | 0.7000 / 0.6000 | |',
      // The mean of a column is over the numbers runs print: a documented row's text is not one.
      '| mean | 0.2000 | **0.5000** | |',
    ].join('\n'),
  );
  const printed = new Map<string, Record<string, number>>([
    ['a-bm25', { 'RR@10': 0.12344 }],
    ['a-genir', { 'RR@10': 0.51, 'R@1': 0.2 }],
    ['b-bm25', { 'RR@10': 0.31 }],
  ]);
  assert.equal(renderTable(table, printed).split('\n')[2], '| ar | 0.1234 | **0.5100** / 0.2000 | 826 s |');
  assert.equal(renderTable(table, printed).split('\n')[4], '| mean | 0.2167 | **0.5100** | |');
});

test('a report path may end at an array (one value per seed): its values are metrics "0", "1", …', () => {
  const perSeed: RegressionEntry = { ...entry, metrics: { '0': 0.8842, '2': 0.8842 }, report: 'summary.ddro.per_seed' };
  const stdout = JSON.stringify({ summary: { ddro: { rr10_mean: 0.88, per_seed: [0.88421, 0.8854, 0.88424] } } });
  assert.deepEqual(printedMetrics(stdout, perSeed), { '0': 0.88421, '2': 0.88424 });
});

test("report '.' reads the metrics from the line's own fields (a script's flat JSON line)", () => {
  const flat: RegressionEntry = { ...entry, metrics: { loss_last50: 0.075 }, report: '.', decimals: 3 };
  assert.deepEqual(printedMetrics('{"classes":200,"loss_first50":4.35,"loss_last50":0.075}\n', flat), { loss_last50: 0.075 });
});

test('replaceTable rewrites only the text between the markers; a missing pair is one line', () => {
  const doc = 'before\n<!-- regressions:t -->\nold\n<!-- /regressions:t -->\nafter\n';
  assert.equal(replaceTable(doc, 't', 'new', 'r.md'), 'before\n<!-- regressions:t -->\nnew\n<!-- /regressions:t -->\nafter\n');
  assert.throws(
    () => replaceTable('no markers', 't', 'new', 'r.md'),
    /^UserError: r\.md: no '<!-- regressions:t -->' … '<!-- \/regressions:t -->' pair for table t$/,
  );
});

const valid = {
  table: 't',
  rowHeader: 'dataset',
  columns: ['R@1'],
  entries: [
    { id: 'a', row: 'a', command: 'genir bm25 --dataset a --json', dataset: 'a', metrics: { 'R@1': 0.5 }, tolerance: 0, quick: true },
  ],
};
const withEntry = (patch: Record<string, unknown>) => JSON.stringify({ ...valid, entries: [{ ...valid.entries[0], ...patch }] });
test('a script command is a run of a script of scripts/ (path resolved against the checkout), never quick', () => {
  assert.ok(isScriptCommand('node --import tsx scripts/experiments/atomic-synthetic.ts --classes 200 --updates 400'));
  assert.ok(!isScriptCommand('node --import tsx /tmp/x.ts'));
  assert.ok(!isScriptCommand('node scripts/experiments/atomic-synthetic.ts'));
  assert.deepEqual(commandArgs('node --import tsx scripts/a.ts --classes 200'), ['--import', 'tsx', 'scripts/a.ts', '--classes', '200']);
  const script = {
    ...valid,
    entries: [{ ...valid.entries[0], command: 'node --import tsx scripts/a.ts --n 2', quick: false }],
  };
  assert.equal(parseRegressionTable(JSON.stringify(script), 'f.json').entries[0].command, 'node --import tsx scripts/a.ts --n 2');
  assert.throws(
    () => parseRegressionTable(JSON.stringify({ ...script, entries: [{ ...script.entries[0], quick: true }] }), 'f.json'),
    /^UserError: f\.json: entries\[0\]\.quick: a script command is not quick/,
  );
});

const invalid: [string, string, RegExp][] = [
  ['not JSON', '{', /^f\.json: not JSON/],
  ['a fractional decimals', withEntry({ decimals: 2.5 }), /^f\.json: entries\[0\]\.decimals: expected a whole number from 0 to 8$/],
  [
    'entries of one row with different labels',
    JSON.stringify({
      ...valid,
      columns: ['R@1', 'R@5'],
      entries: [
        { ...valid.entries[0], label: 'one', cells: { 'R@1': '{R@1}' } },
        { ...valid.entries[0], id: 'b', label: 'two', metrics: { 'R@5': 0.5 }, cells: { 'R@5': '{R@5}' } },
      ],
    }),
    /^f\.json: row 'a': a and b show different first cells \(label\)$/,
  ],
  ['no columns', JSON.stringify({ ...valid, columns: [] }), /^f\.json: columns: expected a non-empty array of metric names$/],
  [
    'a command without --json',
    withEntry({ command: 'genir bm25 --dataset a' }),
    /^f\.json: entries\[0\]\.command: expected 'genir … --json'/,
  ],
  ['a missing column value', withEntry({ metrics: {} }), /^f\.json: entries\[0\]\.metrics\.R@1: expected a number/],
  [
    'a metric that is no column',
    withEntry({ metrics: { 'R@1': 0.5, 'R@5': 0.6 } }),
    /^f\.json: entries\[0\]\.metrics\.R@5: not one of the columns \(R@1\)$/,
  ],
  ['a negative tolerance', withEntry({ tolerance: -1 }), /^f\.json: entries\[0\]\.tolerance: expected a number >= 0$/],
  ['a misspelt field', withEntry({ quik: true }), /^f\.json: entries\[0\]\.quik: unknown field/],
  ['a bad table name', JSON.stringify({ ...valid, table: 'BM 25' }), /^f\.json: table 'BM 25': expected lower-case letters/],
  [
    'a report path with a broken selector',
    withEntry({ report: 'rows[method].metrics' }),
    /^f\.json: entries\[0\]\.report: 'rows\[method\]\.metrics': '\[method\]': expected key=value pairs/,
  ],
  [
    'a setup command that is not genir',
    withEntry({ setup: ['rm -rf x'] }),
    /^f\.json: entries\[0\]\.setup\[0\]: expected 'genir …', got 'rm -rf x'$/,
  ],
  [
    'a cell naming no metric of the entry',
    withEntry({ cells: { 'R@1': '{R@5}' } }),
    /^f\.json: entries\[0\]\.cells\.R@1: \{R@5\} is not one of the entry's metrics$/,
  ],
  [
    'a metric no cell shows',
    withEntry({ metrics: { 'R@1': 0.5, 'R@5': 0.6 }, cells: { 'R@1': '{R@1}' } }),
    /^f\.json: entries\[0\]\.metrics\.R@5: no cell shows it$/,
  ],
  ['a cell of no column', withEntry({ cells: { 'R@9': '{R@1}' } }), /^f\.json: entries\[0\]\.cells\.R@9: not one of the columns \(R@1\)$/],
  [
    'a column given twice in a row',
    JSON.stringify({ ...valid, entries: [valid.entries[0], { ...valid.entries[0], id: 'b' }] }),
    /^f\.json: row 'a': column 'R@1' is given by a and b$/,
  ],
  [
    'a documented row with a placeholder',
    JSON.stringify({ ...valid, entries: [{ id: 'a', row: 'a', note: 'old code', cells: { 'R@1': '{R@1}' } }] }),
    /^f\.json: entries\[0\]\.cells\.R@1: a documented row has no placeholders/,
  ],
  [
    'a documented row with a tolerance',
    JSON.stringify({ ...valid, entries: [{ id: 'a', row: 'a', note: 'old code', cells: { 'R@1': '0.5' }, tolerance: 0 }] }),
    /^f\.json: entries\[0\]\.tolerance: unknown field in a documented row/,
  ],
  [
    'a derived row of an unknown kind',
    JSON.stringify({ ...valid, entries: [valid.entries[0], { id: 'm', row: 'mean', derive: 'median', cells: { 'R@1': '{}' } }] }),
    /^f\.json: entries\[1\]\.derive: expected 'mean'$/,
  ],
  [
    'a row no entry completes',
    JSON.stringify({ ...valid, columns: ['R@1', 'R@5'], entries: [{ ...valid.entries[0], cells: { 'R@1': '{R@1}' } }] }),
    /^f\.json: row 'a': no entry gives column 'R@5'$/,
  ],
];
for (const [name, text, message] of invalid) {
  test(`a regressions file with ${name} is one UserError naming the file and field`, () => {
    assert.throws(
      () => parseRegressionTable(text, 'f.json'),
      (err: unknown) => err instanceof UserError && message.test(err.message) && !err.message.includes('\n'),
    );
  });
}
