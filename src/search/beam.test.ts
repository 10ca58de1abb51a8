import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DocidTable } from '../docids/table.js';
import { t5Config, totalVocabSize, type T5Config } from '../model/config.js';
import { T5Model } from '../model/t5.js';
import { expandEncoded, selectRows, type EncoderOutput } from '../model/generation.js';
import { T5Builder, buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from '../model/t5-graph.js';
import { Graph, exportModel, logSoftmax, type Tensor } from '../engine/index.js';
import { makeSeq2SeqBatch } from '../model/batch.js';
import { Rng } from '../util/random.js';
import { constrainedBeamSearch, type BeamSearchStats, type BeamTraceStep, type RankedDocid } from './beam.js';
import { T5InferenceModel, type DocidDecoder } from './decoder.js';

const TEXT_VOCAB = 40;
const EOS = 1;
const M = 3;
const K = 4;

/**
 * 30 PQ-style docids over M = 3 positions of K = 4 codes (position j, code c → docid token
 * j·K + c), so many documents share prefixes; documents whose codes collide each get a
 * disambiguator token (their rank in the collision) before EOS, as src/docids does, so
 * lengths differ too.
 */
function pqTable(count: number, seed: number): DocidTable {
  const rng = new Rng(seed);
  // Skewed codes: code 0 at the first position is common, so big subtrees form.
  const codes = Array.from({ length: count }, () => Array.from({ length: M }, (_, j) => (j === 0 && rng.next() < 0.5 ? 0 : rng.int(K))));
  const groups = new Map<string, number[]>();
  codes.forEach((c, i) => groups.set(c.join(','), [...(groups.get(c.join(',')) ?? []), i]));
  let largest = 1;
  const flat: number[] = [];
  const offsets = new Int32Array(count + 1);
  codes.forEach((c, i) => {
    flat.push(...c.map((code, j) => TEXT_VOCAB + j * K + code));
    const group = groups.get(c.join(','))!;
    if (group.length > 1) flat.push(TEXT_VOCAB + M * K + group.indexOf(i));
    largest = Math.max(largest, group.length);
    flat.push(EOS);
    offsets[i + 1] = flat.length;
  });
  return new DocidTable({
    scheme: 'pq',
    layout: { textVocabSize: TEXT_VOCAB, docidVocabSize: M * K + largest, codeVocabSize: M * K, eosId: EOS },
    keys: Array.from({ length: count }, (_, i) => `doc${i}`),
    offsets,
    tokens: Int32Array.from(flat),
  });
}

function modelConfig(table: DocidTable): T5Config {
  return t5Config('tiny', {
    vocabSize: TEXT_VOCAB,
    docidVocabSize: table.layout.docidVocabSize,
    dModel: 16,
    dKv: 4,
    numHeads: 4,
    dFf: 24,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 12,
    dropoutRate: 0,
  });
}

const table = pqTable(30, 7);
const config = modelConfig(table);
const queries = [[5, 9, 12, 3], [20, 21], [7, 7, 7, 7, 7, 8, 30, 31, 2], [33]];
let model: T5Model;
let frozen: T5InferenceModel;
/** exhaustive[q][d]: teacher-forced log-probability of document d's docid for query q. */
let exhaustive: Float32Array[];

/** Scores every docid for one query with the teacher-forced scoring graph. */
async function scoreAll(source: readonly number[]): Promise<Float32Array> {
  const examples = Array.from({ length: table.size }, (_, d) => ({ source, target: Array.from(table.sequence(d).subarray(0, -1)) }));
  const batch = makeSeq2SeqBatch(
    examples,
    examples.map((_, i) => i),
    { padId: 0, eosId: EOS, decoderStartId: 0 },
  );
  return model.score(batch);
}

/** Documents ranked by exhaustive score, best first (ties to the lower index). */
function exhaustiveTop(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}

function assertMatchesExhaustive(found: RankedDocid[], scores: Float32Array, k: number, label: string): void {
  const expected = exhaustiveTop(scores, k);
  assert.deepEqual(
    found.map((h) => h.doc),
    expected,
    `${label}: document order`,
  );
  found.forEach((hit) =>
    assert.ok(
      Math.abs(hit.logProb - scores[hit.doc]) < 1e-4,
      `${label}: doc ${hit.doc} scored ${hit.logProb}, exhaustively ${scores[hit.doc]}`,
    ),
  );
}

before(async () => {
  model = T5Model.create(config, 11, { threads: 1 });
  frozen = await T5InferenceModel.fromModel(model, { threads: 1 });
  exhaustive = [];
  for (const source of queries) exhaustive.push(await scoreAll(source));
});

after(async () => {
  await model.release();
  await frozen.release();
});

test('fixture: docids share prefixes, differ in length and need the whole beam', () => {
  const firstTokens = new Set(Array.from({ length: table.size }, (_, d) => table.sequence(d)[0]));
  assert.ok(firstTokens.size <= K && table.size === 30);
  const lengths = new Set(Array.from({ length: table.size }, (_, d) => table.sequence(d).length));
  assert.deepEqual([...lengths].sort(), [M + 1, M + 2]);
  // The largest first-token subtree holds far more documents than a beam of 10 could follow.
  assert.ok(table.trie.leafCount(table.trie.step(0, TEXT_VOCAB)) > 10);
});

for (const [name, decoder] of [
  ['T5Model', () => model],
  ['T5InferenceModel', () => frozen],
] as const) {
  test(`${name}: beam = corpus size returns every document in exhaustive order with teacher-forced scores`, async () => {
    const results = await constrainedBeamSearch(decoder(), table, queries, { beam: table.size, k: table.size });
    assert.equal(results.length, queries.length);
    results.forEach((found, q) => assertMatchesExhaustive(found, exhaustive[q], table.size, `query ${q}`));
  });
}

for (const [name, decoder] of [
  ['T5Model', () => model],
  ['T5InferenceModel', () => frozen],
] as const) {
  test(`${name}: one query decodes every hypothesis against its one encoder row, with exhaustive results`, async () => {
    // Records the encoder rows each step was given: a single query's are never copied per hypothesis.
    const inner = decoder();
    const encoderRows: number[] = [];
    const tokenRows: number[] = [];
    const recording: DocidDecoder = {
      config: inner.config,
      encode: (...args) => inner.encode(...args),
      emptyCache: (batch) => inner.emptyCache(batch),
      decoderStep: (encoded, cache, tokens) => {
        encoderRows.push(encoded.batch);
        tokenRows.push(tokens.length);
        return inner.decoderStep(encoded, cache, tokens);
      },
    };
    for (let q = 0; q < queries.length; q++) {
      encoderRows.length = 0;
      tokenRows.length = 0;
      const [found] = await constrainedBeamSearch(recording, table, [queries[q]], { beam: table.size, k: table.size });
      assertMatchesExhaustive(found, exhaustive[q], table.size, `query ${q} alone`);
      assert.ok(Math.max(...tokenRows) > 1, 'the search decoded several hypotheses at once');
      assert.deepEqual(new Set(encoderRows), new Set([1]));
    }
  });
}

/** `decoder`, recording the encoder rows and token rows of each step; with `perHypothesis`, fed one encoder row per token row. */
function recordingDecoder(inner: DocidDecoder, perHypothesis = false): DocidDecoder & { steps: { sources: number; rows: number }[] } {
  const steps: { sources: number; rows: number }[] = [];
  const perRow = (encoded: EncoderOutput, rows: number): EncoderOutput =>
    expandEncoded(
      encoded,
      Int32Array.from({ length: rows }, (_, row) => Math.floor((row * encoded.batch) / rows)),
    );
  return {
    steps,
    config: inner.config,
    encode: (...args) => inner.encode(...args),
    emptyCache: (batch) => inner.emptyCache(batch),
    decoderStep: (encoded, cache, tokens) => {
      const fed = perHypothesis ? perRow(encoded, tokens.length) : encoded;
      steps.push({ sources: fed.batch, rows: tokens.length });
      return inner.decoderStep(fed, cache, tokens);
    },
  };
}

function assertSameHits(found: RankedDocid[][], expected: RankedDocid[][], label: string): void {
  found.forEach((hits, q) => {
    assert.deepEqual(
      hits.map((h) => h.doc),
      expected[q].map((h) => h.doc),
      `${label}: query ${q} documents`,
    );
    hits.forEach((hit, i) =>
      assert.ok(
        Math.abs(hit.logProb - expected[q][i].logProb) <= 1e-5,
        `${label}: query ${q} doc ${hit.doc}: ${hit.logProb} vs ${expected[q][i].logProb}`,
      ),
    );
  });
}

for (const [name, decoder] of [
  ['T5Model', () => model],
  ['T5InferenceModel', () => frozen],
] as const) {
  test(`${name}: a batch of queries reads one encoder row per query, and ranks within 1e-5 of one row per hypothesis`, async () => {
    for (const beam of [6, table.size]) {
      const grouped = recordingDecoder(decoder());
      const perHypothesis = recordingDecoder(decoder(), true);
      const found = await constrainedBeamSearch(grouped, table, queries, { beam, k: beam });
      const expected = await constrainedBeamSearch(perHypothesis, table, queries, { beam, k: beam });
      assertSameHits(found, expected, `beam ${beam}`);
      // Each query's hypotheses read its one encoder row: a step of 4 queries × their hypotheses gets 4 rows.
      assert.ok(
        grouped.steps.some((step) => step.sources === queries.length && step.rows > step.sources),
        `steps fed ${JSON.stringify(grouped.steps)}`,
      );
      assert.ok(grouped.steps.every((step) => step.sources <= step.rows && step.rows % step.sources === 0));
      if (beam === table.size)
        found.forEach((hits, q) =>
          hits.forEach((hit) =>
            assert.ok(Math.abs(hit.logProb - exhaustive[q][hit.doc]) <= 1e-5, `query ${q} doc ${hit.doc} vs exhaustive`),
          ),
        );
    }
  });
}

/**
 * The fused decoder step as exported before 2026-12-07, whose cross keys, values and mask have
 * one row per hypothesis ('batch'; a single shared row broadcasts): model directories saved
 * then still hold it.
 */
function perHypothesisStepGraph(): Graph {
  const g = new Graph('t5-decoder-step-fused');
  const ids = g.input('decoder_input_ids', 'int64', ['batch', 1]);
  const mask = g.input('attention_mask', 'float32', ['batch', 'src']);
  const buckets = g.input('decoder_position_buckets', 'int64', [1, 'past+1']);
  const heads = (len: string) => ['batch', config.numHeads, len, config.dKv];
  const layers = Array.from({ length: config.numDecoderLayers }, (_, i) => i);
  const past = layers.map((i): [Tensor, Tensor] => [
    g.input(`past_k.${i}`, 'float32', heads('past')),
    g.input(`past_v.${i}`, 'float32', heads('past')),
  ]);
  const cross = layers.map((i): [Tensor, Tensor] => [
    g.input(`cross_k.${i}`, 'float32', heads('src')),
    g.input(`cross_v.${i}`, 'float32', heads('src')),
  ]);
  const b = new T5Builder(g, config, undefined, true);
  const { hidden, present } = b.decoder(ids, 1, b.positionBias(buckets, 'decoder'), cross, b.maskBias(mask), past);
  g.output('log_probs', logSoftmax(b.logits(hidden), -1));
  present.forEach(([k, v], i) => {
    g.output(`present_k.${i}`, k);
    g.output(`present_v.${i}`, v);
  });
  return g;
}

test('a model directory graph of one encoder row per hypothesis (exported before 2026-12-07) still searches batches, ranking as today', async () => {
  const weights = model.weights();
  const encoderGraph = buildEncoderGraph(config, { fuseForInference: true });
  const stepGraph = perHypothesisStepGraph();
  const older = await T5InferenceModel.fromOnnxFiles(
    config,
    exportModel(encoderGraph, { params: inferenceParams(encoderGraph, weights) }).bytes,
    exportModel(stepGraph, { params: inferenceParams(stepGraph, weights) }).bytes,
    { threads: 1 },
  );
  const current = await T5InferenceModel.fromOnnxFiles(
    config,
    exportModel(encoderGraph, { params: inferenceParams(encoderGraph, weights) }).bytes,
    exportModel(buildDecoderStepGraph(config, { fuseForInference: true, compactOutputs: true }), {
      params: inferenceParams(buildDecoderStepGraph(config, { fuseForInference: true, compactOutputs: true }), weights),
    }).bytes,
    { threads: 1 },
  );
  try {
    assert.equal(older.groupsBySource, false);
    assert.equal(current.groupsBySource, true, "today's exported step graph reads one encoder row per query's group");
    for (const beam of [6, table.size]) {
      const expected = await constrainedBeamSearch(frozen, table, queries, { beam, k: beam });
      assertSameHits(await constrainedBeamSearch(current, table, queries, { beam, k: beam }), expected, `today's files, beam ${beam}`);
      assertSameHits(await constrainedBeamSearch(older, table, queries, { beam, k: beam }), expected, `batch, beam ${beam}`);
      const [alone] = await constrainedBeamSearch(older, table, [queries[2]], { beam, k: beam });
      assertSameHits([alone], [expected[2]], `alone, beam ${beam}`);
    }
  } finally {
    await older.release();
    await current.release();
  }
});

test('model directory graphs of standard ONNX ops (exported before the fused kernels) still load and rank as today', async () => {
  const weights = model.weights();
  const options = { fuseForInference: true, fusedKernels: false };
  const encoderGraph = buildEncoderGraph(config, options);
  const stepGraph = buildDecoderStepGraph(config, options);
  const older = await T5InferenceModel.fromOnnxFiles(
    config,
    exportModel(encoderGraph, { params: inferenceParams(encoderGraph, weights) }).bytes,
    exportModel(stepGraph, { params: inferenceParams(stepGraph, weights) }).bytes,
    { threads: 1 },
  );
  try {
    assert.equal(older.groupsBySource, true);
    for (const beam of [6, table.size]) {
      const expected = await constrainedBeamSearch(frozen, table, queries, { beam, k: beam });
      assertSameHits(await constrainedBeamSearch(older, table, queries, { beam, k: beam }), expected, `standard ops, beam ${beam}`);
    }
  } finally {
    await older.release();
  }
});

test('decoder steps returning asked-for columns and the new cache position rank exactly as whole-vocabulary steps; older graphs still load', async () => {
  const weights = model.weights();
  const encoderGraph = buildEncoderGraph(config, { fuseForInference: true });
  const open = async (compactOutputs: boolean) => {
    const stepGraph = buildDecoderStepGraph(config, { fuseForInference: true, compactOutputs });
    return T5InferenceModel.fromOnnxFiles(
      config,
      exportModel(encoderGraph, { params: inferenceParams(encoderGraph, weights) }).bytes,
      exportModel(stepGraph, { params: inferenceParams(stepGraph, weights) }).bytes,
      { threads: 1 },
    );
  };
  const whole = await open(false);
  const compact = await open(true);
  try {
    assert.equal(whole.compactOutputs, false, 'a step graph without output_columns is read as the whole-vocabulary kind');
    assert.equal(compact.compactOutputs, true);
    assert.equal(frozen.compactOutputs, true, 'graphs built from weights are compact');
    for (const options of [
      { beam: 6, k: 6 },
      { beam: table.size, k: 10 },
      { beam: 5, k: 5, renormalize: true },
    ]) {
      const expected = await constrainedBeamSearch(whole, table, queries, options);
      const found = await constrainedBeamSearch(compact, table, queries, options);
      found.forEach((hits, q) => {
        assert.deepEqual(
          hits.map((h) => h.doc),
          expected[q].map((h) => h.doc),
        );
        // The same ops on the same values: the scores are bit-identical, not merely close.
        hits.forEach((hit, i) => assert.equal(hit.logProb, expected[q][i].logProb, `${JSON.stringify(options)} query ${q} rank ${i}`));
      });
    }
  } finally {
    await whole.release();
    await compact.release();
  }
});

test('concurrent searches on one decoder each keep their own buffers', async () => {
  const alone = await Promise.all(queries.map((q) => constrainedBeamSearch(frozen, table, [q], { beam: 6, k: 6 })));
  for (let round = 0; round < 2; round++) {
    // Interleaved steps of four searches, then of a batch beside single queries.
    const together = await Promise.all(queries.map((q) => constrainedBeamSearch(frozen, table, [q], { beam: 6, k: 6 })));
    together.forEach((found, q) => assertSameHits(found, alone[q], `concurrent, query ${q}`));
    const [batch, ...singles] = await Promise.all([
      constrainedBeamSearch(frozen, table, queries, { beam: 6, k: 6 }),
      ...queries.map((q) => constrainedBeamSearch(frozen, table, [q], { beam: 6, k: 6 })),
    ]);
    assertSameHits(
      batch,
      alone.map(([hits]) => hits),
      'batch beside singles',
    );
    singles.forEach((found, q) => assertSameHits(found, alone[q], `single beside a batch, query ${q}`));
  }
});

test('session set-ups (a 1-thread encoder, each way the decoder step waits) rank exactly as the default', async () => {
  const expected = await constrainedBeamSearch(frozen, table, queries, { beam: 6, k: 6 });
  for (const spinning of [true, 'within-run', false] as const) {
    const tuned = await T5InferenceModel.fromModel(model, { threads: 2, encoderThreads: 1, spinning });
    try {
      assertSameHits(
        await constrainedBeamSearch(tuned, table, queries, { beam: 6, k: 6 }),
        expected,
        `encoder 1 thread, decoder spinning ${spinning}`,
      );
    } finally {
      await tuned.release();
    }
  }
});

test('beam ≥ corpus, k < beam: exactly the exhaustive top-k', async () => {
  for (const [beam, k] of [
    [30, 1],
    [30, 5],
    [40, 10],
  ]) {
    const results = await constrainedBeamSearch(frozen, table, queries, { beam, k });
    results.forEach((found, q) => assertMatchesExhaustive(found, exhaustive[q], k, `beam ${beam} k ${k} query ${q}`));
  }
});

test('a batch of queries gives the same results as each query alone', async () => {
  const batched = await constrainedBeamSearch(frozen, table, queries, { beam: 6, k: 4 });
  for (let q = 0; q < queries.length; q++) {
    const [alone] = await constrainedBeamSearch(frozen, table, [queries[q]], { beam: 6, k: 4 });
    assert.deepEqual(
      batched[q].map((h) => h.doc),
      alone.map((h) => h.doc),
      `query ${q}`,
    );
    batched[q].forEach((hit, i) => assert.ok(Math.abs(hit.logProb - alone[i].logProb) < 1e-5));
  }
});

test('narrow beam: k < beam returns the first k of k = beam, and scores are still exact', async () => {
  const full = await constrainedBeamSearch(frozen, table, queries, { beam: 5, k: 5 });
  const top2 = await constrainedBeamSearch(frozen, table, queries, { beam: 5, k: 2 });
  let differsFromExhaustive = false;
  full.forEach((found, q) => {
    assert.equal(found.length, 5);
    assert.deepEqual(
      top2[q].map((h) => h.doc),
      found.slice(0, 2).map((h) => h.doc),
    );
    for (const hit of found) assert.ok(Math.abs(hit.logProb - exhaustive[q][hit.doc]) < 1e-4);
    if (found.map((h) => h.doc).join() !== exhaustiveTop(exhaustive[q], 5).join()) differsFromExhaustive = true;
  });
  // Not a requirement, but shows the fixture exercises pruning: some narrow beam misses an exhaustive top-5 document.
  assert.ok(differsFromExhaustive, 'a beam of 5 found the exhaustive top 5 for every query; make the fixture harder');
});

test('trace: the traced query ranks as untraced; kept prefixes extend kept ones; every result finished with its docid and exact score', async () => {
  const beam = 5;
  const k = 3;
  const plain = await constrainedBeamSearch(frozen, table, queries, { beam, k });
  const steps: BeamTraceStep[] = [];
  // Only query 2 is traced, in a batch with the others.
  const traced = await constrainedBeamSearch(frozen, table, queries, { beam, k, trace: [undefined, undefined, steps, undefined] });
  assert.deepEqual(traced, plain);
  assert.ok(steps.length >= M, `one step per decoder call, got ${steps.length}`);
  let previous = [[]] as number[][];
  let prunedSomewhere = false;
  for (const [s, step] of steps.entries()) {
    assert.ok(step.kept.length <= beam && step.pruned.length <= beam && step.prunedCount >= step.pruned.length);
    prunedSomewhere ||= step.prunedCount > 0;
    for (const list of [step.kept, step.finished, step.pruned]) {
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].score >= list[i].score, `step ${s}: best first`);
    }
    // Every candidate extends a prefix kept at the step before.
    for (const prefix of [...step.kept, ...step.pruned]) {
      assert.ok(
        previous.some((p) => p.join() === prefix.tokens.slice(0, -1).join()),
        `step ${s}: ${prefix.tokens} extends no kept prefix`,
      );
    }
    // A kept prefix is never worse than the best pruned one (pruning by the finished list aside, it only drops worse ones).
    if (step.kept.length > 0 && step.pruned.length > 0 && step.kept.length === beam)
      assert.ok(step.kept[step.kept.length - 1].score >= step.pruned[0].score);
    previous = step.kept.map((p) => p.tokens);
  }
  assert.ok(prunedSomewhere, 'a beam of 5 over 30 documents prunes something');
  const finished = steps.flatMap((step) => step.finished);
  for (const hit of plain[2]) {
    const entry = finished.find((f) => f.doc === hit.doc);
    assert.ok(entry !== undefined, `result ${hit.doc} is in the trace's finished docids`);
    assert.deepEqual(entry.tokens, Array.from(table.sequence(hit.doc)));
    assert.ok(Math.abs(entry.score - hit.logProb) < 1e-9);
  }
});

test('documents behind one long shared prefix are all found when the beam is exactly their number', async () => {
  // Ten documents that share their first two tokens, plus one short docid that finishes first
  // and must not take a live slot from them.
  const shared = [TEXT_VOCAB, TEXT_VOCAB + K];
  const sequences = [
    ...Array.from({ length: 10 }, (_, i) => [...shared, TEXT_VOCAB + 2 * K + (i % K), TEXT_VOCAB + M * K + Math.floor(i / K), EOS]),
    [TEXT_VOCAB + 1, EOS],
  ];
  const offsets = Int32Array.from([0, ...sequences.map((_, i) => sequences.slice(0, i + 1).reduce((n, s) => n + s.length, 0))]);
  const small = new DocidTable({
    scheme: 'pq',
    layout: table.layout,
    keys: sequences.map((_, i) => `d${i}`),
    offsets,
    tokens: Int32Array.from(sequences.flat()),
  });
  const [found] = await constrainedBeamSearch(frozen, small, [queries[0]], { beam: 11, k: 11 });
  assert.deepEqual(
    found.map((h) => h.doc).sort((a, b) => a - b),
    Array.from({ length: 11 }, (_, i) => i),
  );
  for (let i = 1; i < found.length; i++) assert.ok(found[i - 1].logProb >= found[i].logProb);
});

test('work: the search stops once no live hypothesis can enter the top k', async () => {
  const wide: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
  const narrow: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
  await constrainedBeamSearch(frozen, table, [queries[0]], { beam: 30, k: 30, stats: wide });
  await constrainedBeamSearch(frozen, table, [queries[0]], { beam: 30, k: 1, stats: narrow });
  // Longest docid: M codes + disambiguator + EOS = 5 positions.
  assert.equal(wide.decoderSteps, M + 2);
  assert.ok(narrow.decodedRows < wide.decodedRows, `k = 1 decoded ${narrow.decodedRows} rows, k = 30 decoded ${wide.decodedRows}`);
});

/** Scores of every docid under the allowed-token renormalisation, stepping the decoder along each docid. */
async function renormalizedScores(source: readonly number[]): Promise<number[]> {
  const n = table.size;
  const vocab = totalVocabSize(config);
  const encoded1 = await model.encode(
    BigInt64Array.from([...source, EOS].map(BigInt)),
    new Float32Array(source.length + 1).fill(1),
    1,
    source.length + 1,
  );
  const rows = Array.from({ length: n }, () => 0);
  const encoded = {
    ...encoded1,
    batch: n,
    attentionMask: selectRows(encoded1.attentionMask, rows),
    crossKeys: encoded1.crossKeys.map((t) => selectRows(t, rows)),
    crossValues: encoded1.crossValues.map((t) => selectRows(t, rows)),
  };
  let cache = model.emptyCache(n);
  const scores = new Array<number>(n).fill(0);
  const nodes = new Array<number>(n).fill(0);
  const longest = Math.max(...Array.from({ length: n }, (_, d) => table.sequence(d).length));
  for (let t = 0; t < longest; t++) {
    const tokens = BigInt64Array.from(Array.from({ length: n }, (_, d) => BigInt(t === 0 ? 0 : (table.sequence(d)[t - 1] ?? 0))));
    const step = await model.decoderStep(encoded, cache, tokens);
    cache = step.cache;
    for (let d = 0; d < n; d++) {
      const sequence = table.sequence(d);
      if (t >= sequence.length) continue;
      const allowed = Array.from(table.trie.childrenOf(nodes[d]));
      const logits = allowed.map((token) => step.logProbs[d * vocab + token]);
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
      scores[d] += step.logProbs[d * vocab + sequence[t]] - lse;
      nodes[d] = table.trie.step(nodes[d], sequence[t]);
    }
  }
  return scores;
}

test('renormalize: scores are log-probs under the trie-restricted distribution and sum to one', async () => {
  for (const source of queries.slice(0, 2)) {
    const expected = await renormalizedScores(source);
    const [found] = await constrainedBeamSearch(frozen, table, [source], { beam: 30, k: 30, renormalize: true });
    assert.equal(found.length, 30);
    const total = found.reduce((s, hit) => s + Math.exp(hit.logProb), 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    const order = Array.from(expected.keys()).sort((a, b) => expected[b] - expected[a] || a - b);
    assert.deepEqual(
      found.map((h) => h.doc),
      order,
    );
    for (const hit of found) assert.ok(Math.abs(hit.logProb - expected[hit.doc]) < 1e-4);
  }
});

test('renormalize skips decoding an EOS that is the only allowed token', async () => {
  const raw: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
  const renormalized: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
  await constrainedBeamSearch(frozen, table, [queries[1]], { beam: 30, k: 30, stats: raw });
  await constrainedBeamSearch(frozen, table, [queries[1]], { beam: 30, k: 30, renormalize: true, stats: renormalized });
  // Every docid's last EOS is forced; renormalised, those rows are never decoded.
  assert.equal(raw.decodedRows - renormalized.decodedRows, table.size);
});

test('invalid settings and mismatched models are rejected', async () => {
  await assert.rejects(constrainedBeamSearch(frozen, table, queries, { beam: 4, k: 5 }), /k must be an integer in \[1, beam = 4\]/);
  await assert.rejects(constrainedBeamSearch(frozen, table, queries, { beam: 0 }), /beam must be a positive integer/);
  const narrow: DocidDecoder = {
    ...frozen,
    config: { ...config, docidVocabSize: 3 },
    encode: frozen.encode.bind(frozen),
    emptyCache: frozen.emptyCache.bind(frozen),
    decoderStep: frozen.decoderStep.bind(frozen),
  };
  await assert.rejects(constrainedBeamSearch(narrow, table, queries), /output vocabulary \(43\) is smaller than the docids' \(5\d\)/);
  assert.deepEqual(await constrainedBeamSearch(frozen, table, []), []);
});
