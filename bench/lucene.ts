/**
 * BM25 side by side with Lucene (the engine behind Anserini/Pyserini), on SciFact and squad-dev.
 *
 *   npm run bench:lucene -- [--json] [--datasets scifact,squad-dev] [--top-k 1000] [--rounds 3]
 *                           [--pruning auto|exhaustive|always] [--data-dir DIR]
 *
 * Both index the same documents (title and text as one field) with the English analyzer
 * (StandardTokenizer, possessives, lower case, English stop words, Porter; Anserini's default)
 * and BM25 k1 0.9, b 0.4. Lucene's side is bench/lucene/LuceneBench.java, compiled by this
 * script into a cache folder under the OS temp dir against Debian's liblucene8-java (installed
 * with apt-get when missing and running as root; otherwise the bench is skipped with one line).
 *
 * Per dataset: indexing rate (documents already in memory → searchable index; Lucene's includes
 * its commit to disk), queries/s on one thread and on two (genir: its worker pool; Lucene: the
 * queries split over two threads on one IndexSearcher), p50/p99 one query at a time, top k with
 * the run entries (id, score) materialised on both sides (and dropped, on every path: genir's
 * pool builds each query's entries on the main thread as its batch arrives), index size on disk, memory, and
 * whether each query's top 10 is the same (documents and scores to 1e-4). The two engines break
 * score ties differently (Lucene: lower internal doc number first; genir: trec_eval's order,
 * higher id first), so lists differing only in the order of tied documents are counted apart.
 * genir searches with the given top-k strategy (`--pruning`, default `auto`: the searcher's own
 * choice; `exhaustive` scores every posting). With --json the last stdout line is one JSON object.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bm25Index } from '../src/bm25/bm25-index.js';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import type { PruningMode } from '../src/bm25/searcher.js';
import type { SearchHits } from '../src/bm25/types.js';
import { openDataset } from '../src/data/registry.js';
import type { Document, Query } from '../src/data/types.js';
import { getAnalyzer } from '../src/text/analyzers/index.js';
import { compareTop10, type Hit } from './lucene-compare.js';
import { compileLuceneBench, ensureLucene, flat, runLuceneBench } from './lucene-java.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const datasets = option('--datasets', 'scifact,squad-dev').split(',');
const topK = Number(option('--top-k', '1000'));
const rounds = Number(option('--rounds', '3'));
const pruning = option('--pruning', 'auto') as PruningMode;
if (!['auto', 'exhaustive', 'always'].includes(pruning)) throw new Error(`--pruning ${pruning}: expected auto, exhaustive or always`);
const dataDir = option('--data-dir', process.env.GENIR_DATA_DIR ?? '../shared/datasets');
/**
 * Characters Lucene 8.8's StandardTokenizer emits as emoji tokens (©, ®, ™, ↔ in SciFact) and
 * genir's tokenizer drops (docs/bm25.md); removed from both sides for the second comparison.
 */
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Presentation}]/gu;
const withoutEmoji = (doc: Document): Document => ({ ...doc, title: doc.title.replace(EMOJI, ' '), text: doc.text.replace(EMOJI, ' ') });

function quantile(sorted: readonly number[], q: number): number {
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[position];
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const mb = (bytes: number): number => round(bytes / 1048576);

async function genirSide(docs: readonly Document[], queries: readonly Query[], work: string) {
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const builder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
  for (const doc of docs) builder.add(doc);
  const index = new Bm25Index(builder.finish());
  const indexS = (performance.now() - start) / 1000;
  const indexPath = join(work, 'genir.idx');
  await index.save(indexPath);
  const indexBytes = statSync(indexPath).size;
  const searcher = index.searcher({}, { pruning });
  const top10 = new Map<string, Hit[]>();
  for (const query of queries) top10.set(query.id, searcher.searchEntries(query, topK).slice(0, 10));
  const latencies: number[] = [];
  const oneStart = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const query of queries) {
      const t0 = performance.now();
      searcher.searchEntries(query, topK);
      latencies.push(performance.now() - t0);
    }
  }
  const oneS = (performance.now() - oneStart) / 1000;
  latencies.sort((x, y) => x - y);
  const pool = await index.startPool({}, 2, { pruning });
  let twoS: number;
  try {
    const batch = queries.map((query) => ({ text: query.text }));
    // Each query's run entries are built as its batch comes back (overlapping the workers'
    // search) and dropped, as the one-thread loop above and Lucene's threads do.
    const materialise = (_query: number, hits: SearchHits) => index.toEntries(hits);
    await pool.searchEach(batch, topK, materialise); // warm-up
    const twoStart = performance.now();
    for (let r = 0; r < rounds; r++) await pool.searchEach(batch, topK, materialise);
    twoS = (performance.now() - twoStart) / 1000;
  } finally {
    await pool.close();
  }
  let arrayBytes = 0;
  for (const field of index.data.fields)
    arrayBytes += field.offsets.byteLength + field.docs.byteLength + field.freqs.byteLength + field.norms.byteLength;
  arrayBytes += index.data.docIdOrder.byteLength;
  return {
    top10,
    result: {
      index_s: round(indexS, 3),
      index_docs_per_s: Math.round(docs.length / indexS),
      index_bytes: indexBytes,
      qps_1_thread: Math.round((queries.length * rounds) / oneS),
      qps_2_threads: Math.round((queries.length * rounds) / twoS),
      qps: Math.round((queries.length * rounds) / oneS),
      p50_ms: round(quantile(latencies, 0.5), 3),
      p99_ms: round(quantile(latencies, 0.99), 3),
      postings_arrays_mb: mb(arrayBytes),
      rss_growth_mb: mb(process.memoryUsage().rss - rssBefore),
      peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    },
  };
}

function luceneSide(classPath: string, docs: readonly Document[], queries: readonly Query[], work: string, timedRounds = rounds) {
  const docsPath = join(work, 'docs.tsv');
  const queriesPath = join(work, 'queries.tsv');
  // The same text genir indexes: title and text joined by a space (Bm25IndexBuilder, flat mode).
  writeFileSync(
    docsPath,
    docs.map((doc) => `${flat(doc.id)}\t${flat(doc.title === '' ? doc.text : `${doc.title} ${doc.text}`)}\n`).join(''),
  );
  writeFileSync(queriesPath, queries.map((query) => `${flat(query.id)}\t${flat(query.text)}\n`).join(''));
  return runLuceneBench(classPath, { docsPath, queriesPath, work, topK, rounds: timedRounds });
}

const setup = ensureLucene();
if ('skip' in setup) {
  process.stdout.write(`bench:lucene skipped: ${setup.skip}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ skipped: setup.skip })}\n`);
  process.exit(0);
}
const classPath = compileLuceneBench(setup.jars);
const report = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  top_k: topK,
  pruning,
  rounds,
  datasets: {} as Record<string, unknown>,
};
const lines: string[] = [];
for (const id of datasets) {
  const dataset = await openDataset({ id, dataDir });
  const docs: Document[] = [];
  for await (const doc of dataset.docs()) docs.push(doc);
  const queries = await dataset.queries(dataset.defaultSplit);
  const work = mkdtempSync(join(tmpdir(), 'genir-bench-lucene-'));
  try {
    const genir = await genirSide(docs, queries, work);
    const lucene = luceneSide(classPath, docs, queries, work);
    const comparison = compareTop10(genir.top10, lucene.top10);
    // Rankings again with emoji characters removed from both sides: isolates the tokenizer difference.
    const plainDocs = docs.map(withoutEmoji);
    const plainQueries = queries.map((query) => ({ ...query, text: query.text.replace(EMOJI, ' ') }));
    const plainBuilder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
    for (const doc of plainDocs) plainBuilder.add(doc);
    const plainIndex = new Bm25Index(plainBuilder.finish());
    const plainGenir = new Map(plainQueries.map((query) => [query.id, plainIndex.search(query, 10)]));
    const plainComparison = compareTop10(plainGenir, luceneSide(classPath, plainDocs, plainQueries, work, 0).top10);
    const l = lucene.result;
    const luceneRow = {
      version: l.lucene_version,
      index_s: round(l.index_s, 3),
      index_docs_per_s: Math.round(l.index_docs_per_s),
      index_bytes: l.index_bytes,
      segments: l.segments,
      qps_1_thread: Math.round(l.qps_1_thread),
      qps_2_threads: Math.round(l.qps_2_threads),
      qps: Math.round(l.qps_1_thread),
      p50_ms: round(l.p50_ms, 3),
      p99_ms: round(l.p99_ms, 3),
      heap_used_mb: round(l.heap_used_mb),
      peak_rss_mb: round(l.peak_rss_mb),
    };
    (report.datasets as Record<string, unknown>)[id] = {
      docs: docs.length,
      queries: queries.length,
      genir: genir.result,
      lucene: luceneRow,
      same_top10: comparison.different.length === 0,
      top10_identical: comparison.identical,
      top10_tie_order_only: comparison.tieOrderOnly,
      top10_different: comparison.different.length,
      top10_max_score_diff: comparison.maxScoreDiff,
      top10_differences: comparison.different.slice(0, 5),
      emoji_removed: {
        same_top10: plainComparison.different.length === 0,
        top10_identical: plainComparison.identical,
        top10_tie_order_only: plainComparison.tieOrderOnly,
        top10_different: plainComparison.different.length,
        top10_max_score_diff: plainComparison.maxScoreDiff,
        top10_differences: plainComparison.different.slice(0, 5),
      },
      qps_ratio_1_thread: round(genir.result.qps_1_thread / luceneRow.qps_1_thread, 2),
      qps_ratio_2_threads: round(genir.result.qps_2_threads / luceneRow.qps_2_threads, 2),
      index_speed_ratio: round(genir.result.index_docs_per_s / luceneRow.index_docs_per_s, 2),
    };
    const g = genir.result;
    lines.push(`${id}: ${docs.length} documents, ${queries.length} queries, top ${topK}, ${rounds} timed rounds, genir pruning ${pruning}`);
    lines.push(`  system  index docs/s  QPS 1 thread  QPS 2 threads  p50 ms  p99 ms  index MB  memory`);
    lines.push(
      `  genir   ${String(g.index_docs_per_s).padStart(12)}  ${String(g.qps_1_thread).padStart(12)}  ${String(g.qps_2_threads).padStart(13)}  ${g.p50_ms.toFixed(3).padStart(6)}  ${g.p99_ms.toFixed(3).padStart(6)}  ${String(mb(g.index_bytes)).padStart(8)}  postings ${g.postings_arrays_mb} MB, RSS +${g.rss_growth_mb} MB`,
    );
    lines.push(
      `  lucene  ${String(luceneRow.index_docs_per_s).padStart(12)}  ${String(luceneRow.qps_1_thread).padStart(12)}  ${String(luceneRow.qps_2_threads).padStart(13)}  ${luceneRow.p50_ms.toFixed(3).padStart(6)}  ${luceneRow.p99_ms.toFixed(3).padStart(6)}  ${String(mb(l.index_bytes)).padStart(8)}  heap ${luceneRow.heap_used_mb} MB, JVM peak RSS ${luceneRow.peak_rss_mb} MB`,
    );
    lines.push(
      `  top 10: ${comparison.identical}/${comparison.queries} identical, ${comparison.tieOrderOnly} differ only in the order of tied scores, ` +
        `${comparison.different.length} differ (max score difference ${comparison.maxScoreDiff.toExponential(2)})`,
    );
    for (const d of comparison.different.slice(0, 5)) {
      lines.push(
        `    query ${d.queryId} rank ${d.rank}: genir ${d.a ? `${d.a.docId} ${d.a.score}` : '-'} / lucene ${d.b ? `${d.b.docId} ${d.b.score}` : '-'}`,
      );
    }
    lines.push(
      `  top 10 with emoji characters removed from both sides: ${plainComparison.identical}/${plainComparison.queries} identical, ` +
        `${plainComparison.tieOrderOnly} differ only in the order of tied scores, ${plainComparison.different.length} differ ` +
        `(max score difference ${plainComparison.maxScoreDiff.toExponential(2)})`,
    );
    for (const d of plainComparison.different.slice(0, 5)) {
      lines.push(
        `    query ${d.queryId} rank ${d.rank}: genir ${d.a ? `${d.a.docId} ${d.a.score}` : '-'} / lucene ${d.b ? `${d.b.docId} ${d.b.score}` : '-'}`,
      );
    }
    lines.push('');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
