/**
 * Constrained beam search latency: genir against a PyTorch eager reference of the same search
 * over the same weights, side by side.
 *
 *   npm run bench:search -- [--json] [--config small] [--beam 10] [--k 10] [--queries 200]
 *                           [--warmup 10] [--rounds 2] [--threads 2] [--docids squad-pq|synthetic]
 *                           [--docs 2067] [--batch 16] [--spinning within-run|always|never (bare: always)] [--no-torch]
 *
 * Model: the `small` preset, randomly initialised (seed 0; latency does not depend on training),
 * its head widened by the docid tokens. Docids: PQ (src/docids defaults: M = 6, K = 256) over
 * squad-dev's 2,067 paragraphs when GENIR_DATA_DIR holds squad-dev, else PQ over 2,067 random
 * Gaussian vectors (`synthetic`; `--docs` sets their number): a trie of the same size and shape. Queries: token ids drawn
 * uniformly from the text vocabulary, 8–20 tokens long (SQuAD questions are ~14 subword tokens).
 *
 * Latency = one query at a time, from token ids to the ranked top-k (encoder, every decoder
 * step, trie bookkeeping), p50/p99 over all timed queries of all rounds. genir decodes with
 * T5InferenceModel (weights baked into the ORT graphs). The PyTorch reference is
 * bench/torch_search.py (Debian's python3-torch, OpenBLAS), which loads genir's safetensors; it
 * must reproduce genir's teacher-forced scores of a few docids and return the same documents.
 * Rounds alternate genir and PyTorch so background load hits both alike. `--spinning` sets how
 * the decoder step's idle ORT threads wait (InferenceOptions.spinning; default the library's,
 * `within-run`: busy-wait while a step runs, sleep between steps); PyTorch's OpenMP threads get
 * OMP_WAIT_POLICY=ACTIVE with `always`, PASSIVE with `never`, and OpenMP's default (spin a
 * while, then sleep) with `within-run`.
 * With --json the last stdout line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openDataset } from '../src/data/registry.js';
import type { Document } from '../src/data/types.js';
import { buildDocids } from '../src/docids/build.js';
import type { DocidTable } from '../src/docids/table.js';
import { isT5Preset, parameterCount, t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { constrainedBeamSearch, type BeamSearchStats, type RankedDocid } from '../src/search/beam.js';
import type { Spinning } from '../src/engine/index.js';
import { T5InferenceModel } from '../src/search/decoder.js';
import { makeSeq2SeqBatch } from '../src/train/loop/batching.js';
import { Rng } from '../src/util/random.js';
import { percentile } from './stats.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const preset = option('--config', 'small');
if (!isT5Preset(preset)) throw new Error(`--config must be tiny, small or base, got ${preset}`);
const beam = Number(option('--beam', '10'));
const k = Number(option('--k', String(beam)));
const queryCount = Number(option('--queries', '200'));
const warmup = Number(option('--warmup', '10'));
const rounds = Number(option('--rounds', '2'));
const threads = Number(option('--threads', '2'));
const batchSize = Number(option('--batch', '16'));
const withTorch = !process.argv.includes('--no-torch');
const SPINNING: Record<string, Spinning> = { 'within-run': 'within-run', always: true, never: false };
// A bare `--spinning` (the flag's form before it took a value, in earlier sessions' commands) means `always`.
const spinningAt = process.argv.indexOf('--spinning');
const spinningValue = process.argv[spinningAt + 1];
const spinningName =
  spinningAt < 0 ? 'within-run' : spinningValue === undefined || spinningValue.startsWith('--') ? 'always' : spinningValue;
const spinning = SPINNING[spinningName];
if (spinning === undefined) throw new Error(`--spinning: expected within-run, always or never, got ${spinningName}`);
const dataDir = process.env.GENIR_DATA_DIR;
const docidSource = option('--docids', dataDir ? 'squad-pq' : 'synthetic');
const PYTHON = '/usr/bin/python3';
/** Synthetic docids only: how many documents (2,067 by default, squad-dev's count; e.g. 100000 for issue 15's scale point). */
const DOCS = Number(option('--docs', '2067'));
if (docidSource !== 'synthetic' && process.argv.includes('--docs')) throw new Error('--docs is for --docids synthetic');

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function docids(textVocabSize: number): Promise<DocidTable> {
  const common = { scheme: 'pq' as const, textVocabSize, eosId: 1, seed: 0 };
  if (docidSource === 'squad-pq') {
    const dataset = await openDataset({ id: 'squad-dev', dataDir });
    return buildDocids(dataset.docs(), common);
  }
  if (docidSource !== 'synthetic') throw new Error(`--docids must be squad-pq or synthetic, got ${docidSource}`);
  const rng = new Rng(1);
  const dim = 64;
  const docs: Document[] = Array.from({ length: DOCS }, (_, i) => ({ id: `d${i}`, title: '', text: '' }));
  const vectors = new Float32Array(DOCS * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = rng.normal();
  return buildDocids(docs, { ...common, embeddings: { kind: 'vectors', ids: docs.map((d) => d.id), dim, vectors } });
}

interface TorchResult {
  torch_version: string;
  blas: string[];
  threads: number;
  times_ms: number[];
  /** CPU time (all threads) of the timed queries. */
  cpu_ms: number;
  results: [number, number][][];
  check_scores: number[];
  peak_rss_mb: number;
}

function torchRound(dir: string): TorchResult {
  const script = fileURLToPath(new URL('./torch_search.py', import.meta.url));
  const out = join(dir, 'torch-result.json');
  const args = [
    script,
    '--model',
    join(dir, 'model'),
    '--docids',
    join(dir, 'docids.json'),
    '--queries',
    join(dir, 'queries.json'),
    '--beam',
    String(beam),
    '--k',
    String(k),
    '--threads',
    String(threads),
    '--warmup',
    String(warmup),
    '--out',
    out,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (spinning === 'within-run') delete env.OMP_WAIT_POLICY;
  else env.OMP_WAIT_POLICY = spinning ? 'ACTIVE' : 'PASSIVE';
  const result = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env });
  if (result.status !== 0) throw new Error(`torch_search.py failed (${result.status}):\n${(result.stderr ?? '').slice(-3000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as TorchResult;
}

async function main(): Promise<void> {
  const textVocab = t5Config(preset as 'small').vocabSize;
  const buildStart = performance.now();
  const table = await docids(textVocab);
  log(
    `docids: ${docidSource} PQ, ${table.size} documents, ${table.trie.nodeCount} trie nodes, params ${JSON.stringify(table.params)} (${((performance.now() - buildStart) / 1000).toFixed(1)} s)`,
  );
  const config = t5Config(preset as 'small', { docidVocabSize: table.layout.docidVocabSize, dropoutRate: 0 });
  const model = T5Model.create(config, 0, { threads });
  const rng = new Rng(2);
  const queries = Array.from({ length: queryCount }, () => Array.from({ length: 8 + rng.int(13) }, () => 3 + rng.int(textVocab - 3)));

  const dir = mkdtempSync(join(tmpdir(), 'genir-bench-search-'));
  try {
    await model.save(join(dir, 'model'));
    const checkDocs = [0, 1, 2, Math.floor(table.size / 2), table.size - 1];
    writeFileSync(
      join(dir, 'docids.json'),
      JSON.stringify({ offsets: Array.from(table.offsets), tokens: Array.from(table.tokens), eos: table.layout.eosId }),
    );
    writeFileSync(join(dir, 'queries.json'), JSON.stringify({ queries, check: { query: queries[0], docs: checkDocs } }));
    const examples = checkDocs.map((d) => ({ source: queries[0], target: Array.from(table.sequence(d).subarray(0, -1)) }));
    const genirCheck = Array.from(
      await model.score(
        makeSeq2SeqBatch(
          examples,
          examples.map((_, i) => i),
          { padId: 0, eosId: 1, decoderStartId: 0 },
        ),
      ),
    );

    const frozen = await T5InferenceModel.fromModel(model, { threads, spinning });
    await model.release();
    const genirTimes: number[] = [];
    const torchTimes: number[] = [];
    // CPU time of the timed loops (all threads): less sensitive than wall time to other load.
    let genirCpuMs = 0;
    let torchCpuMs = 0;
    let genirResults: RankedDocid[][] = [];
    let torch: TorchResult | undefined;
    const stats: BeamSearchStats = { decoderSteps: 0, decodedRows: 0 };
    for (let round = 0; round < rounds; round++) {
      if (withTorch) {
        torch = torchRound(dir);
        torchTimes.push(...torch.times_ms);
        torchCpuMs += torch.cpu_ms;
        log(`round ${round + 1}: torch p50 ${percentile(torch.times_ms, 50).toFixed(2)} ms`);
      }
      for (const source of queries.slice(0, warmup)) await constrainedBeamSearch(frozen, table, [source], { beam, k });
      const times: number[] = [];
      genirResults = [];
      const cpuStart = process.cpuUsage();
      for (const source of queries) {
        const start = performance.now();
        const [found] = await constrainedBeamSearch(frozen, table, [source], { beam, k, stats: round === 0 ? stats : undefined });
        times.push(performance.now() - start);
        genirResults.push(found);
      }
      const cpu = process.cpuUsage(cpuStart);
      genirCpuMs += (cpu.user + cpu.system) / 1000;
      genirTimes.push(...times);
      log(`round ${round + 1}: genir p50 ${percentile(times, 50).toFixed(2)} ms`);
    }
    // Throughput with queries batched (rows of several queries share each decoder call).
    const batchStart = performance.now();
    for (let i = 0; i < queries.length; i += batchSize)
      await constrainedBeamSearch(frozen, table, queries.slice(i, i + batchSize), { beam, k });
    const batchedMsPerQuery = (performance.now() - batchStart) / queries.length;
    await frozen.release();

    let sameRanking = 0;
    let sameDocSet = 0;
    let maxScoreDiff = 0;
    if (torch) {
      torch.results.forEach((theirs, q) => {
        const ours = genirResults[q];
        if (ours.map((h) => h.doc).join() === theirs.map(([doc]) => doc).join()) sameRanking++;
        const ourDocs = new Map(ours.map((h) => [h.doc, h.logProb]));
        if (theirs.length === ours.length && theirs.every(([doc]) => ourDocs.has(doc))) sameDocSet++;
        for (const [doc, score] of theirs) if (ourDocs.has(doc)) maxScoreDiff = Math.max(maxScoreDiff, Math.abs(score - ourDocs.get(doc)!));
      });
    }
    const checkDiff = torch ? Math.max(...torch.check_scores.map((s, i) => Math.abs(s - genirCheck[i]))) : Number.NaN;
    const result = {
      benchmark: 'search',
      config: preset,
      params: parameterCount(config),
      docids: docidSource,
      docs: table.size,
      docid_length: Math.max(...Array.from({ length: table.size }, (_, d) => table.sequence(d).length)),
      beam,
      k,
      threads,
      spinning,
      queries: queries.length,
      rounds,
      decoder_steps_per_query: stats.decoderSteps / queries.length,
      rows_per_step: stats.decodedRows / stats.decoderSteps,
      genir_p50_ms: percentile(genirTimes, 50),
      genir_p99_ms: percentile(genirTimes, 99),
      genir_mean_ms: genirTimes.reduce((a, b) => a + b, 0) / genirTimes.length,
      genir_cpu_ms_per_query: genirCpuMs / genirTimes.length,
      genir_batched_ms_per_query: batchedMsPerQuery,
      batch: batchSize,
      torch_p50_ms: torch ? percentile(torchTimes, 50) : null,
      torch_p99_ms: torch ? percentile(torchTimes, 99) : null,
      torch_mean_ms: torch ? torchTimes.reduce((a, b) => a + b, 0) / torchTimes.length : null,
      torch_cpu_ms_per_query: torch ? torchCpuMs / torchTimes.length : null,
      torch_version: torch?.torch_version ?? null,
      torch_blas: torch?.blas ?? null,
      teacher_forced_max_abs_diff: torch ? checkDiff : null,
      same_ranking_queries: torch ? sameRanking : null,
      same_doc_set_queries: torch ? sameDocSet : null,
      max_score_abs_diff: torch ? maxScoreDiff : null,
      genir_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      torch_peak_rss_mb: torch?.peak_rss_mb ?? null,
    };
    console.log(
      `constrained beam search, T5 ${preset} (${(result.params / 1e6).toFixed(2)}M params), ${table.size} docs (${docidSource} PQ, docids ≤ ${result.docid_length} tokens), beam ${beam}, k ${k}, ${threads} threads${spinning ? ' (spinning)' : ''}`,
    );
    console.log(
      `  genir  p50 ${result.genir_p50_ms.toFixed(2)} ms  p99 ${result.genir_p99_ms.toFixed(2)} ms  mean ${result.genir_mean_ms.toFixed(2)} ms (CPU ${result.genir_cpu_ms_per_query.toFixed(2)} ms) per query; batched ×${batchSize}: ${batchedMsPerQuery.toFixed(2)} ms per query`,
    );
    if (torch) {
      console.log(
        `  torch  p50 ${result.torch_p50_ms!.toFixed(2)} ms  p99 ${result.torch_p99_ms!.toFixed(2)} ms  mean ${result.torch_mean_ms!.toFixed(2)} ms (CPU ${result.torch_cpu_ms_per_query!.toFixed(2)} ms) per query  (torch ${torch.torch_version}, ${torch.blas.join(' ')})`,
      );
      console.log(
        `  same model: teacher-forced scores of ${checkDocs.length} docids differ by ≤ ${checkDiff.toExponential(2)}; same top-${k} ranking on ${sameRanking}/${queries.length} queries, same documents on ${sameDocSet}/${queries.length}, scores within ${maxScoreDiff.toExponential(2)}`,
      );
    }
    if (json) console.log(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
