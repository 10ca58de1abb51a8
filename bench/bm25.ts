/**
 * BM25 side by side: genir against the npm libraries a user would otherwise pick
 * (wink-bm25-text-search and MiniSearch), on SciFact and squad-dev, same queries.
 *
 *   npm run bench:bm25 -- [--json] [--datasets scifact,squad-dev] [--top-k 1000] [--rounds 3] [--data-dir DIR]
 *
 * Per system and dataset: index build rate (documents per second, from documents already
 * in memory), query throughput (QPS) and per-query latency p50/p99 searching one query at
 * a time on one thread, and nDCG@10 of the run (trec_eval semantics). genir is also timed
 * on a batch over worker threads (`genir ×N threads`, pool started beforehand, building
 * the run's entries on the main thread included), and its thread scaling is reported on
 * the search alone (hits as typed arrays, one thread against the pool).
 *
 * Configurations, each as its documentation recommends:
 * - genir: english analyzer (Lucene's EnglishAnalyzer), title + text as one field,
 *   k1 0.9, b 0.4 (Anserini's BEIR setting);
 * - wink-bm25-text-search: the README's wink-nlp preparation (word tokens, stop words
 *   removed, stems, negation marks), fields title and text with weight 1, default BM25
 *   parameters (k1 1.2, b 0.75);
 * - MiniSearch: fields title and text, default tokenizer and BM25+ scoring, with the
 *   README's processTerm recipe for stop words (Lucene's English list) and lowercasing.
 *
 * Timing rounds interleave the systems (genir, wink, MiniSearch, genir, …) after one
 * warm-up pass each, so background load hits every system alike. With --json the last
 * line of stdout is one JSON object with every number.
 */
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import MiniSearch from 'minisearch';
import { Bm25Index } from '../src/bm25/bm25-index.js';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import { openDataset } from '../src/data/registry.js';
import type { Document, Qrels, Query, Run, RunEntry } from '../src/data/types.js';
import { evaluateRun } from '../src/eval/metrics.js';
import { getAnalyzer, LUCENE_ENGLISH_STOP_WORDS } from '../src/text/analyzers/index.js';

const require = createRequire(import.meta.url);

// Minimal shapes of the CommonJS packages this benchmark drives (they ship no usable types).
interface WinkEngine {
  defineConfig(config: { fldWeights: Record<string, number>; bm25Params?: Record<string, number> }): void;
  definePrepTasks(tasks: ((input: string) => string[])[]): void;
  addDoc(doc: Record<string, string>, id: number): void;
  consolidate(fp?: number): void;
  search(text: string, limit?: number): [number, number][];
}
interface WinkToken {
  out(property: unknown): unknown;
}
interface WinkNlp {
  readDoc(text: string): { tokens(): { filter(f: (t: WinkToken) => boolean): { each(f: (t: WinkToken) => void): void } } };
  its: { type: unknown; stopWordFlag: unknown; negationFlag: unknown; stem: unknown };
}

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const datasets = option('--datasets', 'scifact,squad-dev').split(',');
const topK = Number(option('--top-k', '1000'));
const rounds = Number(option('--rounds', '3'));
const dataDir = option('--data-dir', process.env.GENIR_DATA_DIR ?? '../shared/datasets');
const threads = availableParallelism();

/** One system under test: built over documents, searched one query at a time. */
interface System {
  name: string;
  build(docs: readonly Document[]): void;
  search(query: Query): RunEntry[];
}

function genirSystem(): System & { index(): Bm25Index } {
  let index: Bm25Index | undefined;
  return {
    name: 'genir',
    build(docs) {
      const builder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
      for (const doc of docs) builder.add(doc);
      index = new Bm25Index(builder.finish());
    },
    search(query) {
      if (index === undefined) throw new Error('genir index not built');
      return index.search(query.text, topK);
    },
    index() {
      if (index === undefined) throw new Error('genir index not built');
      return index;
    },
  };
}

function winkSystem(): System {
  const bm25 = require('wink-bm25-text-search') as () => WinkEngine;
  const winkNLP = require('wink-nlp') as (model: unknown) => WinkNlp;
  const nlp = winkNLP(require('wink-eng-lite-web-model'));
  const its = nlp.its;
  // The README's preparation task, verbatim in behaviour.
  const prepTask = (text: string): string[] => {
    const tokens: string[] = [];
    nlp
      .readDoc(text)
      .tokens()
      .filter((t) => t.out(its.type) === 'word' && !t.out(its.stopWordFlag))
      .each((t) => tokens.push(t.out(its.negationFlag) ? `!${String(t.out(its.stem))}` : String(t.out(its.stem))));
    return tokens;
  };
  let engine: WinkEngine | undefined;
  let ids: string[] = [];
  return {
    name: 'wink-bm25-text-search',
    build(docs) {
      engine = bm25();
      engine.defineConfig({ fldWeights: { title: 1, text: 1 } });
      engine.definePrepTasks([prepTask]);
      ids = docs.map((doc) => doc.id);
      docs.forEach((doc, i) => engine?.addDoc({ title: doc.title, text: doc.text }, i));
      engine.consolidate();
    },
    search(query) {
      if (engine === undefined) throw new Error('wink index not built');
      return engine.search(query.text, topK).map(([i, score]) => ({ docId: ids[i], score }));
    },
  };
}

function miniSearchSystem(): System {
  let engine: MiniSearch | undefined;
  return {
    name: 'minisearch',
    build(docs) {
      engine = new MiniSearch({
        fields: ['title', 'text'],
        processTerm: (term) => (LUCENE_ENGLISH_STOP_WORDS.has(term.toLowerCase()) ? null : term.toLowerCase()),
      });
      engine.addAll(docs.map((doc) => ({ id: doc.id, title: doc.title, text: doc.text })));
    },
    search(query) {
      if (engine === undefined) throw new Error('minisearch index not built');
      // MiniSearch returns every match, best first; the top k are kept.
      return engine
        .search(query.text)
        .slice(0, topK)
        .map((result) => ({ docId: String(result.id), score: result.score }));
    },
  };
}

interface SystemResult {
  index_docs_per_s: number;
  qps: number;
  p50_ms: number;
  p99_ms: number;
  'nDCG@10': number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[position];
}

async function loadDataset(id: string): Promise<{ docs: Document[]; queries: Query[]; qrels: Qrels }> {
  const dataset = await openDataset({ id, dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  const split = dataset.defaultSplit;
  return { docs, queries: await dataset.queries(split), qrels: await dataset.qrels(split) };
}

function timedPass(system: System, queries: readonly Query[], latencies: number[] | undefined): { ms: number; run: Run } {
  const run: Run = new Map();
  const start = performance.now();
  for (const query of queries) {
    const t0 = performance.now();
    run.set(query.id, system.search(query));
    latencies?.push(performance.now() - t0);
  }
  return { ms: performance.now() - start, run };
}

interface ThreadScaling {
  threads: number;
  pool_start_ms: number;
  hits_only_qps_1_thread: number;
  hits_only_qps_pool: number;
}

async function benchDataset(id: string): Promise<{ results: Record<string, SystemResult>; threadScaling: ThreadScaling | undefined }> {
  const { docs, queries, qrels } = await loadDataset(id);
  const genir = genirSystem();
  const systems: System[] = [genir, winkSystem(), miniSearchSystem()];
  const results: Record<string, SystemResult> = {};
  let threadScaling: ThreadScaling | undefined;
  const timing = new Map<string, { ms: number; latencies: number[]; ndcg: number; docsPerS: number }>();
  for (const system of systems) {
    const start = performance.now();
    system.build(docs);
    const buildMs = performance.now() - start;
    const warm = timedPass(system, queries, undefined);
    const ndcg = evaluateRun(warm.run, qrels, ['nDCG@10']).mean['nDCG@10'];
    timing.set(system.name, { ms: 0, latencies: [], ndcg, docsPerS: docs.length / (buildMs / 1000) });
  }
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const entry = timing.get(system.name);
      if (entry === undefined) continue;
      entry.ms += timedPass(system, queries, entry.latencies).ms;
    }
  }
  for (const [name, entry] of timing) {
    const sorted = [...entry.latencies].sort((a, b) => a - b);
    results[name] = {
      index_docs_per_s: Math.round(entry.docsPerS),
      qps: Math.round(((queries.length * rounds) / entry.ms) * 1000),
      p50_ms: Number(quantile(sorted, 0.5).toFixed(3)),
      p99_ms: Number(quantile(sorted, 0.99).toFixed(3)),
      'nDCG@10': Number(entry.ndcg.toFixed(4)),
    };
  }
  // genir over worker threads: the whole batch at once, pool warm, start-up timed apart.
  const index = genir.index();
  const poolStart = performance.now();
  const pool = await index.startPool({}, threads);
  const poolStartMs = performance.now() - poolStart;
  try {
    const batch = queries.map((query) => ({ text: query.text }));
    await pool.search(batch, topK); // warm-up
    let ms = 0;
    let run: Run = new Map();
    for (let round = 0; round < rounds; round++) {
      const start = performance.now();
      // Materializing the run (document ids and scores) is timed too, as for the other systems;
      // each query's entries are built as its batch comes back, while the workers search on.
      const entries = new Array<RunEntry[]>(queries.length);
      await pool.searchEach(batch, topK, (query, hits) => (entries[query] = index.toEntries(hits)));
      run = new Map(queries.map((query, i) => [query.id, entries[i]]));
      ms += performance.now() - start;
    }
    const ndcg = evaluateRun(run, qrels, ['nDCG@10']).mean['nDCG@10'];
    // The parallel part alone: hits as typed arrays, without building run entries on the main thread.
    const searcher = index.searcher();
    const hitsOnly = { single: 0, pool: 0 };
    for (let round = 0; round < rounds; round++) {
      let start = performance.now();
      for (const query of batch) searcher.search(query, topK);
      hitsOnly.single += performance.now() - start;
      start = performance.now();
      await pool.search(batch, topK);
      hitsOnly.pool += performance.now() - start;
    }
    threadScaling = {
      threads,
      pool_start_ms: Math.round(poolStartMs),
      hits_only_qps_1_thread: Math.round(((queries.length * rounds) / hitsOnly.single) * 1000),
      hits_only_qps_pool: Math.round(((queries.length * rounds) / hitsOnly.pool) * 1000),
    };
    results[`genir ×${threads} threads`] = {
      index_docs_per_s: results.genir.index_docs_per_s,
      qps: Math.round(((queries.length * rounds) / ms) * 1000),
      p50_ms: NaN,
      p99_ms: NaN,
      'nDCG@10': Number(ndcg.toFixed(4)),
    };
  } finally {
    await pool.close();
  }
  return { results, threadScaling };
}

const PEERS = ['wink-bm25-text-search', 'minisearch'];

const report: Record<string, unknown> = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  top_k: topK,
  rounds,
  datasets: {} as Record<string, unknown>,
};
const lines: string[] = [];
for (const id of datasets) {
  const { results, threadScaling } = await benchDataset(id);
  const bestPeer = PEERS.reduce((best, peer) => (results[peer].qps > results[best].qps ? peer : best));
  const ratio = (name: string) => Number((results[name].qps / results[bestPeer].qps).toFixed(2));
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    String(r.index_docs_per_s),
    String(r.qps),
    Number.isNaN(r.p50_ms) ? '-' : r.p50_ms.toFixed(3),
    Number.isNaN(r.p99_ms) ? '-' : r.p99_ms.toFixed(3),
    r['nDCG@10'].toFixed(4),
    PEERS.includes(name) ? '' : `${ratio(name)}×`,
  ]);
  const header = ['system', 'index docs/s', 'QPS', 'p50 ms', 'p99 ms', 'nDCG@10', 'QPS / best peer'];
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => row[c].length)));
  lines.push(`${id} (top ${topK}, ${rounds} timed rounds; best peer by QPS: ${bestPeer})`);
  for (const row of [header, ...rows])
    lines.push(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (threadScaling !== undefined) {
    lines.push(
      `genir search alone (hits as typed arrays, no run entries): ${threadScaling.hits_only_qps_1_thread} QPS on 1 thread, ` +
        `${threadScaling.hits_only_qps_pool} QPS on ${threadScaling.threads} worker threads ` +
        `(×${(threadScaling.hits_only_qps_pool / threadScaling.hits_only_qps_1_thread).toFixed(2)}; pool start ${threadScaling.pool_start_ms} ms)`,
    );
  }
  lines.push('');
  (report.datasets as Record<string, unknown>)[id] = {
    systems: Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        { ...r, p50_ms: Number.isNaN(r.p50_ms) ? null : r.p50_ms, p99_ms: Number.isNaN(r.p99_ms) ? null : r.p99_ms },
      ]),
    ),
    best_peer: bestPeer,
    qps_ratio_to_best_peer: Object.fromEntries(
      Object.keys(results)
        .filter((name) => !PEERS.includes(name))
        .map((name) => [name, ratio(name)]),
    ),
    ndcg10_minus_best_peer: Number((results.genir['nDCG@10'] - results[bestPeer]['nDCG@10']).toFixed(4)),
    thread_scaling: threadScaling ?? null,
  };
}
process.stdout.write(`${lines.join('\n')}\n`);
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
