import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runGenir } from '../testing.js';

const dataDir = process.env.GENIR_DATA_DIR;
const needsData = dataDir ? false : 'GENIR_DATA_DIR is not set';
const root = mkdtempSync(join(tmpdir(), 'genir-reinforced-ir-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface ExperimentLine {
  target: string;
  synthetic: string;
  synthetic_source_mrr: number;
  rows: { system: string; 'nDCG@10': number; 'R@100': number; p_vs_previous: number | null }[];
  bm25: { 'nDCG@10': number; 'R@100': number };
  rounds: { round: number; syntheticQueries: number; preferencePairs: number; rlgfLists: number }[];
}

/** `genir experiment reinforced-ir --quick` on Cranfield, single-threaded, with a JSON last line. */
const quickExperiment = (rounds: number, ...extra: string[]): string[] => [
  ...['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--rounds', String(rounds)],
  ...['--quick', '--threads', '1', '--json', ...extra],
];

/** The experiment's JSON line without what depends on the machine (wall-clock seconds, memory). */
function withoutTimings(line: string): unknown {
  return JSON.parse(line, (key, value: unknown) => (key === 'seconds' || key === 'peak_rss_mb' ? undefined : value));
}

test(
  'genir experiment reinforced-ir --quick: every row from dense-source to the last round, BM25, paired p-values, JSON last line; a second run prints the same numbers',
  { skip: needsData },
  async () => {
    // Two runs side by side: they compete for the CPU, so a stage budgeted in time rather than in updates would differ between them.
    const [result, again] = await Promise.all([
      runGenir(quickExperiment(2), { env: { GENIR_DATA_DIR: dataDir } }),
      runGenir(quickExperiment(2), { env: { GENIR_DATA_DIR: dataDir } }),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(again.code, 0, again.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(withoutTimings(again.stdout.trimEnd().split('\n').at(-1)!), withoutTimings(lines[lines.length - 1]));
    const json = JSON.parse(lines[lines.length - 1]) as ExperimentLine;
    assert.equal(json.target, 'cranfield');
    // By default the synthetic queries are sentences of their documents, and the line says so with D0's MRR of those documents.
    assert.equal(json.synthetic, 'sentences');
    assert.ok(json.synthetic_source_mrr > 0 && json.synthetic_source_mrr <= 1);
    assert.doesNotMatch(result.stderr, /doc2query:/, 'no doc2query model is trained for sentence queries');
    assert.deepEqual(
      json.rows.map((r) => r.system),
      ['dense-source', 'dense-source+aug', 'round-1', 'round-2'],
    );
    for (const row of json.rows) {
      for (const metric of ['nDCG@10', 'R@100'] as const)
        assert.ok(row[metric] >= 0 && row[metric] <= 1, `${row.system} ${metric} ${row[metric]}`);
    }
    assert.equal(json.rows[0].p_vs_previous, null);
    for (const row of json.rows.slice(1)) assert.ok(row.p_vs_previous !== null && row.p_vs_previous > 0 && row.p_vs_previous <= 1);
    // BM25 on Cranfield's first 20 test queries: a real ranking, far from zero.
    assert.ok(json.bm25['nDCG@10'] > 0.2, String(json.bm25['nDCG@10']));
    assert.equal(json.rounds.length, 2);
    for (const round of json.rounds) {
      assert.equal(round.syntheticQueries, 8);
      assert.ok(round.preferencePairs <= round.syntheticQueries && round.rlgfLists <= round.syntheticQueries);
    }
    assert.match(result.stdout, /round-2 /);
    assert.match(result.stderr, /round 1 RLRF: \d+ of 8 queries kept as preference pairs/);
  },
);

test(
  'genir train reinforced-ir --quick: saves a dense retriever over the target that genir search --dense reads, a generator and a report',
  { skip: needsData },
  async () => {
    const out = join(root, 'model');
    const result = await runGenir(
      [
        'train',
        'reinforced-ir',
        '--source',
        'squad-dev',
        '--target',
        'cranfield',
        '--rounds',
        '1',
        '--quick',
        '--synthetic',
        'doc2query',
        '--threads',
        '1',
        '--out',
        out,
        '--json',
      ],
      { env: { GENIR_DATA_DIR: dataDir } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /doc2query: 30 updates/);
    assert.match(result.stderr, /synthetic target queries from doc2query/);
    assert.deepEqual(readdirSync(out).sort(), ['generator', 'report.json', 'retriever']);
    assert.ok(existsSync(join(out, 'generator', 'tokenizer.json')) && existsSync(join(out, 'generator', 'model.safetensors')));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      target: string;
      synthetic: string;
      rounds: unknown[];
      dense_source: { trainedUpdates: number };
    };
    assert.equal(report.target, 'cranfield');
    assert.equal(report.synthetic, 'doc2query');
    assert.equal(report.rounds.length, 1);
    // --quick trains D0 for exactly its update budget.
    assert.deepEqual(report.dense_source, { trainedUpdates: 30 });
    assert.equal(readdirSync(root).filter((name) => name.includes('.staging-')).length, 0, 'no staging folder left behind');
    const search = await runGenir([
      'search',
      '--dense',
      join(out, 'retriever'),
      'boundary layer flow over a flat plate',
      '--k',
      '3',
      '--threads',
      '1',
    ]);
    assert.equal(search.code, 0, search.stderr);
    assert.ok(search.stdout.trim().length > 0);

    // The saved retriever as the next experiment's D0: read, not retrained, with its own vocabulary for the generator and doc2query.
    const retriever = join(out, 'retriever');
    // With the RLGF ablation settings too: they reach the loop and the JSON line records them.
    const ablation = [
      '--rlgf-order',
      'retriever',
      '--rlgf-contrastive',
      '0',
      '--rlgf-list-depth',
      '1',
      '--rlgf-negatives',
      'top',
      '--rlgf-lr',
      '1e-4',
      '--search-query',
      'plain',
    ];
    const reused = await runGenir(quickExperiment(1, '--dense-from', retriever, ...ablation), { env: { GENIR_DATA_DIR: dataDir } });
    assert.equal(reused.code, 0, reused.stderr);
    assert.match(reused.stderr, /D0 read from .*retriever/);
    assert.doesNotMatch(reused.stderr, /D0: \d+ updates/);
    const line = JSON.parse(reused.stdout.trimEnd().split('\n').at(-1)!) as ExperimentLine & {
      dense_source: { dir: string; weightsSha256: string };
      rlgf: unknown;
      search_query: string;
      held_out_queries: number;
      held_out_before: { plain: number; mixed: number };
      rows: { aug_top10_overlap: number | null }[];
    };
    assert.deepEqual(line.rlgf, { order: 'retriever', negatives: 'top', contrastive: 0, list_depth: 1, lr: 1e-4, epochs: 1 });
    assert.equal(line.search_query, 'plain');
    // Held-out synthetic queries (Cranfield's 1,400 documents leave 200 after the 8 of the round), measured before and after the round.
    assert.equal(line.held_out_queries, 200);
    assert.ok(line.held_out_before.plain > 0 && line.held_out_before.mixed > 0);
    assert.match(reused.stderr, /round 1 RLGF: .*held-out MRR plain 0\.\d{4}, mixed 0\.\d{4}/);
    // A plain round row has no augmentation, so no top-10 overlap; G0's augmented row keeps its own.
    assert.equal(line.rows[2].aug_top10_overlap, null);
    assert.ok(line.rows[1].aug_top10_overlap !== null);
    const manifest = JSON.parse(readFileSync(join(retriever, 'manifest.json'), 'utf8')) as {
      createdAt: string;
      files: { path: string; sha256: string }[];
    };
    assert.deepEqual(line.dense_source, {
      dir: retriever,
      createdAt: manifest.createdAt,
      weightsSha256: manifest.files.find((f) => f.path === 'model.safetensors')!.sha256,
    });
    assert.deepEqual(
      line.rows.map((r) => r.system),
      ['dense-source', 'dense-source+aug', 'round-1'],
    );
  },
);

test(
  'genir experiment reinforced-ir --dense-model: D0 is the encoder genir train dense trains with the same options, and the run goes on as --dense-from that directory does',
  { skip: needsData },
  async () => {
    // --quick's shape (d_model 32, 1 layer, 4 heads, d_ff 64) spelled as genir train dense's flags.
    const dense = join(root, 'd0-by-train-dense');
    const trained = await runGenir(
      [
        ...['train', 'dense', '--dataset', 'squad-dev', '--model', 'tiny', '--d-model', '32', '--d-ff', '64', '--layers', '1'],
        ...['--heads', '4', '--updates', '20', '--max-passage-tokens', '64', '--out', dense, '--threads', '1', '--no-onnx'],
      ],
      { env: { GENIR_DATA_DIR: dataDir } },
    );
    assert.equal(trained.code, 0, trained.stderr);
    const d0Scratch = () => readdirSync(tmpdir()).filter((name) => name.startsWith('genir-reinforced-ir-d0-'));
    const scratchBefore = d0Scratch();
    const [inRun, fromDir] = await Promise.all([
      runGenir(quickExperiment(1, '--dense-model', 'tiny', '--dense-updates', '20', '--dense-max-passage-tokens', '64'), {
        env: { GENIR_DATA_DIR: dataDir },
      }),
      runGenir(quickExperiment(1, '--dense-from', dense), { env: { GENIR_DATA_DIR: dataDir } }),
    ]);
    assert.equal(inRun.code, 0, inRun.stderr);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    assert.match(inRun.stderr, /D0 trained by genir train dense \(/);
    type Line = ExperimentLine & { dense_source: Record<string, unknown> };
    const lastLine = (stdout: string): Line => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as Line;
    const [a, b] = [lastLine(inRun.stdout), lastLine(fromDir.stdout)];
    const manifest = JSON.parse(readFileSync(join(dense, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    assert.deepEqual(a.dense_source, {
      trainedBy: 'genir train dense',
      model: 'tiny',
      updates: 20,
      maxPassageTokens: 64,
      weightsSha256: manifest.files.find((f) => f.path === 'model.safetensors')!.sha256,
    });
    // Same D0, same tokenizer, same seed: every row and round of the two runs is the same.
    assert.deepEqual(
      withoutTimings(JSON.stringify({ rows: a.rows, rounds: a.rounds })),
      withoutTimings(JSON.stringify({ rows: b.rows, rounds: b.rounds })),
    );
    // D0's scratch directory is gone once D0 is read.
    assert.deepEqual(d0Scratch(), scratchBefore);
  },
);

test(
  'genir train|experiment reinforced-ir: bad options, an unknown target and a non-empty --out are one-line user errors before any training',
  { skip: needsData },
  async () => {
    const busy = join(root, 'busy');
    mkdirSync(busy, { recursive: true });
    writeFileSync(join(busy, 'keep.txt'), 'mine\n');
    const cases: [string[], RegExp][] = [
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--rounds', '0', '--quick'],
        /--rounds 0: expected a positive integer/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--queries-per-round', '2.5', '--quick'],
        /--queries-per-round 2.5: expected a positive integer/,
      ],
      [['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'no-such-set', '--quick'], /no-such-set/],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--synthetic', 'llm'],
        /^genir: error: --synthetic llm: expected doc2query, words, sentences\n$/,
      ],
      [
        [
          'train',
          'reinforced-ir',
          '--source',
          'squad-dev',
          '--target',
          'cranfield',
          '--quick',
          '--out',
          join(root, 'y'),
          '--doc2query-updates',
          '5',
        ],
        /--doc2query-updates applies to --synthetic doc2query/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--rlgf-order', 'best'],
        /^genir: error: --rlgf-order best: expected generator, source-first, retriever\n$/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--rlgf-contrastive', '-1'],
        /^genir: error: --rlgf-contrastive -1: expected a non-negative number\n$/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--rlgf-list-depth', '0'],
        /^genir: error: --rlgf-list-depth 0: expected a positive integer\n$/,
      ],
      [
        // --quick lists have 4 passages (3 negatives).
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--rlgf-list-depth', '5'],
        /^genir: error: --rlgf-list-depth 5: expected at most the list size 4\n$/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--rlgf-lr', '0'],
        /^genir: error: --rlgf-lr 0: expected a positive number\n$/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--search-query', 'augmented'],
        /^genir: error: --search-query augmented: expected mixed, plain\n$/,
      ],
      [
        ['train', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--out', busy],
        /--out .*busy: exists and is not empty; pass --overwrite/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--dense-updates', '0'],
        /--dense-updates 0: expected a positive integer/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--dense-from', join(root, 'nowhere')],
        /nowhere: model directory not found/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--dense-from', busy],
        /busy.*manifest\.json: missing/,
      ],
      [
        [
          'train',
          'reinforced-ir',
          '--source',
          'squad-dev',
          '--target',
          'cranfield',
          '--quick',
          '--out',
          join(root, 'x'),
          '--dense-from',
          busy,
          '--dense-updates',
          '5',
        ],
        /--dense-updates: D0 is not trained with --dense-from/,
      ],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--dense-model', 'huge'],
        /^genir: error: --dense-model huge: expected tiny, mini, medium, small\n$/,
      ],
      [
        [
          'experiment',
          'reinforced-ir',
          '--source',
          'squad-dev',
          '--target',
          'cranfield',
          '--quick',
          '--dense-from',
          busy,
          '--dense-model',
          'mini',
        ],
        /--dense-model: D0 is not trained with --dense-from/,
      ],
      [['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'nosuch', '--quick', '--dense-model', 'tiny'], /nosuch/],
      [
        ['experiment', 'reinforced-ir', '--source', 'squad-dev', '--target', 'cranfield', '--quick', '--dense-max-passage-tokens', '64'],
        /--dense-max-passage-tokens: only with --dense-model/,
      ],
      [
        [
          'experiment',
          'reinforced-ir',
          '--source',
          'squad-dev',
          '--target',
          'cranfield',
          '--quick',
          '--dense-model',
          'mini',
          '--dense-minutes',
          '1',
        ],
        /--dense-minutes: not with --dense-model/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runGenir(args, { env: { GENIR_DATA_DIR: dataDir } });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(result.stderr, /training D0/, 'nothing trained');
      assert.equal(result.stdout, '');
    }
    assert.deepEqual(readdirSync(busy), ['keep.txt']);
  },
);
