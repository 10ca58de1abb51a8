/**
 * Single-query constrained beam search under several inference set-ups, interleaved in one
 * process: which graphs (ORT's fused com.microsoft kernels or the standard ONNX ops of the
 * graphs exported before 2026-12-07) and how the encoder's and the decoder step's ORT sessions
 * use the cores (intra-op threads of each, which pools spin). A set-up's name says the graphs (`-whole`: the
 * decoder step returns the whole vocabulary and cache, as graphs exported before session 10 did),
 * then encoder/decoder threads, then `-spin` (the decoder's pool spins), `-spin-run` (it spins only while a step runs) or `-spin-both`.
 *
 *   node --import tsx bench/search-configs.ts [--json] [--queries 60] [--rounds 5] [--warmup 10]
 *        [--docids squad-pq|synthetic] [--docs 2067] [--configs name,…]
 *
 * Model and docids as bench:search: `small`, random weights (seed 0), PQ docids over squad-dev's
 * 2,067 paragraphs (or synthetic Gaussian vectors), beam 10, k 10, the same random queries.
 * Each round runs every config over all queries, one query at a time, so load hits all alike.
 * Per config: p50 / p90 of the per-query latency over all rounds, the median encoder call and
 * decoder step (timers around the decoder's calls), CPU time per query (all threads), and
 * whether its top 10 equal the first config's on every query (largest score difference).
 */
import { performance } from 'node:perf_hooks';
import { openDataset } from '../src/data/registry.js';
import type { Document } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import type { DocidTable } from '../src/docids/table.js';
import { exportModel, type Spinning } from '../src/engine/index.js';
import { t5Config, type T5Config } from '../src/model/config.js';
import { buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from '../src/model/t5-graph.js';
import { T5Model } from '../src/model/t5.js';
import { constrainedBeamSearch, type RankedDocid } from '../src/search/beam.js';
import { T5InferenceModel, type DocidDecoder, type InferenceOptions } from '../src/search/decoder.js';
import { Rng } from '../src/util/random.js';
import { percentile } from './stats.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

interface SetUp {
  /** Graphs with ORT's fused kernels (today's) or the standard ONNX ops (before 2026-12-07). */
  fusedKernels: boolean;
  threads: number;
  encoderThreads: number;
  /** How the decoder step's pool waits: busy (true), busy within a step only ('within-run'), or asleep (false). */
  spinning: Spinning;
  /** The encoder's pool busy-waits too. */
  encoderSpinning: boolean;
  /** The decoder step returns the whole vocabulary's log-probabilities and the whole cache (graphs exported before 2026-12-07 session 10). */
  wholeOutputs?: boolean;
}

/** The set-ups by name: graphs, encoder/decoder threads, which pools spin. */
const SET_UPS: Record<string, SetUp> = {
  'onnx-2/2': { fusedKernels: false, threads: 2, encoderThreads: 2, spinning: false, encoderSpinning: false },
  'fused-2/2': { fusedKernels: true, threads: 2, encoderThreads: 2, spinning: false, encoderSpinning: false },
  'fused-1/2': { fusedKernels: true, threads: 2, encoderThreads: 1, spinning: false, encoderSpinning: false },
  'onnx-2/2-spin': { fusedKernels: false, threads: 2, encoderThreads: 2, spinning: true, encoderSpinning: false },
  'fused-2/2-spin': { fusedKernels: true, threads: 2, encoderThreads: 2, spinning: true, encoderSpinning: false },
  'fused-2/2-spin-run': { fusedKernels: true, threads: 2, encoderThreads: 2, spinning: 'within-run', encoderSpinning: false },
  'fused-1/2-spin': { fusedKernels: true, threads: 2, encoderThreads: 1, spinning: true, encoderSpinning: false },
  'onnx-1/2-spin': { fusedKernels: false, threads: 2, encoderThreads: 1, spinning: true, encoderSpinning: false },
  'fused-2/2-spin-both': { fusedKernels: true, threads: 2, encoderThreads: 2, spinning: true, encoderSpinning: true },
  'fused-1/1': { fusedKernels: true, threads: 1, encoderThreads: 1, spinning: false, encoderSpinning: false },
  'fused-2/2-whole': { fusedKernels: true, threads: 2, encoderThreads: 2, spinning: false, encoderSpinning: false, wholeOutputs: true },
};

const json = process.argv.includes('--json');
const queryCount = Number(option('--queries', '60'));
const rounds = Number(option('--rounds', '5'));
const warmup = Number(option('--warmup', '10'));
const dataDir = process.env.GENIR_DATA_DIR;
const docidSource = option('--docids', dataDir ? 'squad-pq' : 'synthetic');
const docCount = Number(option('--docs', '2067'));
const names = option('--configs', Object.keys(SET_UPS).join(',')).split(',');
for (const name of names) if (!(name in SET_UPS)) throw new Error(`--configs: unknown ${name} (known: ${Object.keys(SET_UPS).join(', ')})`);

async function docids(textVocabSize: number): Promise<DocidTable> {
  const common = { scheme: 'pq' as const, textVocabSize, eosId: 1, seed: 0 };
  if (docidSource === 'squad-pq') return buildDocids((await openDataset({ id: 'squad-dev', dataDir })).docs(), common);
  const rng = new Rng(1);
  const dim = 64;
  const docs: Document[] = Array.from({ length: docCount }, (_, i) => ({ id: `d${i}`, title: '', text: '' }));
  const vectors = new Float32Array(docs.length * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = rng.normal();
  return buildDocids(docs, { ...common, embeddings: { kind: 'vectors', ids: docs.map((d) => d.id), dim, vectors } });
}

async function inferenceModel(config: T5Config, weights: ReadonlyMap<string, Float32Array>, setUp: SetUp): Promise<T5InferenceModel> {
  const { threads, encoderThreads, spinning, encoderSpinning } = setUp;
  const options: InferenceOptions = { threads, encoderThreads, spinning, encoderSpinning };
  if (setUp.fusedKernels && !setUp.wholeOutputs) return T5InferenceModel.create(config, weights, options);
  const graphOptions = { fuseForInference: true, fusedKernels: setUp.fusedKernels };
  const encoder = buildEncoderGraph(config, graphOptions);
  const step = buildDecoderStepGraph(config, graphOptions);
  return T5InferenceModel.fromOnnxFiles(
    config,
    exportModel(encoder, { params: inferenceParams(encoder, weights) }).bytes,
    exportModel(step, { params: inferenceParams(step, weights) }).bytes,
    options,
  );
}

/** The decoder with timers around its encoder calls and decoder steps. */
function timedDecoder(inner: DocidDecoder, encodeMs: number[], stepMs: number[]): DocidDecoder {
  return {
    config: inner.config,
    encode: async (...args) => {
      const start = performance.now();
      const encoded = await inner.encode(...args);
      encodeMs.push(performance.now() - start);
      return encoded;
    },
    emptyCache: (batch) => inner.emptyCache(batch),
    decoderStep: async (encoded, cache, tokens, workspace) => {
      const start = performance.now();
      const step = await inner.decoderStep(encoded, cache, tokens, workspace);
      stepMs.push(performance.now() - start);
      return step;
    },
  };
}

const median = (values: readonly number[]): number => percentile(values, 50);
const round3 = (value: number): number => Number(value.toFixed(3));

const textVocab = t5Config('small').vocabSize;
const table = await docids(textVocab);
const config = t5Config('small', { docidVocabSize: table.layout.docidVocabSize, dropoutRate: 0 });
const model = T5Model.create(config, 0, { threads: 2 });
const weights = new Map(model.weights());
await model.release();
const rng = new Rng(2);
const queries = Array.from({ length: queryCount }, () => Array.from({ length: 8 + rng.int(13) }, () => 3 + rng.int(textVocab - 3)));

const runs = new Map<
  string,
  {
    decoder: DocidDecoder;
    release: () => Promise<void>;
    latency: number[];
    encodeMs: number[];
    stepMs: number[];
    cpuMs: number;
    results: RankedDocid[][];
  }
>();
for (const name of names) {
  const inner = await inferenceModel(config, weights, SET_UPS[name]);
  const encodeMs: number[] = [];
  const stepMs: number[] = [];
  runs.set(name, {
    decoder: timedDecoder(inner, encodeMs, stepMs),
    release: () => inner.release(),
    latency: [],
    encodeMs,
    stepMs,
    cpuMs: 0,
    results: [],
  });
}
try {
  for (const run of runs.values())
    for (const source of queries.slice(0, warmup)) await constrainedBeamSearch(run.decoder, table, [source], { beam: 10, k: 10 });
  for (const run of runs.values()) {
    run.encodeMs.length = 0;
    run.stepMs.length = 0;
  }
  for (let r = 0; r < rounds; r++) {
    for (const run of runs.values()) {
      const cpuStart = process.cpuUsage();
      run.results = [];
      for (const source of queries) {
        const start = performance.now();
        const [found] = await constrainedBeamSearch(run.decoder, table, [source], { beam: 10, k: 10 });
        run.latency.push(performance.now() - start);
        run.results.push(found);
      }
      const cpu = process.cpuUsage(cpuStart);
      run.cpuMs += (cpu.user + cpu.system) / 1000;
    }
  }
  const reference = runs.get(names[0])!.results;
  const report: Record<string, unknown> = {};
  for (const [name, run] of runs) {
    let sameTop10 = 0;
    let maxScoreDiff = 0;
    run.results.forEach((hits, q) => {
      if (hits.map((h) => h.doc).join() === reference[q].map((h) => h.doc).join()) sameTop10++;
      hits.forEach((hit, i) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(hit.logProb - (reference[q][i]?.logProb ?? Infinity)))));
    });
    const row = {
      ...SET_UPS[name],
      p50_ms: round3(percentile(run.latency, 50)),
      p90_ms: round3(percentile(run.latency, 90)),
      encoder_ms: round3(median(run.encodeMs)),
      decoder_step_ms: round3(median(run.stepMs)),
      cpu_ms_per_query: round3(run.cpuMs / run.latency.length),
      same_top10_as_first: sameTop10,
      max_score_abs_diff: maxScoreDiff,
    };
    report[name] = row;
    console.log(
      `${name.padEnd(16)} p50 ${row.p50_ms.toFixed(2)} ms  p90 ${row.p90_ms.toFixed(2)} ms  encoder ${row.encoder_ms.toFixed(2)} ms  step ${row.decoder_step_ms.toFixed(3)} ms  CPU ${row.cpu_ms_per_query.toFixed(1)} ms/query  same top 10 as ${names[0]}: ${sameTop10}/${queries.length} (scores within ${maxScoreDiff.toExponential(1)})`,
    );
  }
  if (json) console.log(JSON.stringify({ docids: docidSource, docs: table.size, queries: queries.length, rounds, configs: report }));
} finally {
  for (const run of runs.values()) await run.release();
}
