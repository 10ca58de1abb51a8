import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../engine/onnx.js';
import { Session } from '../engine/runtime.js';
import type { HostTensor } from '../engine/index.js';
import { microT5Config } from './testdata/micro-config.js';
import { T5Model, relativePositionBuckets } from './t5.js';
import { buildDecoderStepGraph, buildEncoderGraph, fusedParamName, inferenceParams } from './t5-graph.js';

const config = microT5Config(41, 5, { dFf: 24, numLayers: 2, numDecoderLayers: 2 });

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  assert.deepEqual(a.dims, b.dims);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return worst;
}

test('fused inference graphs (stacked projections, ORT-fusable RMSNorm) compute what the plain graphs compute', async () => {
  const weights = T5Model.create(config, 3).weights();
  const run = async (fuse: boolean, feeds: Record<string, HostTensor>, which: 'encoder' | 'decoder') => {
    const graph =
      which === 'encoder'
        ? buildEncoderGraph(config, { fuseForInference: fuse })
        : buildDecoderStepGraph(config, { fuseForInference: fuse });
    const session = await Session.create(exportModel(graph, { params: inferenceParams(graph, weights) }), { threads: 1 });
    try {
      return await session.run(feeds);
    } finally {
      await session.release();
    }
  };
  const batch = 2;
  const src = 5;
  const encoderFeeds = {
    input_ids: { data: BigInt64Array.from([7, 8, 9, 10, 1, 11, 12, 1, 0, 0].map(BigInt)), dims: [batch, src] },
    attention_mask: { data: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), dims: [batch, src] },
    encoder_position_buckets: {
      data: relativePositionBuckets(src, src, true, config.relativeAttentionNumBuckets, config.relativeAttentionMaxDistance),
      dims: [src, src],
    },
  };
  const [plainEncoded, fusedEncoded] = await Promise.all([run(false, encoderFeeds, 'encoder'), run(true, encoderFeeds, 'encoder')]);
  for (const name of ['cross_k.0', 'cross_v.0', 'cross_k.1', 'cross_v.1'])
    assert.ok(maxAbsDiff(plainEncoded[name], fusedEncoded[name]) < 1e-5, name);

  const past = 2;
  const pastTensor = (seed: number): HostTensor => ({
    data: Float32Array.from({ length: batch * config.numHeads * past * config.dKv }, (_, i) => Math.sin(seed + i)),
    dims: [batch, config.numHeads, past, config.dKv],
  });
  const decoderFeeds: Record<string, HostTensor> = {
    decoder_input_ids: { data: BigInt64Array.from([42n, 44n]), dims: [batch, 1] },
    attention_mask: encoderFeeds.attention_mask,
    decoder_position_buckets: {
      data: relativePositionBuckets(1, past + 1, false, config.relativeAttentionNumBuckets, config.relativeAttentionMaxDistance, past),
      dims: [1, past + 1],
    },
  };
  for (let i = 0; i < config.numDecoderLayers; i++) {
    decoderFeeds[`past_k.${i}`] = pastTensor(i);
    decoderFeeds[`past_v.${i}`] = pastTensor(10 + i);
    decoderFeeds[`cross_k.${i}`] = plainEncoded[`cross_k.${i}`];
    decoderFeeds[`cross_v.${i}`] = plainEncoded[`cross_v.${i}`];
  }
  const [plainStep, fusedStep] = await Promise.all([run(false, decoderFeeds, 'decoder'), run(true, decoderFeeds, 'decoder')]);
  assert.ok(maxAbsDiff(plainStep.log_probs, fusedStep.log_probs) < 1e-5);
  assert.ok(maxAbsDiff(plainStep['present_v.1'], fusedStep['present_v.1']) < 1e-5);
});

test('inferenceParams stacks the parts row-wise and names a missing part', () => {
  const graph = buildDecoderStepGraph(config, { fuseForInference: true });
  const weights = T5Model.create(config, 3).weights();
  const names = ['q', 'k', 'v'].map((p) => `decoder.block.0.layer.0.SelfAttention.${p}.weight`);
  const stacked = inferenceParams(graph, weights).get(fusedParamName(names));
  assert.ok(stacked);
  const rows = config.numHeads * config.dKv * config.dModel;
  assert.deepEqual(stacked.subarray(rows, 2 * rows), weights.get(names[1]));
  const partial = new Map(weights);
  partial.delete(names[2]);
  assert.throws(() => inferenceParams(graph, partial), /needs the missing weight 'decoder\.block\.0\.layer\.0\.SelfAttention\.v\.weight'/);
});

test('inference graphs run attention as MultiHeadAttention and residual norms as SkipSimplifiedLayerNormalization; fusedKernels: false keeps the standard ops; both step alike from an empty cache over one shared source', async () => {
  const opTypes = (graph: ReturnType<typeof buildEncoderGraph>) => new Set(graph.nodes.map((n) => n.opType));
  for (const build of [buildEncoderGraph, buildDecoderStepGraph]) {
    const fused = opTypes(build(config, { fuseForInference: true }));
    assert.ok(fused.has('MultiHeadAttention') && fused.has('SkipSimplifiedLayerNormalization') && !fused.has('Softmax'));
    const standard = opTypes(build(config, { fuseForInference: true, fusedKernels: false }));
    assert.ok(!standard.has('MultiHeadAttention') && !standard.has('SkipSimplifiedLayerNormalization') && standard.has('Softmax'));
  }
  const weights = T5Model.create(config, 4).weights();
  const session = async (graph: ReturnType<typeof buildEncoderGraph>) =>
    Session.create(exportModel(graph, { params: inferenceParams(graph, weights) }), { threads: 1 });
  const src = 4;
  const encoderFeeds = {
    input_ids: { data: BigInt64Array.from([7n, 8n, 1n, 0n]), dims: [1, src] },
    attention_mask: { data: Float32Array.from([1, 1, 1, 0]), dims: [1, src] },
    encoder_position_buckets: {
      data: relativePositionBuckets(src, src, true, config.relativeAttentionNumBuckets, config.relativeAttentionMaxDistance),
      dims: [src, src],
    },
  };
  const results = [];
  for (const fusedKernels of [true, false]) {
    const options = { fuseForInference: true, fusedKernels };
    const [encoder, step] = await Promise.all([
      session(buildEncoderGraph(config, options)),
      session(buildDecoderStepGraph(config, options)),
    ]);
    try {
      const encoded = await encoder.run(encoderFeeds);
      // Three hypotheses read the one source, from an empty cache (the first step of a beam search).
      const rows = 3;
      const feeds: Record<string, HostTensor> = {
        decoder_input_ids: { data: BigInt64Array.from([0n, 42n, 44n]), dims: [rows, 1] },
        attention_mask: encoderFeeds.attention_mask,
        decoder_position_buckets: {
          data: relativePositionBuckets(1, 1, false, config.relativeAttentionNumBuckets, config.relativeAttentionMaxDistance, 0),
          dims: [1, 1],
        },
      };
      for (let i = 0; i < config.numDecoderLayers; i++) {
        const empty = { data: new Float32Array(0), dims: [rows, config.numHeads, 0, config.dKv] };
        Object.assign(feeds, { [`past_k.${i}`]: empty, [`past_v.${i}`]: empty });
        Object.assign(feeds, { [`cross_k.${i}`]: encoded[`cross_k.${i}`], [`cross_v.${i}`]: encoded[`cross_v.${i}`] });
      }
      results.push({ encoded, step: await step.run(feeds) });
    } finally {
      await Promise.all([encoder.release(), step.release()]);
    }
  }
  const [fused, standard] = results;
  assert.ok(maxAbsDiff(fused.encoded['cross_v.1'], standard.encoded['cross_v.1']) < 1e-5);
  assert.ok(maxAbsDiff(fused.step.log_probs, standard.step.log_probs) < 1e-5);
  assert.ok(maxAbsDiff(fused.step['present_k.1'], standard.step['present_k.1']) < 1e-5);
  assert.deepEqual(fused.step['present_k.1'].dims, [3, config.numHeads, 1, config.dKv]);
});
