/**
 * Same-run A/B of the query paths that issue 15 items 4 and 5 changed: an older checkout's code
 * against this one, interleaved in one process, with counts that do not depend on load.
 *
 *   git archive <commit> src | (mkdir -p .scratch/old && tar -x -C .scratch/old)
 *   npm run -s bench:ab -- --old .scratch/old [--what bm25,beam] [--rounds 7] [--queries 40]
 *                           [--datasets squad-dev,scifact] [--docids squad-pq|synthetic] [--spinning]
 *                           [--batches 1,16,32]
 *
 * `--old` is a folder holding an older `src/` (inside this checkout, so that its imports of
 * node_modules resolve; `.scratch/` is git-ignored). For 2026-12-07 the older side is
 * ef31d27, the commit before the changes; for the batched steps that read one encoder row per
 * query (`--what beam --batches 1,16,32`), c3c82fb.
 *
 * bm25: the same index (built once, searched by both codes) over every query of the dataset,
 * top 1000. First every query's hits, float32 score bits, run entries and pool hits are compared
 * (the rankings must be byte-identical); then, per pass over all queries, wall and CPU time
 * (all threads) of: one thread with run entries (`Bm25Index.search`), one thread hits only, the
 * 2-thread pool hits only, the pool with the run kept in a Map (old: `pool.search` then `toRun`;
 * new: `searchEach` building each query's entries as its batch arrives), and the pool with
 * each query's entries built and dropped (the shape bench:lucene times).
 *
 * beam: the `small` model (random weights, seed 0) over PQ docids (squad-dev's 2,067 paragraphs,
 * or 2,067 Gaussian vectors), beam 10, k 10, 2 ORT threads, the queries searched in batches of
 * each `--batches` size (1: one query at a time): per batch size, how many queries got
 * bit-identical top 10 and scores from both codes, how many the same top 10, and the largest
 * score difference; then per pass the wall and CPU time per query, the wall time per decoder
 * step, and the encoder-output floats fed per step.
 *
 * Rounds alternate old and new, so background load hits both alike; medians are printed.
 * With --json the last stdout line is one JSON object.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Bm25Index } from '../src/bm25/bm25-index.js';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import type { IndexData, SearchHits, SearchQuery } from '../src/bm25/types.js';
import { openDataset } from '../src/data/registry.js';
import type { Document, RunEntry } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import type { DocidTable } from '../src/docids/table.js';
import type { T5Config } from '../src/model/config.js';
import { t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { constrainedBeamSearch, type RankedDocid } from '../src/search/beam.js';
import { T5InferenceModel, type DocidDecoder, type InferenceOptions } from '../src/search/decoder.js';
import { getAnalyzer } from '../src/text/analyzers/index.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const oldRoot = option('--old', '');
if (oldRoot === '') throw new Error('--old <folder holding an older src/> is required (see the header of bench/ab-query-path.ts)');
const what = option('--what', 'bm25,beam').split(',');
const rounds = Number(option('--rounds', '7'));
const queryCount = Number(option('--queries', '40'));
const datasets = option('--datasets', 'squad-dev,scifact').split(',');
const dataDir = process.env.GENIR_DATA_DIR;
const docidSource = option('--docids', dataDir ? 'squad-pq' : 'synthetic');
const spinning = process.argv.includes('--spinning');
const batches = option('--batches', '1').split(',').map(Number);
const json = process.argv.includes('--json');

/** The older code's modules, loaded from --old (their own copies of everything they import). */
async function oldModule<T>(path: string): Promise<T> {
  return (await import(pathToFileURL(resolve(oldRoot, path)).href)) as T;
}

interface OldPool {
  search(queries: readonly SearchQuery[], k: number): Promise<SearchHits[]>;
  close(): Promise<void>;
}
interface OldIndex {
  search(query: SearchQuery, k: number): RunEntry[];
  searcher(): { search(query: SearchQuery, k: number): SearchHits };
  startPool(params: object, threads: number): Promise<OldPool>;
  toEntries(hits: SearchHits): RunEntry[];
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Wall and CPU (all threads) milliseconds of one call. */
async function timed(run: () => unknown): Promise<{ wall: number; cpu: number }> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await run();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Runs every case once per round, in order, and returns the medians per case. */
async function interleaved(cases: Record<string, () => unknown>): Promise<Record<string, { wall_ms: number; cpu_ms: number }>> {
  const samples = new Map(Object.keys(cases).map((name) => [name, { wall: [] as number[], cpu: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(cases)) {
      const { wall, cpu } = await timed(run);
      samples.get(name)!.wall.push(wall);
      samples.get(name)!.cpu.push(cpu);
    }
  }
  const out: Record<string, { wall_ms: number; cpu_ms: number }> = {};
  for (const [name, { wall, cpu }] of samples) out[name] = { wall_ms: round(median(wall), 1), cpu_ms: round(median(cpu), 1) };
  return out;
}

const scoreBits = (scores: Float32Array): string => Array.from(new Uint32Array(scores.buffer, scores.byteOffset, scores.length)).join();
const hitsKey = (hits: SearchHits): string => `${Array.from(hits.docs).join()}|${scoreBits(hits.scores)}`;

async function bm25(id: string) {
  const { Bm25Index: OldBm25Index } = await oldModule<{ Bm25Index: new (data: IndexData) => OldIndex }>('src/bm25/bm25-index.ts');
  const dataset = await openDataset({ id, dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  const queries = await dataset.queries(dataset.defaultSplit);
  const builder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
  for (const doc of docs) builder.add(doc);
  const data = builder.finish();
  const oldIndex = new OldBm25Index(data);
  const newIndex = new Bm25Index(data);
  const batch = queries.map((query) => ({ text: query.text }));
  const oldPool = await oldIndex.startPool({}, 2);
  const newPool = await newIndex.startPool({}, 2);
  try {
    const oldSearcher = oldIndex.searcher();
    const newSearcher = newIndex.searcher();
    const [oldPoolHits, newPoolHits] = [await oldPool.search(batch, 1000), await newPool.search(batch, 1000)];
    let identical = 0;
    let hits = 0;
    for (let i = 0; i < queries.length; i++) {
      const single = hitsKey(newSearcher.search(batch[i], 1000));
      const same =
        single === hitsKey(oldSearcher.search(batch[i], 1000)) &&
        single === hitsKey(oldPoolHits[i]) &&
        single === hitsKey(newPoolHits[i]) &&
        JSON.stringify(oldIndex.search(queries[i], 1000)) === JSON.stringify(newIndex.search(queries[i], 1000));
      if (same) identical++;
      hits += newPoolHits[i].docs.length;
    }
    const passes = await interleaved({
      'old 1 thread, entries': () => queries.forEach((query) => oldIndex.search(query, 1000)),
      'new 1 thread, entries': () => queries.forEach((query) => newIndex.search(query, 1000)),
      'old 1 thread, hits': () => batch.forEach((query) => oldSearcher.search(query, 1000)),
      'new 1 thread, hits': () => batch.forEach((query) => newSearcher.search(query, 1000)),
      'old pool, hits': () => oldPool.search(batch, 1000),
      'new pool, hits': () => newPool.search(batch, 1000),
      'old pool, run kept': async () => {
        const found = await oldPool.search(batch, 1000);
        return new Map(queries.map((query, i) => [query.id, oldIndex.toEntries(found[i])]));
      },
      'new pool, run kept': async () => {
        const entries = new Array<RunEntry[]>(queries.length);
        await newPool.searchEach(batch, 1000, (query, found) => (entries[query] = newIndex.toEntries(found)));
        return new Map(queries.map((query, i) => [query.id, entries[i]]));
      },
      'old pool, entries dropped': async () => (await oldPool.search(batch, 1000)).forEach((found) => oldIndex.toEntries(found)),
      'new pool, entries dropped': () => newPool.searchEach(batch, 1000, (_query, found) => newIndex.toEntries(found)),
    });
    const withQps = Object.fromEntries(
      Object.entries(passes).map(([name, pass]) => [name, { ...pass, qps: Math.round(queries.length / (pass.wall_ms / 1000)) }]),
    );
    return { queries: queries.length, hits, identical_queries: identical, passes: withQps };
  } finally {
    await oldPool.close();
    await newPool.close();
  }
}

async function beamTable(textVocabSize: number): Promise<DocidTable> {
  const common = { scheme: 'pq' as const, textVocabSize, eosId: 1, seed: 0 };
  if (docidSource === 'squad-pq') return buildDocids((await openDataset({ id: 'squad-dev', dataDir })).docs(), common);
  const rng = new Rng(1);
  const dim = 64;
  const docs: Document[] = Array.from({ length: 2067 }, (_, i) => ({ id: `d${i}`, title: '', text: '' }));
  const vectors = new Float32Array(docs.length * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = rng.normal();
  return buildDocids(docs, { ...common, embeddings: { kind: 'vectors', ids: docs.map((d) => d.id), dim, vectors } });
}

type BeamSearch = (
  decoder: DocidDecoder,
  table: DocidTable,
  sources: number[][],
  options: { beam: number; k: number },
) => Promise<RankedDocid[][]>;

async function beam() {
  const { constrainedBeamSearch: oldSearch } = await oldModule<{ constrainedBeamSearch: BeamSearch }>('src/search/beam.ts');
  const { T5InferenceModel: OldInference } = await oldModule<{
    T5InferenceModel: {
      create(config: T5Config, weights: ReadonlyMap<string, Float32Array>, options: InferenceOptions): Promise<T5InferenceModel>;
    };
  }>('src/search/decoder.ts');
  const textVocab = t5Config('small').vocabSize;
  const table = await beamTable(textVocab);
  const config = t5Config('small', { docidVocabSize: table.layout.docidVocabSize, dropoutRate: 0 });
  const model = T5Model.create(config, 0, { threads: 2 });
  const weights = new Map(model.weights());
  await model.release();
  const options: InferenceOptions = { threads: 2, spinning };
  const rng = new Rng(2);
  const queries = Array.from({ length: queryCount }, () => Array.from({ length: 8 + rng.int(13) }, () => 3 + rng.int(textVocab - 3)));
  const sides = {
    old: { decoder: await OldInference.create(config, weights, options), search: oldSearch },
    new: { decoder: await T5InferenceModel.create(config, weights, options), search: constrainedBeamSearch as BeamSearch },
  };
  const counters = { old: { stepMs: 0, steps: 0, fed: 0 }, new: { stepMs: 0, steps: 0, fed: 0 } };
  const counted = (name: 'old' | 'new'): DocidDecoder => {
    const inner = sides[name].decoder;
    return {
      config: inner.config,
      encode: (...args) => inner.encode(...args),
      emptyCache: (batch) => inner.emptyCache(batch),
      decoderStep: async (encoded, cache, tokens, workspace) => {
        for (const t of [...encoded.crossKeys, ...encoded.crossValues]) counters[name].fed += t.data.length;
        const start = performance.now();
        const step = await inner.decoderStep(encoded, cache, tokens, workspace);
        counters[name].stepMs += performance.now() - start;
        counters[name].steps += 1;
        return step;
      },
    };
  };
  const decoders = { old: counted('old'), new: counted('new') };
  const search = (name: 'old' | 'new', batch: number) => async () => {
    const found: RankedDocid[][] = [];
    for (let i = 0; i < queries.length; i += batch)
      found.push(...(await sides[name].search(decoders[name], table, queries.slice(i, i + batch), { beam: 10, k: 10 })));
    return found;
  };
  try {
    const byBatch: Record<string, unknown> = {};
    for (const batch of batches) {
      const [a, b] = [await search('old', batch)(), await search('new', batch)()];
      let identical = 0;
      let sameTop10 = 0;
      let maxScoreDiff = 0;
      a.forEach((oldHits, q) => {
        if (JSON.stringify(oldHits) === JSON.stringify(b[q])) identical++;
        if (oldHits.map((h) => h.doc).join() === b[q].map((h) => h.doc).join()) sameTop10++;
        oldHits.forEach((hit, i) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(hit.logProb - (b[q][i]?.logProb ?? Infinity)))));
      });
      const perStep = { old: [] as number[], new: [] as number[] };
      const fedPerStep = { old: 0, new: 0 };
      const cases: Record<string, () => unknown> = {};
      for (const name of ['old', 'new'] as const) {
        cases[name] = async () => {
          counters[name].stepMs = 0;
          counters[name].steps = 0;
          counters[name].fed = 0;
          await search(name, batch)();
          perStep[name].push(counters[name].stepMs / counters[name].steps);
          fedPerStep[name] = counters[name].fed / counters[name].steps;
        };
      }
      const passes = await interleaved(cases);
      const side = (name: 'old' | 'new') => ({
        ms_per_query: round(passes[name].wall_ms / queries.length),
        cpu_ms_per_query: round(passes[name].cpu_ms / queries.length),
        decoder_step_ms: round(median(perStep[name]), 3),
        encoder_floats_fed_per_step: Math.round(fedPerStep[name]),
      });
      byBatch[batch] = {
        identical_queries: identical,
        same_top10_queries: sameTop10,
        max_score_abs_diff: maxScoreDiff,
        old: side('old'),
        new: side('new'),
      };
    }
    return { docids: docidSource, docs: table.size, queries: queries.length, batches: byBatch };
  } finally {
    await sides.old.decoder.release();
    await sides.new.decoder.release();
  }
}

const report: Record<string, unknown> = { rounds, spinning };
if (what.includes('bm25')) {
  for (const id of datasets) {
    const result = await bm25(id);
    report[`bm25_${id}`] = result;
    console.log(
      `bm25 ${id}: ${result.identical_queries}/${result.queries} queries byte-identical (top 1000: hits, score bits, entries, pool), ${result.hits} hits`,
    );
    for (const [name, pass] of Object.entries(result.passes))
      console.log(
        `  ${name.padEnd(26)} ${String(pass.wall_ms).padStart(8)} ms/pass  CPU ${String(pass.cpu_ms).padStart(7)} ms  ${String(pass.qps).padStart(6)} QPS`,
      );
  }
}
if (what.includes('beam')) {
  const result = await beam();
  report.beam = result;
  console.log(`beam (${result.docids}, ${result.docs} docs, ${result.queries} queries, beam 10, k 10):`);
  for (const [batch, pass] of Object.entries(result.batches)) console.log(`  batch ${batch}: ${JSON.stringify(pass)}`);
}
if (json) console.log(JSON.stringify(report));
