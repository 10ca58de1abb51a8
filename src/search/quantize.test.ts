import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModel, exportModel, quantizeWeightInt8 } from '../engine/index.js';
import { microT5Config } from '../model/testdata/micro-config.js';
import { T5Model } from '../model/t5.js';
import { buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from '../model/t5-graph.js';
import { constrainedBeamSearch } from './beam.js';
import { T5InferenceModel } from './decoder.js';
import { buildDocids } from '../docids/build.js';

/** The largest |a − b| over two equally long arrays. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test('quantizeWeightInt8 transposes [out, in] to [in, out], scales each output row by its largest magnitude / 127, keeps zero rows', () => {
  // Rows (outputs): [1, -0.6, 0.25], [0, 0, 0], [-2, 0.9, 0.01].
  const { weight, scale } = quantizeWeightInt8(Float32Array.from([1, -0.6, 0.25, 0, 0, 0, -2, 0.9, 0.01]), 3, 3);
  assert.deepEqual(Array.from(scale), [1 / 127, 1, 2 / 127].map(Math.fround));
  // Column j of the result holds output j: 127·w / max|row|, rounded.
  assert.deepEqual(Array.from(weight), [127, 0, -127, -76, 0, 57, 32, 0, 1]);
  assert.throws(() => quantizeWeightInt8(new Float32Array(5), 2, 3), /5 values for \[2, 3\]/);
});

test('int8 inference graphs run every projection through DynamicQuantizeMatMul with int8 weights, and no float Gemm is left', () => {
  const config = microT5Config(41, 5, { dFf: 24, numLayers: 2, numDecoderLayers: 2 });
  const weights = T5Model.create(config, 3).weights();
  for (const graph of [
    buildEncoderGraph(config, { fuseForInference: true, quantize: 'int8' }),
    buildDecoderStepGraph(config, { fuseForInference: true, quantize: 'int8' }),
  ]) {
    const decoded = decodeModel(exportModel(graph, { params: inferenceParams(graph, weights) }).bytes) as {
      graph: { node: { op_type: string }[]; initializer: { name: string; data_type: number }[] };
    };
    const ops = decoded.graph.node.map((n) => n.op_type);
    assert.equal(ops.filter((op) => op === 'Gemm').length, 0, graph.name);
    assert.ok(ops.filter((op) => op === 'DynamicQuantizeMatMul').length >= 4, graph.name);
    const int8 = decoded.graph.initializer.filter((t) => t.name.endsWith(':int8'));
    assert.ok(int8.length >= 4 && int8.every((t) => t.data_type === 3), graph.name);
  }
  assert.throws(() => buildEncoderGraph(config, { quantize: 'int8' }), /quantized weights need an inference graph/);
});

test('int8 decoder log-probabilities stay within 0.25 of float32 ones, and beam search finds the same best docid', async () => {
  const docs = Array.from({ length: 12 }, (_, i) => ({ id: `d${i}`, title: '', text: '' }));
  const docids = await buildDocids(docs, { scheme: 'atomic', textVocabSize: 40, eosId: 1 });
  const config = microT5Config(40, docids.layout.docidVocabSize, { dModel: 32, dKv: 8, dFf: 64, numLayers: 2, numDecoderLayers: 2 });
  const model = T5Model.create(config, 5, { threads: 1 });
  const weights = model.weights();
  await model.release();
  const float = await T5InferenceModel.create(config, weights, { threads: 1 });
  const int8 = await T5InferenceModel.create(config, weights, { threads: 1, quantize: 'int8' });
  try {
    const ids = BigInt64Array.from([5, 9, 13, 17, 1].map(BigInt));
    const mask = new Float32Array(5).fill(1);
    const [floatEncoded, int8Encoded] = await Promise.all([float.encode(ids, mask, 1, 5), int8.encode(ids, mask, 1, 5)]);
    const tokens = BigInt64Array.from([0n]);
    const floatStep = await float.decoderStep(floatEncoded, float.emptyCache(1), tokens);
    const int8Step = await int8.decoderStep(int8Encoded, int8.emptyCache(1), tokens);
    const diff = maxAbsDiff(floatStep.logProbs, int8Step.logProbs);
    assert.ok(diff > 0, 'the int8 graph computes something else than the float graph');
    assert.ok(diff < 0.25, `log-probs differ by ${diff}`);
    const queries = [Array.from(ids.subarray(0, 4), Number), [20, 21, 22], [7, 30, 31, 8, 9]];
    const [floatHits, int8Hits] = [
      await constrainedBeamSearch(float, docids, queries, { beam: 5, k: 5 }),
      await constrainedBeamSearch(int8, docids, queries, { beam: 5, k: 5 }),
    ];
    queries.forEach((_, q) => {
      assert.equal(int8Hits[q][0].doc, floatHits[q][0].doc, `query ${q}`);
      assert.ok(Math.abs(int8Hits[q][0].logProb - floatHits[q][0].logProb) < 0.05, `query ${q}`);
    });
  } finally {
    await Promise.all([float.release(), int8.release()]);
  }
});
