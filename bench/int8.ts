/**
 * float32 against int8 inference graphs (`--quantize int8`), same run: speed, and what the
 * quantization changes in the rankings.
 *
 *   npm run bench:int8 -- [--json] [--threads 2] [--queries 200] [--rounds 3] [--batch 16]
 *                         [--model <dir>] [--split test] [--agreement-queries N] [--no-speed] [--no-agreement]
 *
 * Speed: bench:search's setup (the `small` preset, random weights, seed 0; PQ docids over
 * squad-dev's 2,067 paragraphs; 8–20 random text tokens per query; beam 10, k 10), both
 * decoders built from the same weights. Each round times float one query at a time, int8 one
 * query at a time, float in batches of --batch, int8 in batches, in that order, so background
 * load hits both alike; p50 single-query latency, CPU per query and batched ms per query are
 * over all rounds (medians of the rounds for the batched figure).
 *
 * Agreement: a model directory (--model, else bench:serve's model: `small`, random weights,
 * 8,000-subword tokenizer, PQ docids over squad-dev) searched over its dataset's --split queries
 * (the first --agreement-queries of them when given) with float32 and with int8 graphs (beam 10, k 10, batches of 16): RR@10 and R@10 of each with a
 * paired t-test and a randomization test, the share of queries with the identical top 10 (same
 * documents, same order), the same top 1, and the largest score difference of a document both
 * found for a query.
 * With --json the last stdout line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDataset } from '../src/data/registry.js';
import type { Run } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import { evaluateRun } from '../src/eval/metrics.js';
import { pairedTTest, randomizationTest } from '../src/eval/significance.js';
import { t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { readModelManifest } from '../src/retriever/directory.js';
import { constrainedBeamSearch, type RankedDocid } from '../src/search/beam.js';
import { T5InferenceModel } from '../src/search/decoder.js';
import { GenerativeSearcher, type SearchHit } from '../src/search/searcher.js';
import { Rng } from '../src/util/random.js';
import { percentile } from './stats.js';
import { buildSquadModel } from './squad-model.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const threads = Number(option('--threads', '2'));
const queryCount = Number(option('--queries', '200'));
const rounds = Number(option('--rounds', '3'));
const batchSize = Number(option('--batch', '16'));
const givenModel = process.argv.includes('--model') ? option('--model', '') : undefined;
const splitOption = process.argv.includes('--split') ? option('--split', '') : undefined;
const agreementQueries = process.argv.includes('--agreement-queries') ? Number(option('--agreement-queries', '')) : undefined;
const withSpeed = !process.argv.includes('--no-speed');
const withAgreement = !process.argv.includes('--no-agreement');
const beam = 10;
const k = 10;
const dataDir = process.env.GENIR_DATA_DIR;
if (dataDir === undefined) throw new Error('bench:int8 builds its models over squad-dev: set GENIR_DATA_DIR');

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const median = (values: readonly number[]): number => percentile(values, 50);
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

interface Timing {
  single: number[];
  cpuMs: number;
  batched: number[];
}

async function speed(): Promise<Record<string, unknown>> {
  const textVocab = t5Config('small').vocabSize;
  const dataset = await openDataset({ id: 'squad-dev', dataDir });
  const table = await buildDocids(dataset.docs(), { scheme: 'pq', textVocabSize: textVocab, eosId: 1, seed: 0 });
  const config = t5Config('small', { docidVocabSize: table.layout.docidVocabSize, dropoutRate: 0 });
  const model = T5Model.create(config, 0, { threads });
  const weights = model.weights();
  await model.release();
  const decoders = {
    float: await T5InferenceModel.create(config, weights, { threads, spinning: false }),
    int8: await T5InferenceModel.create(config, weights, { threads, spinning: false, quantize: 'int8' }),
  };
  const rng = new Rng(2);
  const queries = Array.from({ length: queryCount }, () => Array.from({ length: 8 + rng.int(13) }, () => 3 + rng.int(textVocab - 3)));
  const timings: Record<'float' | 'int8', Timing> = {
    float: { single: [], cpuMs: 0, batched: [] },
    int8: { single: [], cpuMs: 0, batched: [] },
  };
  const results: Record<'float' | 'int8', RankedDocid[][]> = { float: [], int8: [] };
  try {
    for (const which of ['float', 'int8'] as const) {
      for (const source of queries.slice(0, 10)) await constrainedBeamSearch(decoders[which], table, [source], { beam, k });
    }
    for (let r = 0; r < rounds; r++) {
      for (const which of ['float', 'int8'] as const) {
        const found: RankedDocid[][] = [];
        const cpuStart = process.cpuUsage();
        for (const source of queries) {
          const start = performance.now();
          const [hits] = await constrainedBeamSearch(decoders[which], table, [source], { beam, k });
          timings[which].single.push(performance.now() - start);
          found.push(hits);
        }
        const cpu = process.cpuUsage(cpuStart);
        timings[which].cpuMs += (cpu.user + cpu.system) / 1000;
        results[which] = found;
      }
      for (const which of ['float', 'int8'] as const) {
        const start = performance.now();
        for (let i = 0; i < queries.length; i += batchSize)
          await constrainedBeamSearch(decoders[which], table, queries.slice(i, i + batchSize), { beam, k });
        timings[which].batched.push((performance.now() - start) / queries.length);
      }
      log(
        `round ${r + 1}: p50 float ${median(timings.float.single.slice(-queries.length)).toFixed(2)} / int8 ${median(timings.int8.single.slice(-queries.length)).toFixed(2)} ms; batched ×${batchSize} float ${timings.float.batched[r].toFixed(2)} / int8 ${timings.int8.batched[r].toFixed(2)} ms per query`,
      );
    }
  } finally {
    await Promise.all([decoders.float.release(), decoders.int8.release()]);
  }
  let sameTop10 = 0;
  let maxScoreDiff = 0;
  results.float.forEach((floatHits, q) => {
    const int8Hits = results.int8[q];
    if (floatHits.map((h) => h.doc).join() === int8Hits.map((h) => h.doc).join()) sameTop10++;
    const int8Scores = new Map(int8Hits.map((h) => [h.doc, h.logProb]));
    for (const hit of floatHits) {
      const other = int8Scores.get(hit.doc);
      if (other !== undefined) maxScoreDiff = Math.max(maxScoreDiff, Math.abs(other - hit.logProb));
    }
  });
  const summary = (t: Timing) => ({
    p50_ms: round(median(t.single), 2),
    p99_ms: round(percentile(t.single, 99), 2),
    cpu_ms_per_query: round(t.cpuMs / t.single.length, 2),
    batched_ms_per_query: round(median(t.batched), 2),
  });
  const result = {
    float: summary(timings.float),
    int8: summary(timings.int8),
    speedup_p50: round(median(timings.float.single) / median(timings.int8.single), 2),
    speedup_batched: round(median(timings.float.batched) / median(timings.int8.batched), 2),
    random_queries: queries.length,
    same_top10_queries: sameTop10,
    max_score_abs_diff: round(maxScoreDiff, 4),
  };
  console.log(
    `speed (small, ${table.size} PQ docids, beam ${beam}, ${threads} threads, ${queries.length} random queries × ${rounds} rounds, interleaved):`,
  );
  for (const which of ['float', 'int8'] as const) {
    const s = result[which];
    console.log(
      `  ${which.padEnd(5)} p50 ${s.p50_ms.toFixed(2)} ms  p99 ${s.p99_ms.toFixed(2)} ms  CPU ${s.cpu_ms_per_query.toFixed(2)} ms per query; batched ×${batchSize}: ${s.batched_ms_per_query.toFixed(2)} ms per query`,
    );
  }
  console.log(
    `  int8 / float: ${result.speedup_p50}× single, ${result.speedup_batched}× batched; same top 10 on ${sameTop10}/${queries.length} random queries, scores within ${maxScoreDiff.toExponential(2)}`,
  );
  return result;
}

function sameTop(a: readonly SearchHit[], b: readonly SearchHit[], n: number): boolean {
  return (
    a
      .slice(0, n)
      .map((h) => h.docId)
      .join('\u0000') ===
    b
      .slice(0, n)
      .map((h) => h.docId)
      .join('\u0000')
  );
}

async function agreement(model: string, label: string): Promise<Record<string, unknown>> {
  const manifest = readModelManifest(model);
  const dataset = await openDataset({ id: String(manifest.dataset.id), dataDir });
  const split = splitOption ?? dataset.defaultSplit;
  const queries = (await dataset.queries(split)).slice(0, agreementQueries);
  const qrels = await dataset.qrels(split);
  const hits: Record<'float' | 'int8', SearchHit[][]> = { float: [], int8: [] };
  const searchMs: Record<'float' | 'int8', number> = { float: 0, int8: 0 };
  for (const which of ['float', 'int8'] as const) {
    const searcher = await GenerativeSearcher.open(model, { threads, spinning: false, quantize: which === 'int8' ? 'int8' : undefined });
    try {
      const start = performance.now();
      hits[which] = await searcher.search(
        queries.map((q) => q.text),
        { beam, k, batchQueries: 16, progress: false },
      );
      searchMs[which] = performance.now() - start;
    } finally {
      await searcher.release();
    }
  }
  const metrics = ['RR@10', 'R@10'];
  const evaluate = (which: 'float' | 'int8') => {
    const run: Run = new Map(queries.map((q, i) => [q.id, hits[which][i].map((h) => ({ docId: h.docId, score: h.score }))]));
    return evaluateRun(run, qrels, metrics, { averageOver: 'run' });
  };
  const floatEval = evaluate('float');
  const int8Eval = evaluate('int8');
  const ids = [...floatEval.perQuery.keys()];
  const perMetric: Record<string, unknown> = {};
  for (const metric of metrics) {
    const a = ids.map((id) => floatEval.perQuery.get(id)![metric]);
    const b = ids.map((id) => int8Eval.perQuery.get(id)![metric]);
    const t = pairedTTest(b, a);
    perMetric[metric] = {
      float: round(floatEval.mean[metric], 4),
      int8: round(int8Eval.mean[metric], 4),
      delta: round(int8Eval.mean[metric] - floatEval.mean[metric], 4),
      t_p: round(t.p, 4),
      randomization_p: round(randomizationTest(b, a, { trials: 10_000, seed: 1 }).p, 4),
    };
  }
  let sameTop10 = 0;
  let sameTop1 = 0;
  let maxScoreDiff = 0;
  queries.forEach((_, i) => {
    if (sameTop(hits.float[i], hits.int8[i], 10)) sameTop10++;
    if (sameTop(hits.float[i], hits.int8[i], 1)) sameTop1++;
    const int8Scores = new Map(hits.int8[i].map((h) => [h.docId, h.score]));
    for (const hit of hits.float[i]) {
      const other = int8Scores.get(hit.docId);
      if (other !== undefined) maxScoreDiff = Math.max(maxScoreDiff, Math.abs(other - hit.score));
    }
  });
  const result = {
    model: label,
    dataset: dataset.id,
    split,
    queries: queries.length,
    judged_queries: floatEval.queries,
    metrics: perMetric,
    same_top10_queries: sameTop10,
    same_top1_queries: sameTop1,
    max_score_abs_diff: round(maxScoreDiff, 4),
    search_s: { float: round(searchMs.float / 1000, 1), int8: round(searchMs.int8 / 1000, 1) },
  };
  console.log(`agreement (${label}; ${dataset.id} ${split}, ${queries.length} queries, beam ${beam}, k ${k}, batches of 16):`);
  for (const metric of metrics) {
    const m = perMetric[metric] as { float: number; int8: number; delta: number; t_p: number; randomization_p: number };
    console.log(
      `  ${metric}: float ${m.float.toFixed(4)}, int8 ${m.int8.toFixed(4)} (Δ ${m.delta >= 0 ? '+' : ''}${m.delta.toFixed(4)}; paired t p = ${m.t_p}, randomization p = ${m.randomization_p})`,
    );
  }
  console.log(
    `  identical top 10 on ${sameTop10}/${queries.length} queries (${((100 * sameTop10) / queries.length).toFixed(1)} %), same top 1 on ${sameTop1}/${queries.length}; scores of documents both found within ${maxScoreDiff.toExponential(2)}; search ${result.search_s.float} s float, ${result.search_s.int8} s int8`,
  );
  return result;
}

async function main(): Promise<void> {
  const output: Record<string, unknown> = { benchmark: 'int8', threads, beam, k };
  if (withSpeed) output.speed = await speed();
  if (withAgreement) {
    if (givenModel !== undefined) {
      output.agreement = await agreement(givenModel, givenModel);
    } else {
      const work = mkdtempSync(join(tmpdir(), 'genir-bench-int8-'));
      try {
        const { model } = await buildSquadModel(work);
        output.agreement = await agreement(model, "bench:serve's model (small, random weights, PQ docids over squad-dev)");
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }
  if (json) console.log(JSON.stringify(output));
}

await main();
