/**
 * How genir's costs grow with the corpus: BM25 (and Lucene beside it), docid construction,
 * the docid trie and constrained beam search, at 10k, 100k and 1M documents.
 *
 *   npm run bench:scale -- [--json] [--sizes 10000,100000,1000000] [--queries 1000] [--top-k 1000]
 *                          [--docids pq,semantic] [--docid-max 1000000] [--beam-queries 20]
 *                          [--k-list 10,100,1000] [--no-lucene] [--no-bm25] [--no-docids] [--plots DIR] [--merge FILE]
 *                          [--seed 0] [--data-dir DIR]
 *
 * Corpus: bench/scale-corpus.ts draws documents from SciFact's and squad-dev's word and length
 * distributions (seeded), and makes known-answer queries from the rarest words of random
 * documents; recall@10 of those answers checks that every size searches correctly.
 *
 * Each measurement runs in its own child process, so that its peak RSS is its own:
 * - bm25: index build (documents generated as they are added; generation time excluded),
 *   index file size, query throughput one query at a time on one thread and as one batch over
 *   the 2-thread worker pool (top k, run entries materialised as bench:bm25 does), p50/p99;
 * - lucene (when Lucene 8 can be installed): the same documents through bench/lucene/LuceneBench.java;
 * - docids <scheme>: buildDocids (pq: TF-IDF → randomized SVD (LSA) → PQ k-means; semantic:
 *   hierarchical k-means) time and peak RSS, trie node count, then constrained beam search
 *   (beam 10, `small` preset, random weights: latency does not depend on their values) over
 *   those docids, p50 over --beam-queries queries, and the model directory's size (weights
 *   and docid table). Sizes above --docid-max skip this part.
 * - bm25 at each k of --k-list: queries/s on one thread and on the 2-thread pool, exhaustive
 *   (`bm25_exhaustive_qps_k<K>`, `…_2_threads_k<K>`) and with the searcher's automatic MaxScore
 *   pruning (`bm25_qps_k<K>`, `bm25_qps_2_threads_k<K>`), postings scored per query by each
 *   (counts, load-independent) and the share of queries pruned; Lucene at the same k
 *   (`lucene_qps_k<K>`, `lucene_qps_2_threads_k<K>`). The headline bm25_qps fields stay at
 *   --top-k, searched with the default (automatic) pruning; `--no-docids` skips the docid part.
 * --merge FILE adds the sizes of a previous run (a file whose last line is its --json line) that
 * this run does not measure, marked `"merged": 1`, so sizes measured in separate runs share one
 * table and one set of curves.
 * With --plots DIR the curves are written there as SVG; with --json the last stdout line is
 * `{"sizes":[{"docs":…,"bm25_index_s":…,"bm25_qps":…,"rss_mb":…,"beam_p50_ms":…},…]}`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Bm25Index } from '../src/bm25/bm25-index.js';
import { termFrontiers } from '../src/bm25/bounds.js';
import type { PruningMode } from '../src/bm25/searcher.js';
import { Bm25IndexBuilder } from '../src/bm25/builder.js';
import { openDataset } from '../src/data/registry.js';
import type { RunEntry } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import { saveDocids } from '../src/docids/io.js';
import type { DocidScheme } from '../src/docids/table.js';
import { t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { constrainedBeamSearch, type BeamSearchStats } from '../src/search/beam.js';
import { T5InferenceModel } from '../src/search/decoder.js';
import { getAnalyzer } from '../src/text/analyzers/index.js';
import { linePlotSvg, type PlotSeries } from '../src/train/loop/plot.js';
import { Rng } from '../src/util/random.js';
import { corpusModel, generateCorpus, generatedDocument, knownAnswerQueries, type CorpusModel } from './scale-corpus.js';
import { compileLuceneBench, ensureLucene, flat, runLuceneBench } from './lucene-java.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const sizes = option('--sizes', '10000,100000,1000000')
  .split(',')
  .filter((size) => size !== '')
  .map(Number);
const queryCount = Number(option('--queries', '1000'));
const topK = Number(option('--top-k', '1000'));
const schemes = option('--docids', 'pq,semantic')
  .split(',')
  .filter((s) => s !== '') as DocidScheme[];
const docidMax = Number(option('--docid-max', '1000000'));
const beamQueries = Number(option('--beam-queries', '20'));
const withLucene = !process.argv.includes('--no-lucene');
const withBm25 = !process.argv.includes('--no-bm25');
const withDocids = !process.argv.includes('--no-docids');
/** The k values bm25 and Lucene are also timed at (exhaustive and pruned). */
const kList = option('--k-list', '10,100,1000')
  .split(',')
  .filter((k) => k !== '')
  .map(Number);
const plotsDir = option('--plots', '');
/** A previous run's JSON (its last stdout line): its sizes not measured now join the table, the plots and the JSON. */
const mergeFile = option('--merge', '');
const seed = Number(option('--seed', '0'));
const dataDir = option('--data-dir', process.env.GENIR_DATA_DIR ?? '../shared/datasets');
const child = option('--child', '');
const BEAM = 10;
const THREADS = 2;

const log = (message: string): void => void process.stderr.write(`${message}\n`);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const mb = (bytes: number): number => round(bytes / 1048576);
const peakRssMb = (): number => round(process.resourceUsage().maxRSS / 1024);
/** User + system CPU seconds since `start`: less sensitive than wall time to other processes on the machine. */
const cpuSeconds = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

function quantile(sorted: readonly number[], q: number): number {
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[position];
}

/** The real corpora the generator imitates. */
async function realModel(): Promise<CorpusModel> {
  const texts: string[] = [];
  for (const id of ['scifact', 'squad-dev']) {
    const dataset = await openDataset({ id, dataDir });
    for await (const doc of dataset.docs()) texts.push(doc.title === '' ? doc.text : `${doc.title} ${doc.text}`);
  }
  return corpusModel(texts);
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

async function bm25Child(docs: number): Promise<Record<string, number>> {
  const model = await realModel();
  const builder = new Bm25IndexBuilder({ analyzer: getAnalyzer('english') });
  let generateMs = 0;
  let generateCpuS = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  // Documents are generated a thousand at a time, so that generation's wall and CPU time can be taken out.
  for (let first = 0; first < docs; first += 1000) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const batch = Array.from({ length: Math.min(1000, docs - first) }, (_, i) => generatedDocument(model, seed, first + i));
    generateCpuS += cpuSeconds(cpu0);
    generateMs += performance.now() - t0;
    for (const doc of batch) builder.add(doc);
    if (first > 0 && first % 100000 === 0) log(`  bm25: ${first} documents indexed`);
  }
  const index = new Bm25Index(builder.finish());
  const indexS = (performance.now() - start - generateMs) / 1000;
  const indexCpuS = cpuSeconds(cpuStart) - generateCpuS;
  log(`  bm25: index built in ${indexS.toFixed(1)} s (peak RSS ${peakRssMb()} MB)`);
  const work = mkdtempSync(join(tmpdir(), 'genir-bench-scale-'));
  let indexBytes: number;
  try {
    await index.save(join(work, 'index.bin'));
    indexBytes = statSync(join(work, 'index.bin')).size;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const queries = knownAnswerQueries(model, docs, seed, queryCount);
  // The pruning bounds (term frontiers), computed once per index: timed alone, then cached.
  const boundsStart = performance.now();
  for (const field of index.data.fields) termFrontiers(field);
  const boundsS = (performance.now() - boundsStart) / 1000;
  let found = 0;
  for (const query of queries) if (index.search(query.text, 10).some((hit) => hit.docId === query.answer)) found++;
  const latencies: number[] = [];
  const oneStart = performance.now();
  const run = new Map<string, unknown>();
  for (const query of queries) {
    const t0 = performance.now();
    run.set(query.id, index.search(query.text, topK));
    latencies.push(performance.now() - t0);
  }
  const oneS = (performance.now() - oneStart) / 1000;
  latencies.sort((a, b) => a - b);
  const pool = await index.startPool({}, THREADS);
  let poolS: number;
  try {
    const batch = queries.map((query) => ({ text: query.text }));
    await pool.search(batch.slice(0, 50), topK);
    const poolStart = performance.now();
    // Each query's entries are built as its batch comes back (overlapping the workers' search).
    const entries = new Array<RunEntry[]>(queries.length);
    await pool.searchEach(batch, topK, (query, hits) => (entries[query] = index.toEntries(hits)));
    poolS = (performance.now() - poolStart) / 1000;
  } finally {
    await pool.close();
  }
  const perK = await bm25AtEachK(index, queries);
  return {
    bm25_index_s: round(indexS, 2),
    bm25_index_cpu_s: round(indexCpuS, 2),
    bm25_generate_s: round(generateMs / 1000, 2),
    bm25_index_mb: mb(indexBytes),
    bm25_terms: index.vocabularySize,
    bm25_qps: Math.round(queries.length / oneS),
    bm25_qps_2_threads: Math.round(queries.length / poolS),
    bm25_p50_ms: round(quantile(latencies, 0.5), 3),
    bm25_p99_ms: round(quantile(latencies, 0.99), 3),
    bm25_recall_at_10: round(found / queries.length, 3),
    bm25_bounds_s: round(boundsS, 2),
    ...perK,
    rss_mb: peakRssMb(),
  };
}

/**
 * Queries/s at each k of --k-list, exhaustive and with automatic pruning, on one thread (run
 * entries materialised, as bm25_qps) and on the 2-thread pool; postings scored per query.
 */
async function bm25AtEachK(index: Bm25Index, queries: readonly { text: string }[]): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  // Untimed: the pruned hits must be the exhaustive hits, ids and float32 score bits, at every k.
  const exhaustive = index.searcher({}, { pruning: 'exhaustive' });
  const pruned = index.searcher({}, { pruning: 'auto' });
  for (const k of kList) {
    let identical = 0;
    for (const query of queries) {
      const a = exhaustive.search(query.text, k);
      const b = pruned.search(query.text, k);
      const bits = (scores: Float32Array): Uint32Array => new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
      if (
        a.docs.length === b.docs.length &&
        a.docs.every((doc, i) => doc === b.docs[i]) &&
        bits(a.scores).every((s, i) => s === bits(b.scores)[i])
      )
        identical++;
    }
    result[`bm25_pruned_identical_k${k}`] = round(identical / queries.length, 3);
  }
  const modes: [PruningMode, string][] = [
    ['exhaustive', 'bm25_exhaustive_'],
    ['auto', 'bm25_'],
  ];
  for (const [pruning, prefix] of modes) {
    const searcher = index.searcher({}, { pruning });
    for (const query of queries.slice(0, 50)) searcher.searchEntries(query.text, kList[0]);
    for (const k of kList) {
      const before = { ...searcher.stats };
      const start = performance.now();
      for (const query of queries) searcher.searchEntries(query.text, k);
      const seconds = (performance.now() - start) / 1000;
      result[`${prefix}qps_k${k}`] = Math.round(queries.length / seconds);
      result[`${prefix}postings_per_query_k${k}`] = Math.round((searcher.stats.postingsScored - before.postingsScored) / queries.length);
      if (pruning !== 'exhaustive') {
        result[`${prefix}lookups_per_query_k${k}`] = Math.round((searcher.stats.lookups - before.lookups) / queries.length);
        result[`${prefix}pruned_share_k${k}`] = round((searcher.stats.pruned - before.pruned) / queries.length, 3);
      }
    }
    const pool = await index.startPool({}, THREADS, { pruning });
    try {
      const batch = queries.map((query) => ({ text: query.text }));
      await pool.search(batch.slice(0, 50), kList[0]);
      for (const k of kList) {
        const entries = new Array<RunEntry[]>(queries.length);
        const start = performance.now();
        await pool.searchEach(batch, k, (query, hits) => (entries[query] = index.toEntries(hits)));
        result[`${prefix}qps_2_threads_k${k}`] = Math.round(queries.length / ((performance.now() - start) / 1000));
      }
    } finally {
      await pool.close();
    }
    const own = Object.entries(result).filter(
      ([key]) => key.startsWith(prefix) && (pruning === 'exhaustive' || !key.startsWith('bm25_exhaustive_')),
    );
    log(`  bm25 ${pruning}: ${JSON.stringify(Object.fromEntries(own))}`);
  }
  return result;
}

async function luceneChild(docs: number): Promise<Record<string, number>> {
  const setup = ensureLucene();
  if ('skip' in setup) {
    log(`bench:scale: Lucene skipped: ${setup.skip}`);
    return {};
  }
  const classPath = compileLuceneBench(setup.jars);
  const model = await realModel();
  const work = mkdtempSync(join(tmpdir(), 'genir-bench-scale-lucene-'));
  try {
    const docsPath = join(work, 'docs.tsv');
    const out = createWriteStream(docsPath);
    for (const doc of generateCorpus(model, docs, seed)) {
      if (!out.write(`${doc.id}\t${flat(doc.text)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const queriesPath = join(work, 'queries.tsv');
    writeFileSync(
      queriesPath,
      knownAnswerQueries(model, docs, seed, queryCount)
        .map((q) => `${q.id}\t${flat(q.text)}\n`)
        .join(''),
    );
    const { result } = runLuceneBench(classPath, { docsPath, queriesPath, work, topK, rounds: 1, moreK: kList });
    const perK: Record<string, number> = {};
    for (const k of kList) {
      perK[`lucene_qps_k${k}`] = Math.round(result[`qps_1_thread_k${k}`]);
      perK[`lucene_qps_2_threads_k${k}`] = Math.round(result[`qps_2_threads_k${k}`]);
    }
    return {
      lucene_index_s: round(result.index_s, 2),
      lucene_index_mb: mb(result.index_bytes),
      lucene_qps: Math.round(result.qps_1_thread),
      lucene_qps_2_threads: Math.round(result.qps_2_threads),
      lucene_p50_ms: round(result.p50_ms, 3),
      lucene_p99_ms: round(result.p99_ms, 3),
      lucene_rss_mb: round(result.peak_rss_mb),
      ...perK,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function docidsChild(docs: number, scheme: DocidScheme): Promise<Record<string, number>> {
  const model = await realModel();
  const textVocab = t5Config('small').vocabSize;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const stages: Record<string, number> = {};
  const table = await buildDocids(generateCorpus(model, docs, seed), {
    scheme,
    textVocabSize: textVocab,
    eosId: 1,
    seed,
    onStage: (stage, seconds) => {
      stages[`${scheme}_${stage}_s`] = round(seconds, 2);
      log(`  ${scheme}: ${stage} ${seconds.toFixed(1)} s (peak RSS ${peakRssMb()} MB)`);
    },
  });
  const buildS = (performance.now() - start) / 1000;
  const buildCpuS = cpuSeconds(cpuStart);
  const buildRss = peakRssMb();
  const config = t5Config('small', { docidVocabSize: table.layout.docidVocabSize, dropoutRate: 0 });
  const t5 = T5Model.create(config, 0, { threads: THREADS });
  const dir = mkdtempSync(join(tmpdir(), 'genir-bench-scale-model-'));
  let modelBytes: number;
  try {
    await t5.save(join(dir, 'model'));
    await saveDocids(table, join(dir, 'model', 'docids.bin'));
    modelBytes = folderBytes(join(dir, 'model'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const frozen = await T5InferenceModel.fromModel(t5, { threads: THREADS });
  await t5.release();
  const rng = new Rng(2);
  const sources = Array.from({ length: beamQueries + 3 }, () => Array.from({ length: 8 + rng.int(13) }, () => 3 + rng.int(textVocab - 3)));
  const times: number[] = [];
  const stats: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
  try {
    for (const [i, source] of sources.entries()) {
      const t0 = performance.now();
      await constrainedBeamSearch(frozen, table, [source], { beam: BEAM, k: BEAM, stats: i >= 3 ? stats : undefined });
      if (i >= 3) times.push(performance.now() - t0); // the first three warm up
    }
  } finally {
    await frozen.release();
  }
  times.sort((a, b) => a - b);
  return {
    [`${scheme}_build_s`]: round(buildS, 2),
    [`${scheme}_build_cpu_s`]: round(buildCpuS, 2),
    ...stages,
    [`${scheme}_build_rss_mb`]: buildRss,
    [`${scheme}_trie_nodes`]: table.trie.nodeCount,
    [`${scheme}_docid_tokens`]: table.layout.docidVocabSize,
    [`${scheme}_beam_p50_ms`]: round(quantile(times, 0.5), 2),
    // Counts that do not depend on the machine's load: decoder calls and hypotheses decoded per query.
    [`${scheme}_beam_steps`]: round(stats.decoderSteps / times.length, 2),
    [`${scheme}_beam_rows`]: round(stats.decodedRows / times.length, 2),
    [`${scheme}_model_dir_mb`]: mb(modelBytes),
  };
}

const CHILD_HEAP_MB = 16384;

/** Runs one measurement in a fresh process (so peak RSS is the measurement's own) and returns its JSON. */
function inChild(args: string[]): Record<string, number> {
  const script = fileURLToPath(import.meta.url);
  const output = execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      // A million documents' texts and their analysis outgrow V8's default old space (≈ 4 GB here):
      // the docid children ran out of heap at 1M. Peak RSS is measured, not capped.
      `--max-old-space-size=${CHILD_HEAP_MB}`,
      script,
      ...args,
      '--seed',
      String(seed),
      '--queries',
      String(queryCount),
      '--top-k',
      String(topK),
      '--beam-queries',
      String(beamQueries),
      '--k-list',
      kList.join(','),
      '--data-dir',
      dataDir,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    },
  );
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, number>;
}

function plot(file: string, title: string, yLabel: string, series: PlotSeries[]): void {
  const kept = series.filter((s) => s.points.length > 0);
  if (kept.length === 0) return;
  // Both axes in log10: a straight line of slope 1 is linear growth.
  const logSeries = kept.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log10(x), Math.log10(y)] as [number, number]),
  }));
  writeFileSync(
    join(plotsDir, file),
    linePlotSvg(logSeries, { title, xLabel: 'log10 documents', yLabel: `log10 ${yLabel}`, width: 640, height: 360 }),
  );
}

async function main(): Promise<void> {
  if (child !== '') {
    const docs = Number(option('--docs', '0'));
    const result =
      child === 'bm25'
        ? await bm25Child(docs)
        : child === 'lucene'
          ? await luceneChild(docs)
          : await docidsChild(docs, child as DocidScheme);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows: Record<string, number>[] = [];
  for (const docs of sizes) {
    const row: Record<string, number> = { docs };
    if (withBm25) {
      log(`${docs} documents: BM25`);
      Object.assign(row, inChild(['--child', 'bm25', '--docs', String(docs)]));
    }
    if (withLucene) {
      log(`${docs} documents: Lucene`);
      Object.assign(row, inChild(['--child', 'lucene', '--docs', String(docs)]));
    }
    if (withDocids && docs <= docidMax) {
      for (const scheme of schemes) {
        log(`${docs} documents: ${scheme} docids and beam search`);
        Object.assign(row, inChild(['--child', scheme, '--docs', String(docs)]));
      }
    }
    // The headline fields: the first scheme's beam latency.
    if (schemes.length > 0 && row[`${schemes[0]}_beam_p50_ms`] !== undefined) row.beam_p50_ms = row[`${schemes[0]}_beam_p50_ms`];
    rows.push(row);
    log(`  ${JSON.stringify(row)}`);
  }
  if (mergeFile !== '') {
    const previous = JSON.parse(readFileSync(mergeFile, 'utf8').trim().split('\n').pop() ?? '{}') as { sizes?: Record<string, number>[] };
    for (const row of previous.sizes ?? []) if (!rows.some((r) => r.docs === row.docs)) rows.push({ ...row, merged: 1 });
    rows.sort((a, b) => a.docs - b.docs);
    log(`bench:scale: ${rows.filter((r) => r.merged === 1).length} size(s) from ${mergeFile} (marked "merged": 1)`);
  }
  const header = [
    'docs',
    'bm25 index s',
    'index MB',
    'QPS',
    'QPS 2 thr',
    'p50 ms',
    'p99 ms',
    'R@10',
    'RSS MB',
    'lucene index s',
    'lucene QPS',
    ...schemes.flatMap((s) => [`${s} build s`, `${s} RSS MB`, `${s} trie nodes`, `${s} beam p50 ms`, `${s} model MB`]),
  ];
  const keys = [
    'docs',
    'bm25_index_s',
    'bm25_index_mb',
    'bm25_qps',
    'bm25_qps_2_threads',
    'bm25_p50_ms',
    'bm25_p99_ms',
    'bm25_recall_at_10',
    'rss_mb',
    'lucene_index_s',
    'lucene_qps',
    ...schemes.flatMap((s) => [`${s}_build_s`, `${s}_build_rss_mb`, `${s}_trie_nodes`, `${s}_beam_p50_ms`, `${s}_model_dir_mb`]),
  ];
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${keys.map((key) => (row[key] === undefined ? '–' : String(row[key]))).join(' | ')} |\n`);
  if (plotsDir !== '') {
    mkdirSync(plotsDir, { recursive: true });
    const points = (key: string): [number, number][] => rows.filter((r) => r[key] !== undefined).map((r) => [r.docs, r[key]]);
    plot('scale-index-time.svg', 'BM25 index time', 'seconds', [
      { name: 'genir', points: points('bm25_index_s') },
      { name: 'Lucene 8.8', points: points('lucene_index_s') },
      ...schemes.map((s) => ({ name: `${s} docids`, points: points(`${s}_build_s`) })),
    ]);
    plot('scale-qps.svg', 'BM25 queries per second (1 thread)', 'queries/s', [
      { name: 'genir', points: points('bm25_qps') },
      { name: 'genir, 2 threads', points: points('bm25_qps_2_threads') },
      { name: 'Lucene 8.8', points: points('lucene_qps') },
      { name: 'Lucene 8.8, 2 threads', points: points('lucene_qps_2_threads') },
    ]);
    plot('scale-memory.svg', 'Peak RSS and sizes', 'MB', [
      { name: 'BM25 peak RSS', points: points('rss_mb') },
      { name: 'BM25 index file', points: points('bm25_index_mb') },
      { name: 'Lucene index', points: points('lucene_index_mb') },
      ...schemes.map((s) => ({ name: `${s} docids peak RSS`, points: points(`${s}_build_rss_mb`) })),
      ...schemes.map((s) => ({ name: `${s} model dir`, points: points(`${s}_model_dir_mb`) })),
    ]);
    plot('scale-beam.svg', 'Beam search p50 (beam 10, small) and trie nodes', 'ms or nodes', [
      ...schemes.map((s) => ({ name: `${s} beam p50 ms`, points: points(`${s}_beam_p50_ms`) })),
      ...schemes.map((s) => ({ name: `${s} trie nodes`, points: points(`${s}_trie_nodes`) })),
    ]);
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version }, seed, queries: queryCount, top_k: topK, sizes: rows })}\n`,
    );
  }
}

await main();
