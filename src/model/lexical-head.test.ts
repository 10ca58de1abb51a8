import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { add, checkGradients, logSoftmax, type Tensor } from '../engine/index.js';
import { AdamW } from '../engine/optim/adamw.js';
import { Rng } from '../util/random.js';
import { makeSeq2SeqBatch, type Seq2SeqExample } from './batch.js';
import { LEXICAL_HEAD_WEIGHT, fromHfConfig, t5ParameterSpecs, toHfConfig, totalVocabSize, type T5Config } from './config.js';
import { microT5Config } from './testdata/micro-config.js';
import { T5Model } from './t5.js';
import { bagOfWordsBias, buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from './t5-graph.js';
import { checkInferenceGraph } from './inference-check.js';
import { exportModel } from '../engine/index.js';
import { UserError } from '../util/errors.js';
import { GroupedScorer } from './grouped.js';
import { T5InferenceModel } from '../search/decoder.js';

const TOKENS = { padId: 0, eosId: 1, decoderStartId: 0 };

function smallConfig(lexicalHead: boolean): T5Config {
  return microT5Config(37, 5, {
    dFf: 24,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 12,
    lexicalHead,
  });
}

/** A model whose lexical head is not zero, so that its term shows in every output. */
function withRandomLexicalHead(config: T5Config, seed: number): T5Model {
  const model = T5Model.create(config, seed, { threads: 1 });
  const head = model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!;
  const rng = new Rng(seed + 1);
  for (let i = 0; i < head.data.length; i++) head.data[i] = rng.normal() * 0.3;
  return model;
}

const examples: Seq2SeqExample[] = [
  { source: [5, 6, 7, 8, 9, 10, 11], target: [38, 40] },
  { source: [9, 10, 3], target: [41, 37] },
];

test('lexical head: the bag-of-words term and its gradient match finite differences (float64)', async () => {
  // Rows 0 and 1 have 3 and 2 unmasked tokens; the term feeds a log-softmax, as in the model.
  const ids = [4, 2, 4, 0, 1, 3, 0, 0];
  const mask = [1, 1, 1, 0, 1, 1, 0, 0];
  const report = await checkGradients(
    (g, [table, logits]) => {
      const bias = bagOfWordsBias(
        table,
        g.constant(BigInt64Array.from(ids, BigInt), [2, 4], 'int64'),
        g.constant(mask, [2, 4], 'float64'),
        10,
        3,
        2,
      );
      return logSoftmax(add(logits, bias) as Tensor, -1);
    },
    [
      { name: 'table', shape: [5, 4] },
      { name: 'logits', shape: [2, 7] },
    ],
  );
  assert.equal(report.checked, 5 * 4 + 2 * 7);
  assert.ok(report.maxGradient > 0.1, `gradients are all near zero (${report.maxGradient})`);
});

test('lexical head: the training gradient of lexical_head.weight matches finite differences of the loss', async () => {
  const model = withRandomLexicalHead(smallConfig(true), 3);
  try {
    const batch = makeSeq2SeqBatch(examples, [0, 1], TOKENS);
    const head = model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!;
    const { gradients } = await model.lossAndGradients(batch, 0);
    const analytic = gradients.get(LEXICAL_HEAD_WEIGHT)!;
    // Entries read by the sources (token 5 and 9 rows) and one no source reads (token 30).
    const docids = smallConfig(true).docidVocabSize;
    const entries = [5 * docids + 1, 9 * docids + 3, 10 * docids + 4, 30 * docids + 2];
    const eps = 1e-2;
    for (const entry of entries) {
      const original = head.data[entry];
      head.data[entry] = original + eps;
      const up = (await model.lossAndGradients(batch, 0)).loss;
      head.data[entry] = original - eps;
      const down = (await model.lossAndGradients(batch, 0)).loss;
      head.data[entry] = original;
      const numeric = (up - down) / (2 * eps);
      assert.ok(
        Math.abs(numeric - analytic[entry]) <= 2e-3 + 2e-2 * Math.abs(numeric),
        `entry ${entry}: analytic ${analytic[entry]}, numeric ${numeric}`,
      );
    }
    assert.ok(Math.abs(analytic[5 * docids + 1]) > 1e-3, 'a read entry has a gradient');
    assert.equal(analytic[30 * docids + 2], 0);
  } finally {
    await model.release();
  }
});

test('lexical head: config round trip, zero start, and a plain config without the head or its fields', () => {
  const plain = smallConfig(false);
  assert.ok(!t5ParameterSpecs(plain).some((spec) => spec.name === LEXICAL_HEAD_WEIGHT));
  assert.ok(!Object.keys(toHfConfig(plain)).some((key) => key.includes('lexical')));
  const lexical = smallConfig(true);
  const spec = t5ParameterSpecs(lexical).find((s) => s.name === LEXICAL_HEAD_WEIGHT)!;
  assert.deepEqual(spec.shape, [37, 5]);
  assert.deepEqual(fromHfConfig(JSON.parse(JSON.stringify(toHfConfig(lexical))), 'config.json'), lexical);
  assert.deepEqual(fromHfConfig(JSON.parse(JSON.stringify(toHfConfig(plain))), 'config.json'), plain);
  const model = T5Model.create(lexical, 1, { threads: 1 });
  assert.ok(model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!.data.every((v) => v === 0));
  // The head is the last parameter, so the others draw the same random values as without it.
  const without = T5Model.create(plain, 1, { threads: 1 });
  without.parameters.forEach((p, i) => assert.deepEqual(model.parameters[i].data, p.data, p.name));
  assert.throws(
    () => fromHfConfig({ ...toHfConfig(lexical), genir_lexical_head: 'yes' }, 'config.json'),
    /config\.json: field 'genir_lexical_head' must be true or false/,
  );
  assert.throws(
    () => fromHfConfig({ ...toHfConfig(lexical), genir_lexical_head_scale: 0 }, 'config.json'),
    /config\.json: field 'genir_lexical_head_scale' must be > 0/,
  );
});

test('lexical head: teacher-forced scores equal the cached decoder steps (training model and baked inference model, shared, grouped and per-row sources)', async () => {
  const config = smallConfig(true);
  const model = withRandomLexicalHead(config, 7);
  const frozen = await T5InferenceModel.fromModel(model, { threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'genir-lexical-'));
  try {
    const batch = makeSeq2SeqBatch(examples, [0, 1], TOKENS);
    const scores = await model.score(batch);
    const vocab = totalVocabSize(config);
    for (const decoder of [model, frozen]) {
      const encoded = await decoder.encode(batch.inputIds, batch.attentionMask, batch.size, batch.sourceLength);
      assert.deepEqual(encoded.lexicalBias?.dims, [2, vocab]);
      let cache = decoder.emptyCache(2);
      const sums = [0, 0];
      for (let t = 0; t < batch.targetLength; t++) {
        const tokens = BigInt64Array.from([0, 1], (row) => batch.decoderInputIds[row * batch.targetLength + t]);
        const step = await decoder.decoderStep(encoded, cache, tokens);
        cache = step.cache;
        for (let row = 0; row < 2; row++) {
          const label = Number(batch.labels[row * batch.targetLength + t]);
          if (label !== -100) sums[row] += step.logProbs[row * vocab + label];
        }
      }
      sums.forEach((sum, row) => assert.ok(Math.abs(sum - scores[row]) < 1e-4, `row ${row}: steps ${sum}, score ${scores[row]}`));
      // One source shared by three hypotheses (broadcast) gives the same first step as that source alone.
      const single = await decoder.encode(
        batch.inputIds.slice(0, batch.sourceLength),
        batch.attentionMask.slice(0, batch.sourceLength),
        1,
        batch.sourceLength,
      );
      const shared = await decoder.decoderStep(single, decoder.emptyCache(3), new BigInt64Array(3));
      const alone = await decoder.decoderStep(single, decoder.emptyCache(1), new BigInt64Array(1));
      for (let row = 0; row < 3; row++) {
        for (let v = 0; v < vocab; v++) assert.ok(Math.abs(shared.logProbs[row * vocab + v] - alone.logProbs[v]) < 1e-5);
      }
      // Two sources with three hypotheses each (rows grouped by source): each row's step is its source's.
      const grouped = await decoder.decoderStep(encoded, decoder.emptyCache(6), new BigInt64Array(6));
      const perSource = await decoder.decoderStep(encoded, decoder.emptyCache(2), new BigInt64Array(2));
      for (let row = 0; row < 6; row++) {
        const source = Math.floor(row / 3) * vocab;
        for (let v = 0; v < vocab; v++) assert.ok(Math.abs(grouped.logProbs[row * vocab + v] - perSource.logProbs[source + v]) < 1e-5);
      }
    }
    // The term is in the logits: the same trunk with the head zeroed scores differently.
    await model.save(dir);
    const reloaded = T5Model.load(dir, { threads: 1 });
    assert.deepEqual(Array.from(await reloaded.score(batch)), Array.from(scores));
    reloaded.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT)!.data.fill(0);
    const zeroed = await reloaded.score(batch);
    assert.ok(Math.abs(zeroed[0] - scores[0]) > 1e-3, `${zeroed[0]} vs ${scores[0]}`);
    await reloaded.release();
  } finally {
    await model.release();
    await frozen.release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lexical head: grouped scoring (DDRO / LTRGR graphs) equals the model's own scores", async () => {
  const model = withRandomLexicalHead(smallConfig(true), 9);
  const scorer = await GroupedScorer.create(model, { threads: 1 });
  try {
    const groups = [
      {
        source: [5, 6, 7, 8, 9],
        targets: [
          [38, 40],
          [41, 37],
          [39, 39],
        ],
      },
      {
        source: [9, 10, 3],
        targets: [
          [41, 37],
          [37, 38],
        ],
      },
    ];
    const grouped = await scorer.score(groups, TOKENS);
    for (const [g, group] of groups.entries()) {
      const pairs = group.targets.map((target) => ({ source: group.source, target }));
      const own = await model.score(
        makeSeq2SeqBatch(
          pairs,
          pairs.map((_, i) => i),
          TOKENS,
        ),
      );
      group.targets.forEach((_, j) =>
        assert.ok(Math.abs(grouped[g][j] - own[j]) < 1e-4, `group ${g} target ${j}: ${grouped[g][j]} vs ${own[j]}`),
      );
    }
  } finally {
    await scorer.release();
    await model.release();
  }
});

test('lexical head: an inference graph with the head is refused for a config without it, and the reverse', () => {
  const lexical = smallConfig(true);
  const plain = smallConfig(false);
  const weights = T5Model.create(lexical, 1, { threads: 1 }).weights();
  const exported = (config: T5Config, kind: 'encoder' | 'decoderStep'): Uint8Array => {
    const graph =
      kind === 'encoder'
        ? buildEncoderGraph(config, { fuseForInference: true })
        : buildDecoderStepGraph(config, { fuseForInference: true });
    return exportModel(graph, { params: inferenceParams(graph, weights) }).bytes;
  };
  assert.throws(
    () => checkInferenceGraph('encoder', exported(lexical, 'encoder'), plain, 'encoder.onnx'),
    (err: unknown) => err instanceof UserError && /encoder\.onnx: .*unexpected output lexical_bias/.test(err.message),
  );
  assert.throws(
    () => checkInferenceGraph('decoderStep', exported(plain, 'decoderStep'), lexical, 'decoder_step.onnx'),
    (err: unknown) => err instanceof UserError && /decoder_step\.onnx: .*input lexical_bias is missing/.test(err.message),
  );
  checkInferenceGraph('encoder', exported(lexical, 'encoder'), lexical, 'encoder.onnx');
  checkInferenceGraph('decoderStep', exported(lexical, 'decoderStep'), lexical, 'decoder_step.onnx');
});

/**
 * A 2,000-way atomic task: class c is named by two keywords, c mod 45 from one range of 45
 * tokens and ⌊c / 45⌋ from another, so that the text vocabulary (and the test) stays small while
 * the docid head still has 2,000 rows to tell apart, the many-way choice the trunk learns slowly
 * (docs/results.md, "Lexical head"). Returns the share of classes whose docid token is the
 * model's first-step argmax after `updates` Adam steps (lr 3e-2, 250 examples each).
 */
async function syntheticAccuracy(lexicalHead: boolean, updates: number): Promise<number> {
  const classes = 2000;
  const side = 45;
  const config = microT5Config(2 + 2 * side, classes, { lexicalHead });
  const rng = new Rng(11);
  const example = (c: number): Seq2SeqExample => ({
    source: rng.shuffle([2 + (c % side), 2 + side + Math.floor(c / side)]),
    target: [config.vocabSize + c],
  });
  const model = T5Model.create(config, 5, { threads: 1 });
  const optimizer = new AdamW(model.parameters, { weightDecay: 0 });
  try {
    const batchSize = 250;
    let order: number[] = [];
    for (let step = 0; step < updates; step++) {
      if (order.length < batchSize) order = order.concat(rng.shuffle(Array.from({ length: classes }, (_, c) => c)));
      const picked = order.splice(0, batchSize).map(example);
      await model.adamWStep(
        makeSeq2SeqBatch(
          picked,
          picked.map((_, i) => i),
          TOKENS,
        ),
        step,
        optimizer,
        3e-2,
      );
    }
    const probes = Array.from({ length: classes }, (_, c) => example(c));
    const batch = makeSeq2SeqBatch(
      probes,
      probes.map((_, i) => i),
      TOKENS,
    );
    const encoded = await model.encode(batch.inputIds, batch.attentionMask, classes, batch.sourceLength);
    const { logProbs } = await model.decoderStep(encoded, model.emptyCache(classes), new BigInt64Array(classes));
    const vocab = totalVocabSize(config);
    let correct = 0;
    for (let c = 0; c < classes; c++) {
      let best = config.vocabSize;
      for (let v = config.vocabSize; v < vocab; v++) if (logProbs[c * vocab + v] > logProbs[c * vocab + best]) best = v;
      if (best === config.vocabSize + c) correct++;
    }
    return correct / classes;
  } finally {
    await model.release();
  }
}

test('lexical head: learns a 2,000-way atomic task that the plain model does not in the same updates', async () => {
  // 24 updates of 250 examples: three passes over the classes.
  const lexical = await syntheticAccuracy(true, 24);
  const plain = await syntheticAccuracy(false, 24);
  assert.ok(lexical > 0.9, `lexical head accuracy ${lexical}`);
  assert.ok(plain < 0.02, `plain accuracy ${plain}`);
});
