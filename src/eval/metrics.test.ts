import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Qrels, Run, RunEntry } from '../data/types.js';
import { UserError } from '../util/errors.js';
import { evaluateQuery, evaluateRun, parseMetric, parseMetrics, splitMetricList } from './metrics.js';

/**
 * The fixture of most tests. q1 ranks, in trec_eval order:
 *   1 dA (not in qrels)  0.9
 *   2 d3 (grade 0)       0.8   tie with d2: document id descending puts d3 first
 *   3 d2 (grade 1)       0.8
 *   4 d1 (grade 2)       0.5
 *   5 dB (not in qrels)  0.4
 *   6 d4 (grade 1)       0.1
 *   7 d9 (grade -1)      0.05  negative grade: in the pool but unjudged, never relevant
 * q2 is judged but missing from the run; q3 is judged with no relevant document;
 * q4 is in the run only. The entries are deliberately not in rank order.
 */
function fixture(): { qrels: Qrels; run: Run } {
  const qrels: Qrels = new Map([
    [
      'q1',
      new Map([
        ['d1', 2],
        ['d2', 1],
        ['d3', 0],
        ['d4', 1],
        ['d9', -1],
      ]),
    ],
    ['q2', new Map([['d5', 1]])],
    ['q3', new Map([['d6', 0]])],
  ]);
  const run: Run = new Map([
    [
      'q1',
      [
        { docId: 'd2', score: 0.8 },
        { docId: 'd1', score: 0.5 },
        { docId: 'd9', score: 0.05 },
        { docId: 'dA', score: 0.9 },
        { docId: 'd4', score: 0.1 },
        { docId: 'd3', score: 0.8 },
        { docId: 'dB', score: 0.4 },
      ],
    ],
    [
      'q3',
      [
        { docId: 'd6', score: 0.5 },
        { docId: 'd7', score: 0.3 },
      ],
    ],
    ['q4', [{ docId: 'd1', score: 1 }]],
  ]);
  return { qrels, run };
}

const log2 = Math.log2;

function close(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? ''} expected ${expected}, got ${actual}`);
}

test('hand-computed values for every metric on a graded ranking with ties and unjudged documents', () => {
  const { qrels, run } = fixture();
  const idealAt5 = 2 / log2(2) + 1 / log2(3) + 1 / log2(4);
  const expected: Record<string, number> = {
    RR: 1 / 3, // first relevant is d2 at rank 3 (after the tie-break)
    'RR@2': 0,
    'RR@3': 1 / 3,
    'MRR@10': 1 / 3,
    'P@1': 0,
    'P@5': 2 / 5,
    'P@10': 3 / 10, // only 7 retrieved, still divided by 10
    'R@1': 0,
    'R@5': 2 / 3,
    'R@10': 1,
    'R@1000': 1,
    'Success@1': 0,
    'Success@3': 1,
    AP: (1 / 3 + 2 / 4 + 3 / 6) / 3,
    MAP: (1 / 3 + 2 / 4 + 3 / 6) / 3,
    'AP@4': (1 / 3 + 2 / 4) / 3, // relevant beyond the cutoff still count in the denominator
    'nDCG@1': 0,
    'nDCG@5': (1 / log2(4) + 2 / log2(5)) / idealAt5,
    nDCG: (1 / log2(4) + 2 / log2(5) + 1 / log2(7)) / idealAt5,
    'nDCG@100': (1 / log2(4) + 2 / log2(5) + 1 / log2(7)) / idealAt5,
  };
  const result = evaluateRun(run, qrels, Object.keys(expected));
  assert.equal(result.queries, 3);
  assert.deepEqual([...result.perQuery.keys()], ['q1', 'q2', 'q3']);
  for (const [name, value] of Object.entries(expected)) {
    close(result.perQuery.get('q1')![name], value, name);
    close(result.perQuery.get('q2')![name], 0, `${name} of the query missing from the run`);
    close(result.perQuery.get('q3')![name], 0, `${name} of the query with no relevant document`);
    close(result.mean[name], value / 3, `mean ${name}`);
  }
});

test('relevance level and judged_only parameters, as ir-measures writes them', () => {
  const { qrels, run } = fixture();
  const result = evaluateRun(run, qrels, [
    'P(rel=2)@5',
    'RR(rel=2)',
    'R(rel=2)@3',
    'R(rel=2)@4',
    'AP(rel=2)',
    'P(judged_only=True)@2',
    'RR(judged_only=True)',
    'AP(judged_only=True)',
    'nDCG(judged_only=True)@3',
  ]);
  const q1 = result.perQuery.get('q1')!;
  close(q1['P(rel=2)@5'], 1 / 5);
  close(q1['RR(rel=2)'], 1 / 4);
  close(q1['R(rel=2)@3'], 0);
  close(q1['R(rel=2)@4'], 1);
  close(q1['AP(rel=2)'], 1 / 4);
  // judged only: d3, d2, d1, d4 at ranks 1..4 (dA, dB and the negative-grade d9 dropped).
  close(q1['P(judged_only=True)@2'], 1 / 2);
  close(q1['RR(judged_only=True)'], 1 / 2);
  close(q1['AP(judged_only=True)'], (1 / 2 + 2 / 3 + 3 / 4) / 3);
  close(q1['nDCG(judged_only=True)@3'], (1 / log2(3) + 2 / log2(4)) / (2 + 1 / log2(3) + 1 / log2(4)));
  // The global option is the same as judged_only=True on every metric.
  const global = evaluateRun(run, qrels, ['AP'], { judgedOnly: true });
  close(global.perQuery.get('q1')!.AP, q1['AP(judged_only=True)']);
});

// Expected values printed by the real trec_eval 10.0 (usnistgov/trec_eval, built from source)
// on the fixture written as TREC files:
//   trec_eval -q -c -m recip_rank -m P.1,5,10 -m recall.1,5,10 -m success.1,3 -m map -m map_cut.4 -m ndcg_cut.1,5 -m ndcg qrels run
//   trec_eval -q -c -J -m P.2 -m recip_rank -m map -m ndcg_cut.3 qrels run
//   trec_eval -q -c -l 2 -m P.5 -m recip_rank -m recall.3,4 -m map qrels run
const TREC_EVAL_MEANS: Record<string, string> = {
  AP: '0.1481',
  RR: '0.1111',
  'P@1': '0.0000',
  'P@5': '0.1333',
  'P@10': '0.1000',
  'R@1': '0.0000',
  'R@5': '0.2222',
  'R@10': '0.3333',
  nDCG: '0.1829',
  'nDCG@1': '0.0000',
  'nDCG@5': '0.1449',
  'AP@4': '0.0926',
  'Success@1': '0.0000',
  'Success@3': '0.3333',
  'AP(judged_only=True)': '0.2130',
  'RR(judged_only=True)': '0.1667',
  'P(judged_only=True)@2': '0.1667',
  'nDCG(judged_only=True)@3': '0.1736',
};
const TREC_EVAL_Q1: Record<string, string> = {
  nDCG: '0.5486',
  'nDCG@5': '0.4348',
  AP: '0.4444',
  'AP@4': '0.2778',
  'nDCG(judged_only=True)@3': '0.5209',
  'AP(judged_only=True)': '0.6389',
  'AP(rel=2)': '0.2500',
  'RR(rel=2)': '0.2500',
  'P(rel=2)@5': '0.2000',
  'R(rel=2)@3': '0.0000',
  'R(rel=2)@4': '1.0000',
};

test('matches the numbers the real trec_eval -c printed for the fixture', () => {
  const { qrels, run } = fixture();
  const means = evaluateRun(run, qrels, Object.keys(TREC_EVAL_MEANS));
  for (const [name, printed] of Object.entries(TREC_EVAL_MEANS)) assert.equal(means.mean[name].toFixed(4), printed, name);
  const q1 = evaluateRun(run, qrels, Object.keys(TREC_EVAL_Q1)).perQuery.get('q1')!;
  for (const [name, printed] of Object.entries(TREC_EVAL_Q1)) assert.equal(q1[name].toFixed(4), printed, name);
});

test('ties are broken by document id descending in byte order, not numerically', () => {
  const qrels: Qrels = new Map([['q', new Map([['10', 1]])]]);
  // "9" > "10" as strings, so "9" ranks first and the relevant "10" second.
  const run: Run = new Map([
    [
      'q',
      [
        { docId: '10', score: 1 },
        { docId: '9', score: 1 },
      ],
    ],
  ]);
  assert.equal(evaluateRun(run, qrels, ['RR']).mean.RR, 1 / 2);
  // A higher score always wins over the id.
  const run2: Run = new Map([
    [
      'q',
      [
        { docId: '9', score: 1 },
        { docId: '10', score: 1.5 },
      ],
    ],
  ]);
  assert.equal(evaluateRun(run2, qrels, ['RR']).mean.RR, 1);
});

test('empty runs, empty rankings and cutoffs beyond the ranking score 0 or divide by k', () => {
  const { qrels } = fixture();
  const empty = evaluateRun(new Map(), qrels, ['nDCG@10', 'RR', 'P@5', 'R@100', 'AP', 'Success@10']);
  assert.equal(empty.queries, 3);
  for (const value of Object.values(empty.mean)) assert.equal(value, 0);

  const emptyRanking = evaluateQuery('q1', [], qrels.get('q1'), parseMetrics(['nDCG', 'P@5', 'AP']));
  assert.deepEqual(emptyRanking, { nDCG: 0, 'P@5': 0, AP: 0 });

  const one: RunEntry[] = [{ docId: 'd1', score: 3 }];
  const values = evaluateQuery('q1', one, qrels.get('q1'), parseMetrics(['P@1000', 'R@1000', 'nDCG@1000', 'Success@1000']));
  close(values['P@1000'], 1 / 1000);
  close(values['R@1000'], 1 / 3);
  close(values['nDCG@1000'], 2 / (2 + 1 / log2(3) + 1 / log2(4)));
  assert.equal(values['Success@1000'], 1);
});

test('a query without judgments and a qrels set without queries', () => {
  const values = evaluateQuery('q', [{ docId: 'x', score: 1 }], undefined, parseMetrics(['nDCG@10', 'R@10', 'AP', 'RR']));
  assert.deepEqual(values, { 'nDCG@10': 0, 'R@10': 0, AP: 0, RR: 0 });
  const none = evaluateRun(new Map([['q', [{ docId: 'x', score: 1 }]]]), new Map(), ['AP']);
  assert.equal(none.queries, 0);
  assert.ok(Number.isNaN(none.mean.AP));
});

test('averageOver "run" scores only the judged queries the run has (pytrec_eval / BEIR)', () => {
  const { qrels, run } = fixture();
  const result = evaluateRun(run, qrels, ['RR'], { averageOver: 'run' });
  assert.equal(result.queries, 2); // q1 and q3; q2 is missing from the run, q4 has no judgments
  close(result.mean.RR, 1 / 3 / 2);
});

test('nDCG gains are the raw grades and the ideal ranking comes from all judged documents', () => {
  const qrels: Qrels = new Map([
    [
      'q',
      new Map([
        ['a', 3],
        ['b', 1],
        ['c', 2],
        ['z', 3],
      ]),
    ],
  ]);
  const run: Run = new Map([
    [
      'q',
      [
        { docId: 'b', score: 3 },
        { docId: 'c', score: 2 },
        { docId: 'a', score: 1 },
      ],
    ],
  ]);
  const ideal2 = 3 / log2(2) + 3 / log2(3);
  const dcg2 = 1 / log2(2) + 2 / log2(3);
  const result = evaluateRun(run, qrels, ['nDCG@2', 'nDCG']);
  close(result.mean['nDCG@2'], dcg2 / ideal2);
  close(result.mean.nDCG, (dcg2 + 3 / log2(4)) / (ideal2 + 2 / log2(4) + 1 / log2(5)));
});

test('a document listed twice, or a NaN score, is refused', () => {
  const qrels: Qrels = new Map([['q', new Map([['a', 1]])]]);
  const twice: Run = new Map([
    [
      'q',
      [
        { docId: 'x', score: 1 },
        { docId: 'y', score: 0.5 },
        { docId: 'x', score: 0.2 },
      ],
    ],
  ]);
  assert.throws(
    () => evaluateRun(twice, qrels, ['AP']),
    (err: Error) => err instanceof UserError && /'x' twice/.test(err.message),
  );
  const nan: Run = new Map([['q', [{ docId: 'a', score: Number.NaN }]]]);
  assert.throws(() => evaluateRun(nan, qrels, ['AP']), UserError);
});

test('parseMetric reads ir-measures names, aliases, parameters and trec_eval names', () => {
  assert.deepEqual(parseMetric('nDCG@10'), { name: 'nDCG@10', measure: 'nDCG', cutoff: 10, rel: 1, judgedOnly: false });
  assert.deepEqual(parseMetric('nDCG'), { name: 'nDCG', measure: 'nDCG', cutoff: undefined, rel: 1, judgedOnly: false });
  assert.equal(parseMetric('MRR@10').measure, 'RR');
  assert.equal(parseMetric('RR').cutoff, undefined);
  assert.equal(parseMetric('MAP').measure, 'AP');
  assert.equal(parseMetric('AP@100').cutoff, 100);
  assert.equal(parseMetric('Success@5').measure, 'Success');
  assert.deepEqual(parseMetric('P(rel=2)@10'), { name: 'P(rel=2)@10', measure: 'P', cutoff: 10, rel: 2, judgedOnly: false });
  assert.equal(parseMetric('AP(rel=2,judged_only=True)').judgedOnly, true);
  assert.equal(parseMetric('ndcg_cut.10').cutoff, 10);
  assert.equal(parseMetric('ndcg_cut_10').measure, 'nDCG');
  assert.equal(parseMetric('recip_rank').measure, 'RR');
  assert.equal(parseMetric('recall.100').measure, 'R');
  assert.equal(parseMetric('P_5').cutoff, 5);
  assert.equal(parseMetric('map').measure, 'AP');
  assert.equal(parseMetric('map_cut.10').cutoff, 10);
  assert.equal(parseMetric('success.1').measure, 'Success');
});

test('parseMetric refuses unknown names, missing cutoffs and bad parameters with the valid forms', () => {
  assert.throws(
    () => parseMetric('BLEU'),
    (err: Error) => err instanceof UserError && /valid forms: nDCG@k/.test(err.message),
  );
  assert.throws(() => parseMetric('R'), /needs a cutoff/);
  assert.throws(() => parseMetric('P'), /needs a cutoff/);
  assert.throws(() => parseMetric('Success'), /needs a cutoff/);
  assert.throws(() => parseMetric('nDCG@0'), /positive integer/);
  assert.throws(() => parseMetric('nDCG(rel=2)@10'), /no rel parameter/);
  assert.throws(() => parseMetric('P(rel=x)@10'), /non-negative integer/);
  assert.throws(() => parseMetric('P(judged_only=yes)@10'), /True or False/);
  assert.throws(() => parseMetric('P(depth=3)@10'), /unknown parameter/);
  assert.throws(() => parseMetric('ndcg_cut'), UserError);
  assert.throws(() => parseMetrics([]), UserError);
});

test('splitMetricList keeps commas inside parentheses', () => {
  assert.deepEqual(splitMetricList('nDCG@10, P(rel=2,judged_only=True)@5,,AP'), ['nDCG@10', 'P(rel=2,judged_only=True)@5', 'AP']);
});

test('evaluateRun is fast enough to call inside training loops', () => {
  // 2,000 queries x 100 documents x 7 metrics; the full benchmark is bench/eval-metrics.ts.
  const qrels: Qrels = new Map();
  const run: Run = new Map();
  for (let q = 0; q < 2000; q++) {
    qrels.set(
      `q${q}`,
      new Map([
        [`d${q % 97}`, 1],
        [`d${(q * 7) % 101}`, 2],
      ]),
    );
    run.set(
      `q${q}`,
      Array.from({ length: 100 }, (_, i) => ({ docId: `d${(i * 13 + q) % 1000}`, score: (i * 37) % 17 })),
    );
  }
  const start = performance.now();
  const result = evaluateRun(run, qrels, ['nDCG@10', 'RR@10', 'R@100', 'P@10', 'AP', 'Success@10', 'nDCG']);
  const elapsed = performance.now() - start;
  assert.equal(result.queries, 2000);
  // Cold (JIT warm-up included) this took ~250 ms on the shared 2-core dev machine under load;
  // the bound only catches an accidental quadratic path.
  assert.ok(elapsed < 3000, `took ${elapsed} ms`);
});
