import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Qrels, Run, RunEntry } from '../data/types.js';
import { evaluateRun } from '../eval/metrics.js';
import {
  DEFAULT_ALPHA_GRID,
  fuseLists,
  fuseRuns,
  interpolation,
  interpolationFusion,
  normalizeScores,
  reciprocalRankFusion,
  simplexGrid,
  tuneAlpha,
  tuneFusionWeights,
} from './hybrid.js';

const entries = (pairs: [string, number][]): RunEntry[] => pairs.map(([docId, score]) => ({ docId, score }));

function assertFused(actual: RunEntry[], expected: [string, number][]): void {
  assert.deepEqual(
    actual.map((e) => e.docId),
    expected.map(([docId]) => docId),
  );
  actual.forEach((entry, i) =>
    assert.ok(Math.abs(entry.score - expected[i][1]) < 1e-12, `${entry.docId}: ${entry.score} vs ${expected[i][1]}`),
  );
}

// GenIR: log-probabilities of its beam; BM25: scores of its top documents.
const genirList = entries([
  ['a', -0.1],
  ['b', -0.5],
  ['c', -2],
]);
const bm25List = entries([
  ['c', 12],
  ['d', 9],
]);

test('RRF: Σ 1/(k + rank); a document missing from a list gets rank n + 1 of that list; ties in trec_eval order', () => {
  const fused = reciprocalRankFusion([genirList, bm25List]);
  // GenIR has 3 documents (floor 1/64), BM25 2 (floor 1/63). a and c tie at 1/61 + 1/63: the larger id first.
  assertFused(fused, [
    ['c', 1 / 63 + 1 / 61],
    ['a', 1 / 61 + 1 / 63],
    ['b', 1 / 62 + 1 / 63],
    ['d', 1 / 64 + 1 / 62],
  ]);
  // k and weights change the sums.
  assertFused(reciprocalRankFusion([genirList, bm25List], { k: 0, weights: [2, 1] }), [
    ['a', 2 / 1 + 1 / 3],
    ['c', 2 / 3 + 1 / 1],
    ['b', 2 / 2 + 1 / 3],
    ['d', 2 / 4 + 1 / 2],
  ]);
});

test("RRF floor: a document BM25 ranks first but outside GenIR's short beam beats one both systems rank last", () => {
  const genir = entries([
    ['x', -0.1],
    ['y', -0.2],
  ]);
  const bm25 = entries([
    ['z', 30],
    ['p', 20],
    ['q', 10],
    ['r', 5],
    ['y', 1],
  ]);
  const fused = reciprocalRankFusion([genir, bm25]);
  const score = (id: string) => fused.find((e) => e.docId === id)!.score;
  // z: GenIR floor 1/(60 + 3) + 1/61 = 0.0323 > y: 1/62 + 1/65 = 0.0315. With a zero floor (plain RRF) z would score 1/61 = 0.0164 < y.
  assert.ok(Math.abs(score('z') - (1 / 63 + 1 / 61)) < 1e-15);
  assert.ok(score('z') > score('y'));
  // x (GenIR first, BM25 floor 1/66) lands between BM25's q and y.
  assert.deepEqual(
    fused.map((e) => e.docId),
    ['z', 'p', 'q', 'x', 'y', 'r'],
  );
});

test('min-max interpolation: α·GenIR + (1 − α)·BM25, each scaled to [0, 1] per query; a missing document gets one mean step below the last', () => {
  const genir = entries([
    ['a', -1],
    ['b', -2],
    ['c', -5],
  ]);
  const bm25 = entries([
    ['b', 10],
    ['d', 6],
    ['e', 2],
  ]);
  // GenIR a 1, b 0.75, c 0; BM25 b 1, d 0.5, e 0; both floors 0 − (1 − 0) / 2 = −0.5; α = 0.6.
  assert.equal(normalizeScores(genir, 'minmax').floor, -0.5);
  assertFused(interpolationFusion([genir, bm25], { weights: [0.6, 0.4] }), [
    ['b', 0.6 * 0.75 + 0.4],
    ['a', 0.6 - 0.4 * 0.5],
    ['d', -0.6 * 0.5 + 0.4 * 0.5],
    ['c', -0.4 * 0.5],
    ['e', -0.6 * 0.5],
  ]);
  assert.deepEqual(fuseLists([genir, bm25], interpolation(0.6)), interpolationFusion([genir, bm25], { weights: [0.6, 0.4] }));
});

test('z-score interpolation: (s − mean) / std per list; a missing document gets one mean step below the lowest z', () => {
  const genir = entries([
    ['a', -1],
    ['b', -2],
    ['c', -5],
  ]);
  const bm25 = entries([
    ['b', 10],
    ['d', 6],
    ['e', 2],
  ]);
  // Mean −8/3: deviations 5/3, 2/3, −7/3.
  const genirStd = Math.sqrt(((5 / 3) ** 2 + (2 / 3) ** 2 + (7 / 3) ** 2) / 3);
  const z = { a: (-1 + 8 / 3) / genirStd, b: (-2 + 8 / 3) / genirStd, c: (-5 + 8 / 3) / genirStd };
  const bm25Std = Math.sqrt(32 / 3);
  const zb = { b: 4 / bm25Std, d: 0, e: -4 / bm25Std };
  const genirFloor = z.c - (z.a - z.c) / 2;
  const bm25Floor = zb.e - (zb.b - zb.e) / 2;
  const normalized = normalizeScores(genir, 'zscore');
  assert.ok(Math.abs(normalized.scores[0] - z.a) < 1e-12 && Math.abs(normalized.floor - genirFloor) < 1e-12);
  assertFused(interpolationFusion([genir, bm25], { weights: [0.5, 0.5], normalization: 'zscore' }), [
    ['b', 0.5 * z.b + 0.5 * zb.b],
    ['a', 0.5 * z.a + 0.5 * bm25Floor],
    ['d', 0.5 * genirFloor + 0.5 * zb.d],
    ['e', 0.5 * genirFloor + 0.5 * zb.e],
    ['c', 0.5 * z.c + 0.5 * bm25Floor],
  ]);
});

test("the α grid's ends are the systems themselves: α = 0 is exactly the short BM25 list, α = 1 exactly the beam", () => {
  // A cross-script query: BM25 matches two documents; GenIR's beam has four.
  const genir = entries([
    ['g1', -0.2],
    ['g2', -0.9],
    ['b2', -1.5],
    ['g3', -3],
  ]);
  const bm25 = entries([
    ['b1', 8],
    ['b2', 2],
  ]);
  for (const normalization of ['minmax', 'zscore'] as const) {
    // Neither the other system's documents (in id order, they would add chance hits) nor a reshuffled last entry.
    assert.deepEqual(
      fuseLists([genir, bm25], interpolation(0, normalization)).map((e) => e.docId),
      ['b1', 'b2'],
      normalization,
    );
    assert.deepEqual(
      fuseLists([genir, bm25], interpolation(1, normalization)).map((e) => e.docId),
      ['g1', 'g2', 'b2', 'g3'],
      normalization,
    );
  }
  assert.deepEqual(
    reciprocalRankFusion([genir, bm25], { weights: [0, 1] }).map((e) => e.docId),
    ['b1', 'b2'],
  );
});

test("α = 0 is BM25's ranking, α = 1 GenIR's (the documents of the other list come after)", () => {
  const genir = entries([
    ['g1', -0.2],
    ['g2', -0.9],
    ['shared', -1.5],
    ['g3', -3],
  ]);
  const bm25 = entries([
    ['shared', 8],
    ['b1', 7],
    ['b2', 2],
    ['b3', 1],
  ]);
  const onlyBm25 = fuseLists([genir, bm25], interpolation(0));
  assert.deepEqual(
    onlyBm25.slice(0, 3).map((e) => e.docId),
    ['shared', 'b1', 'b2'],
  );
  const onlyGenir = fuseLists([genir, bm25], interpolation(1, 'zscore'));
  assert.deepEqual(
    onlyGenir.slice(0, 3).map((e) => e.docId),
    ['g1', 'g2', 'shared'],
  );
});

test('degenerate lists: one document (or equal scores) gets 1, the others 0; an empty list adds nothing', () => {
  const single = normalizeScores(entries([['only', -3]]), 'zscore');
  assert.deepEqual([...single.scores, single.floor], [1, 0]);
  const genir = entries([
    ['a', -0.5],
    ['b', -1],
    ['c', -4],
  ]);
  assertFused(fuseLists([genir, []], interpolation(0.5)), [
    ['a', 0.5],
    ['b', 0.5 * (3 / 3.5)],
    ['c', 0],
  ]);
  assertFused(reciprocalRankFusion([genir, []]), [
    ['a', 1 / 61],
    ['b', 1 / 62],
    ['c', 1 / 63],
  ]);
  assert.deepEqual(fuseLists([[], []], { method: 'rrf' }), []);
});

test('lists in any order, with a repeated document, fuse as their trec_eval order with the best entry kept', () => {
  const sorted = entries([
    ['a', 3],
    ['b', 2],
    ['c', 1],
  ]);
  const shuffled = entries([
    ['c', 1],
    ['a', 3],
    ['b', 0.5],
    ['b', 2],
  ]);
  const other = entries([
    ['c', 5],
    ['d', 4],
  ]);
  assert.deepEqual(reciprocalRankFusion([shuffled, other]), reciprocalRankFusion([sorted, other]));
  assert.deepEqual(
    interpolationFusion([shuffled, other], { weights: [0.3, 0.7], normalization: 'zscore' }),
    interpolationFusion([sorted, other], { weights: [0.3, 0.7], normalization: 'zscore' }),
  );
  assert.equal(fuseLists([sorted, other], { method: 'rrf' }, 2).length, 2);
});

test('bad fusion settings are RangeErrors', () => {
  assert.throws(() => reciprocalRankFusion([genirList], { k: -1 }), /k must be/);
  assert.throws(() => reciprocalRankFusion([genirList, bm25List], { weights: [1] }), /1 weights for 2 lists/);
  assert.throws(() => interpolationFusion([genirList, bm25List], { weights: [0.5, -0.5] }), /non-negative/);
  assert.throws(() => interpolation(1.2), /alpha must be in \[0, 1\]/);
  assert.throws(() => reciprocalRankFusion([entries([['a', Number.NaN]])]), /finite/);
});

test("fuseRuns fuses query by query; a query missing from one run keeps the other run's list", () => {
  const genir: Run = new Map([['q1', genirList]]);
  const bm25: Run = new Map([
    ['q1', bm25List],
    [
      'q2',
      entries([
        ['z', 1],
        ['y', 0.5],
      ]),
    ],
  ]);
  const fused = fuseRuns([genir, bm25], { method: 'rrf' }, 3);
  assert.deepEqual([...fused.keys()], ['q1', 'q2']);
  assert.deepEqual(fused.get('q1'), reciprocalRankFusion([genirList, bm25List]).slice(0, 3));
  assert.deepEqual(
    fused.get('q2')!.map((e) => e.docId),
    ['z', 'y'],
  );
});

test("tuneAlpha: the grid's best mean metric; ties go to the smaller α", () => {
  // q1: GenIR finds r1 first, BM25 second; q2: BM25 finds r2 first, GenIR third.
  const genir: Run = new Map([
    [
      'q1',
      entries([
        ['r1', -0.1],
        ['x', -3],
        ['y', -4],
      ]),
    ],
    [
      'q2',
      entries([
        ['z', -0.1],
        ['w', -0.2],
        ['r2', -5],
      ]),
    ],
  ]);
  const bm25: Run = new Map([
    [
      'q1',
      entries([
        ['x', 10],
        ['r1', 9.9],
        ['y', 1],
      ]),
    ],
    [
      'q2',
      entries([
        ['r2', 10],
        ['z', 2],
        ['w', 1],
      ]),
    ],
  ]);
  const qrels: Qrels = new Map([
    ['q1', new Map([['r1', 1]])],
    ['q2', new Map([['r2', 1]])],
  ]);
  const tuned = tuneAlpha(genir, bm25, qrels);
  assert.equal(tuned.grid.length, DEFAULT_ALPHA_GRID.length);
  // α = 0: q1 RR 0.5, q2 1; r1 overtakes x once α > 0.0146 and r2 stays first while α < 0.4706.
  assert.equal(tuned.grid[0].value, 0.75);
  assert.equal(tuned.alpha, 0.05);
  assert.equal(tuned.value, 1);
  // Beyond α = 0.4706 z passes r2 (q2 RR 1/2), beyond 0.5052 w does too (RR 1/3).
  const expected = (alpha: number) => (alpha === 0 ? 0.75 : alpha < 0.4706 ? 1 : alpha < 0.5052 ? 0.75 : (1 + 1 / 3) / 2);
  for (const { alpha, value } of tuned.grid) assert.ok(Math.abs(value - expected(alpha)) < 1e-12, `alpha ${alpha}: ${value}`);
  // The reported value is the metric of the fused run at the chosen α.
  const check = evaluateRun(fuseRuns([genir, bm25], interpolation(tuned.alpha), 100), qrels, ['RR@10']).mean['RR@10'];
  assert.equal(check, tuned.value);
  assert.equal(tuneAlpha(genir, bm25, qrels, { grid: [0.5, 0.1, 0.2] }).alpha, 0.1);
});

test('simplexGrid: weights in steps of 1/n summing to 1, the first ascending; for two lists the α grid', () => {
  assert.deepEqual(simplexGrid(3, 2), [
    [0, 0, 1],
    [0, 0.5, 0.5],
    [0, 1, 0],
    [0.5, 0, 0.5],
    [0.5, 0.5, 0],
    [1, 0, 0],
  ]);
  assert.equal(simplexGrid(3, 20).length, 231);
  for (const weights of simplexGrid(4, 5)) assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(
    simplexGrid(2, 20).map((w) => w[0]),
    [...DEFAULT_ALPHA_GRID],
  );
  assert.throws(() => simplexGrid(0, 20), RangeError);
  assert.throws(() => simplexGrid(2, 0), RangeError);
});

test('tuneFusionWeights: a third run that alone ranks the relevant documents first gets weight; two runs agree with tuneAlpha', () => {
  const run = (lists: Record<string, [string, number][]>): Run => new Map(Object.entries(lists).map(([q, l]) => [q, entries(l)]));
  // q1 and q2: the relevant document is 3rd in A and B, 1st in C; q3: A and B rank it first, C second.
  const a = run({
    q1: [
      ['x', 3],
      ['y', 2],
      ['r1', 1],
    ],
    q2: [
      ['u', 3],
      ['v', 2],
      ['r2', 1],
    ],
    q3: [
      ['r3', 3],
      ['s', 2],
      ['t', 1],
    ],
  });
  const b = run({
    q1: [
      ['y', 3],
      ['x', 2],
      ['r1', 1],
    ],
    q2: [
      ['v', 3],
      ['u', 2],
      ['r2', 1],
    ],
    q3: [
      ['r3', 3],
      ['t', 2],
      ['s', 1],
    ],
  });
  const c = run({
    q1: [
      ['r1', 3],
      ['x', 2],
      ['y', 1],
    ],
    q2: [
      ['r2', 3],
      ['u', 2],
      ['v', 1],
    ],
    q3: [
      ['s', 3],
      ['r3', 2],
      ['t', 1],
    ],
  });
  const qrels: Qrels = new Map([
    ['q1', new Map([['r1', 1]])],
    ['q2', new Map([['r2', 1]])],
    ['q3', new Map([['r3', 1]])],
  ]);
  const tuned = tuneFusionWeights([a, b, c], qrels, { steps: 10 });
  assert.equal(tuned.tried, 66);
  assert.equal(tuned.value, 1, JSON.stringify(tuned.weights));
  assert.ok(tuned.weights[2] > 0 && tuned.weights[2] < 1);
  const fused = fuseRuns([a, b, c], tuned.spec, 100);
  assert.equal(evaluateRun(fused, qrels, ['RR@10']).mean['RR@10'], tuned.value);
  // Without C no weighting finds r1 and r2 first.
  assert.ok(tuneFusionWeights([a, b], qrels, { steps: 10 }).value < 1);
  const alpha = tuneAlpha(a, c, qrels);
  const two = tuneFusionWeights([a, c], qrels);
  assert.equal(two.weights[0], alpha.alpha);
  assert.equal(two.value, alpha.value);
  assert.equal(tuneFusionWeights([a, b, c], qrels, { method: 'rrf', steps: 4 }).spec.method, 'rrf');
});

test('HybridSearcher (package API): pooled translations collapse to their docid key; hits fuse the beam with BM25', async () => {
  const {
    HybridSearcher: PublicHybridSearcher,
    Bm25Index,
    buildDocids,
    SubwordTokenizer,
    T5Model,
    t5Config,
    GenerativeSearcher,
    getAnalyzer,
  } = await import('../index.js');
  const { specFromJson } = await import('../text/tokenizer/spec.js');
  const paragraphs = [
    { key: 'p1', en: 'Glaciers feed alpine rivers with melt water.', de: 'Gletscher speisen Alpenflüsse mit Schmelzwasser.' },
    { key: 'p2', en: 'The moon pulls the tides of the ocean.', de: 'Der Mond zieht die Gezeiten des Ozeans.' },
    { key: 'p3', en: 'Woodpeckers drum on the bark of trees.', de: 'Spechte trommeln auf die Rinde der Bäume.' },
  ];
  const docs = paragraphs.flatMap((p) =>
    (['en', 'de'] as const).map((lang) => ({ id: `${lang}/${p.key}`, title: p.key, text: p[lang], lang, relevanceId: p.key })),
  );
  const base = SubwordTokenizer.train(
    docs.map((d) => d.text),
    { vocabSize: 300 },
  );
  const docids = await buildDocids(docs, {
    scheme: 'atomic',
    textVocabSize: base.subwordVocabSize,
    eosId: base.eosId,
    groupBy: 'relevanceId',
  });
  const tokenizer = new SubwordTokenizer({ ...specFromJson(base.toJson(), 'test'), docidCount: docids.layout.docidVocabSize });
  const config = t5Config('tiny', {
    vocabSize: tokenizer.subwordVocabSize,
    docidVocabSize: docids.layout.docidVocabSize,
    dModel: 16,
    dKv: 4,
    numHeads: 4,
    dFf: 32,
    numLayers: 1,
    numDecoderLayers: 1,
    dropoutRate: 0,
  });
  const model = T5Model.create(config, 2, { threads: 1 });
  const generative = new GenerativeSearcher({
    decoder: model,
    tokenizer,
    docids,
    titles: new Map(paragraphs.map((p) => [p.key, `title ${p.key}`])),
  });
  const index = await Bm25Index.build(docs, { analyzer: getAnalyzer('multilingual', 'en') });
  const searcher = new PublicHybridSearcher({ generative, bm25: index, keyOf: new Map(docs.map((d) => [d.id, d.relevanceId])) });
  try {
    const queries = [
      { id: 'q1', text: 'Mond Gezeiten', lang: 'de' },
      { id: 'q2', text: 'melt water of glaciers', lang: 'en' },
    ];
    const runs = await searcher.searchRuns(queries, { beam: 3, k: 3, fusion: interpolation(0.4), bm25Threads: 1 });
    // BM25 indexes both translations of each paragraph; collapsed, every entry is a docid key, each once.
    for (const entries of runs.bm25.values()) {
      const ids = entries.map((e) => e.docId);
      assert.equal(new Set(ids).size, ids.length);
      for (const id of ids) assert.ok(docids.indexOf(id) >= 0, id);
    }
    assert.equal(runs.bm25.get('q1')![0].docId, 'p2');
    assert.equal(runs.bm25.get('q2')![0].docId, 'p1');
    for (const query of queries) {
      assert.deepEqual(runs.hybrid.get(query.id), fuseLists([runs.genir.get(query.id)!, runs.bm25.get(query.id)!], interpolation(0.4), 3));
    }
    const [hits] = await searcher.search([{ text: 'Mond Gezeiten', lang: 'de' }], {
      beam: 3,
      k: 3,
      fusion: interpolation(0.4),
      bm25Threads: 1,
    });
    assert.deepEqual(
      hits.map((h) => h.docId),
      runs.hybrid.get('q1')!.map((e) => e.docId),
    );
    assert.equal(hits[0].title, `title ${hits[0].docId}`);
    assert.equal(hits.find((h) => h.docId === 'p2')!.bm25Rank, 1);
    for (const hit of hits) assert.ok(hit.genirRank === null || (hit.genirRank >= 1 && hit.genirRank <= 3));
  } finally {
    await model.release();
  }
});
