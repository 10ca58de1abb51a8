/**
 * Dense search throughput: exact inner-product top-k as genir runs it (one ORT Gemm + TopK
 * per batch of queries, the document matrix baked into the graph), against a plain
 * JavaScript loop over every document and against an approximate index from npm (usearch's
 * HNSW), the latter at the smallest search expansion whose recall@k reaches --recall.
 *
 *   npm run bench:dense -- [--docs 10000] [--dim 256] [--queries 5000] [--k 10] [--batch 1000]
 *                          [--threads 2] [--recall 0.99] [--json]
 *
 * Data: unit vectors drawn around 200 random centres (seed 0), queries near documents (a
 * document plus noise), so the neighbourhoods have the structure real embeddings have. QPS
 * counts only the search (vectors in, top-k out), best of three timed passes after a warm-up.
 * Exact search's recall is 1 by construction; it is checked against the loop.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { ExactIndex, bruteForceTopK } from '../src/search/dense.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const docs = Number(option('--docs', '10000'));
const dim = Number(option('--dim', '256'));
const queries = Number(option('--queries', '5000'));
const k = Number(option('--k', '10'));
const batch = Number(option('--batch', '1000'));
const threads = Number(option('--threads', String(availableParallelism())));
const targetRecall = Number(option('--recall', '0.99'));
const json = process.argv.includes('--json');

function normalize(v: Float32Array, offset: number): void {
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += v[offset + j] ** 2;
  const scale = 1 / Math.sqrt(norm);
  for (let j = 0; j < dim; j++) v[offset + j] *= scale;
}

const rng = new Rng(0);
const centres = Float32Array.from({ length: 200 * dim }, () => rng.normal());
const docVectors = new Float32Array(docs * dim);
for (let d = 0; d < docs; d++) {
  const c = rng.int(200);
  for (let j = 0; j < dim; j++) docVectors[d * dim + j] = centres[c * dim + j] + 0.8 * rng.normal();
  normalize(docVectors, d * dim);
}
const queryVectors = new Float32Array(queries * dim);
for (let q = 0; q < queries; q++) {
  const d = rng.int(docs);
  for (let j = 0; j < dim; j++) queryVectors[q * dim + j] = docVectors[d * dim + j] + 0.05 * rng.normal();
  normalize(queryVectors, q * dim);
}

/** Best queries/s of three passes over every query (after one warm-up pass). */
async function qps(searchAll: () => Promise<void> | void, count: number): Promise<number> {
  await searchAll();
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const start = performance.now();
    await searchAll();
    best = Math.min(best, performance.now() - start);
  }
  return (count / best) * 1000;
}

function recall(found: ArrayLike<number | bigint>, truth: Int32Array, count: number): number {
  let hits = 0;
  for (let q = 0; q < count; q++) {
    const expected = new Set(Array.from(truth.subarray(q * k, (q + 1) * k)));
    for (let r = 0; r < k; r++) if (expected.has(Number(found[q * k + r]))) hits++;
  }
  return hits / (count * k);
}

// Exact search on ORT, in batches.
const exact = new ExactIndex(docVectors, docs, dim, { threads, spinning: false });
const ortIndices = new Int32Array(queries * k);
const ortQps = await qps(async () => {
  for (let start = 0; start < queries; start += batch) {
    const n = Math.min(batch, queries - start);
    const result = await exact.search(queryVectors.subarray(start * dim, (start + n) * dim), n, k);
    ortIndices.set(result.indices, start * k);
  }
}, queries);

// The plain loop, on a sample (it is slow); its answers are the ground truth of that sample.
const loopQueries = Math.min(queries, 500);
let truth: Int32Array = new Int32Array(0);
const loopQps = await qps(() => {
  truth = bruteForceTopK(queryVectors, loopQueries, docVectors, docs, dim, k).indices;
}, loopQueries);
const exactRecall = recall(ortIndices, truth, loopQueries);

// usearch HNSW: build once, then the smallest expansion reaching the target recall.
const buildStart = performance.now();
const hnswConfig = (expansion: number) => ({
  dimensions: dim,
  metric: MetricKind.IP,
  quantization: ScalarKind.F32,
  connectivity: 16,
  expansion_add: 128,
  expansion_search: expansion,
  multi: false,
});
const hnsw = new Index(hnswConfig(16));
hnsw.add(
  BigUint64Array.from({ length: docs }, (_, i) => BigInt(i)),
  docVectors,
  threads,
);
const hnswBuildSeconds = (performance.now() - buildStart) / 1000;
let chosen = { expansion: 0, recall: 0, qps: 0 };
for (const expansion of [16, 32, 64, 128, 256, 512]) {
  const probe = new Index(hnswConfig(expansion));
  probe.add(
    BigUint64Array.from({ length: docs }, (_, i) => BigInt(i)),
    docVectors,
    threads,
  );
  const found = probe.search(queryVectors.subarray(0, loopQueries * dim), k, threads);
  const r = recall(found.keys, truth, loopQueries);
  if (r >= targetRecall || expansion === 512) {
    const q = await qps(() => {
      probe.search(queryVectors, k, threads);
    }, queries);
    chosen = { expansion, recall: r, qps: q };
    break;
  }
}
await exact.release();

const report = {
  docs,
  dim,
  queries,
  k,
  threads,
  batch,
  ort_exact: { qps: Math.round(ortQps), recall: exactRecall },
  js_loop: { qps: Math.round(loopQps), recall: 1, queries: loopQueries },
  usearch_hnsw: {
    qps: Math.round(chosen.qps),
    recall: chosen.recall,
    expansion_search: chosen.expansion,
    build_seconds: Number(hnswBuildSeconds.toFixed(2)),
    target_recall: targetRecall,
  },
};
const lines = [
  `${docs} documents × ${dim} dims, ${queries} queries, top ${k}, ${threads} threads`,
  `genir exact (ORT Gemm + TopK, batches of ${batch}): ${report.ort_exact.qps} queries/s, recall@${k} ${exactRecall.toFixed(4)} against the loop`,
  `plain JS loop: ${report.js_loop.qps} queries/s (${loopQueries} queries)`,
  `usearch HNSW (M 16, expansion ${chosen.expansion}): ${report.usearch_hnsw.qps} queries/s at recall@${k} ${chosen.recall.toFixed(4)} (target ${targetRecall}; build ${report.usearch_hnsw.build_seconds} s)`,
];
if (json) lines.push(JSON.stringify(report));
process.stdout.write(`${lines.join('\n')}\n`);
