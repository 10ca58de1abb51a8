/**
 * Training throughput: genir's T5 `small` against an equivalent PyTorch model, side by side.
 *
 *   npm run bench:train -- [--json] [--config small] [--batch 32] [--src-len 64] [--tgt-len 8]
 *                          [--steps 8] [--warmup 2] [--rounds 2] [--threads 2] [--dropout 0.1]
 *                          [--optimizer graph|ts|none] [--no-torch] [--profile]
 *
 * One training step = forward, loss over the target tokens, backward, global-norm gradient
 * clipping (1.0) and an AdamW update, on a fixed random batch (vocabulary 8,000, token ids
 * drawn uniformly). The PyTorch reference is bench/torch_train.py: the same architecture
 * (pre-norm RMSNorm, no biases, relative position bias, gated-GELU, dropout, untied head),
 * the same shapes and parameter count, run on Debian's python3-torch with OpenBLAS, which
 * this script installs with apt-get when missing (as root) and checks is the BLAS loaded.
 *
 * genir's step runs clipping and AdamW inside the ORT graph, as the training loop does by
 * default; --optimizer ts times lossAndGradients plus the TypeScript AdamW loop instead, and
 * --optimizer none lossAndGradients alone (forward, loss and backward, no clipping or update: a
 * ceiling on what a faster optimizer could give `fraction_of_gemm`; not a training step).
 *
 * Rounds alternate PyTorch and genir (each with its own warm-up steps) so background load
 * hits both alike; the reported step time is the median over all timed steps. GFLOP/s
 * counts the matrix products only (3× the forward pass), the same count for both.
 *
 * Machines differ, so each round also times ORT's own MatMul (1024 × 1024, same threads, in
 * the same process) right after genir's steps: `gemm_gflops` is the median over rounds and
 * `fraction_of_gemm` the step's GFLOP/s divided by it (--gemm-size changes the 1024).
 * --profile: after the timed rounds, a fresh model (same seed) runs --warmup steps and then --steps
 * steps with ORT's profiler on; the kernel time per operator type per step, and each matrix
 * product type's GFLOP/s, are printed and put in the JSON (`profile`). The profiler slows the
 * steps, so the timed figures above come from the unprofiled rounds only.
 * With --json the last line of stdout is one JSON object with every number.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { AdamW } from '../src/engine/optim/adamw.js';
import { clipFactor, globalGradNorm } from '../src/engine/optim/clip.js';
import { isT5Preset, parameterCount, t5Config, totalVocabSize, type T5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { makeSeq2SeqBatch } from '../src/train/loop/batching.js';
import { Rng } from '../src/util/random.js';
import { measureGemmGflops } from './gemm.js';
import { formatProfile, profileFile, summariseProfile, type ProfileSummary } from './ort-profile.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const preset = option('--config', 'small');
if (!isT5Preset(preset)) throw new Error(`--config must be tiny, small or base, got ${preset}`);
const batchSize = Number(option('--batch', '32'));
const srcLen = Number(option('--src-len', '64'));
const tgtLen = Number(option('--tgt-len', '8'));
const steps = Number(option('--steps', '8'));
const warmup = Number(option('--warmup', '2'));
const rounds = Number(option('--rounds', '2'));
const threads = Number(option('--threads', '2'));
const dropout = Number(option('--dropout', '0.1'));
const optimizerKind = option('--optimizer', 'graph');
if (!['graph', 'ts', 'none'].includes(optimizerKind)) throw new Error(`--optimizer must be graph, ts or none, got ${optimizerKind}`);
const withTorch = !process.argv.includes('--no-torch');
const withProfile = process.argv.includes('--profile');
const gemmSize = Number(option('--gemm-size', '1024'));
const PYTHON = '/usr/bin/python3';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Matrix-product FLOPs of one forward pass (2 per multiply-add). */
function forwardFlops(config: T5Config, batch: number, s: number, t: number): number {
  const d = config.dModel;
  const inner = config.numHeads * config.dKv;
  const ns = batch * s;
  const nt = batch * t;
  const attention = (q: number, k: number) => 2 * 2 * batch * config.numHeads * q * k * config.dKv;
  const ffn = (n: number) => 2 * n * 3 * d * config.dFf;
  const encoderLayer = 2 * ns * 4 * d * inner + attention(s, s) + ffn(ns);
  const decoderLayer =
    2 * nt * 4 * d * inner + attention(t, t) + 2 * nt * 2 * d * inner + 2 * ns * 2 * d * inner + attention(t, s) + ffn(nt);
  return config.numLayers * encoderLayer + config.numDecoderLayers * decoderLayer + 2 * nt * d * totalVocabSize(config);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Installs python3-torch and libopenblas0-pthread with apt-get when either is missing. */
function ensureTorch(): void {
  const torchPresent = run(PYTHON, ['-c', 'import torch']).status === 0;
  const openblasPresent = run('dpkg-query', ['-W', '-f=${Status}', 'libopenblas0-pthread']).stdout.includes('install ok installed');
  if (torchPresent && openblasPresent) return;
  const missing = [!torchPresent && 'python3-torch', !openblasPresent && 'libopenblas0-pthread'].filter(Boolean) as string[];
  if (process.getuid?.() !== 0)
    throw new Error(`missing ${missing.join(', ')}; install with: sudo apt-get install -y ${missing.join(' ')}`);
  log(`installing ${missing.join(', ')} with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = run('apt-get', args, env);
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  }
}

interface TorchResult {
  torch_version: string;
  blas: string[];
  openblas: boolean;
  median_step_s: number;
  step_times_s?: number[];
  params: number;
  final_loss: number;
  peak_rss_mb: number;
}

function torchRound(): TorchResult {
  const script = fileURLToPath(new URL('./torch_train.py', import.meta.url));
  const args = [
    script,
    '--config',
    preset,
    '--batch',
    String(batchSize),
    '--src-len',
    String(srcLen),
    '--tgt-len',
    String(tgtLen),
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--threads',
    String(threads),
    '--dropout',
    String(dropout),
  ];
  const result = run(PYTHON, args);
  if (result.status !== 0) throw new Error(`torch_train.py failed (${result.status}):\n${result.stderr.slice(-3000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as TorchResult;
}

async function main(): Promise<void> {
  const config = t5Config(preset as 'small', { dropoutRate: dropout });
  const params = parameterCount(config);
  const flops = 3 * forwardFlops(config, batchSize, srcLen, tgtLen);
  const rng = new Rng(0);
  const token = () => 2 + rng.int(config.vocabSize - 2);
  // Lengths before the eos that the batch appends, so the model sees srcLen and tgtLen positions.
  const examples = Array.from({ length: batchSize }, () => ({
    source: Array.from({ length: srcLen - 1 }, token),
    target: Array.from({ length: tgtLen - 1 }, token),
  }));
  const batch = makeSeq2SeqBatch(
    examples,
    examples.map((_, i) => i),
    { padId: config.padTokenId, eosId: config.eosTokenId, decoderStartId: config.decoderStartTokenId },
  );
  const model = T5Model.create(config, 0, { threads });
  const optimizer = new AdamW(model.parameters, { weightDecay: 0.01 });
  let seed = 0;
  let lastLoss = Number.NaN;
  const genirStep = async (): Promise<void> => {
    if (optimizerKind === 'graph') {
      lastLoss = (await model.adamWStep(batch, seed++, optimizer, 1e-4, 1)).loss;
      return;
    }
    const { loss, gradients } = await model.lossAndGradients(batch, seed++);
    lastLoss = loss;
    if (optimizerKind === 'none') return;
    const norm = globalGradNorm(gradients);
    optimizer.update(gradients, 1e-4, clipFactor(norm, 1));
  };

  if (withTorch) ensureTorch();
  const genirTimes: number[] = [];
  const torchTimes: number[] = [];
  const gemmRounds: number[] = [];
  let torch: TorchResult | undefined;
  for (let round = 0; round < rounds; round++) {
    if (withTorch) {
      torch = torchRound();
      if (!torch.openblas) throw new Error(`PyTorch is not using OpenBLAS (loaded: ${torch.blas.join(', ')})`);
      torchTimes.push(...(torch.step_times_s ?? [torch.median_step_s]));
      log(`round ${round + 1}: torch ${torch.median_step_s.toFixed(3)} s/step`);
    }
    for (let i = 0; i < warmup; i++) await genirStep();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      await genirStep();
      times.push((performance.now() - start) / 1000);
    }
    genirTimes.push(...times);
    log(`round ${round + 1}: genir ${median(times).toFixed(3)} s/step (loss ${lastLoss.toFixed(4)})`);
    gemmRounds.push(await measureGemmGflops(threads, gemmSize));
    log(`round ${round + 1}: ORT MatMul ${gemmSize}² ${gemmRounds[gemmRounds.length - 1].toFixed(1)} GFLOP/s`);
  }
  await model.release();

  let profile: ProfileSummary | undefined;
  if (withProfile) {
    const dir = mkdtempSync(join(tmpdir(), 'genir-train-profile-'));
    try {
      const prefix = join(dir, 'train');
      const profiled = T5Model.create(config, 0, { threads, profilePrefix: prefix });
      const profiledOptimizer = new AdamW(profiled.parameters, { weightDecay: 0.01 });
      for (let i = 0; i < warmup + steps; i++) await profiled.adamWStep(batch, i, profiledOptimizer, 1e-4, 1);
      await profiled.endProfiling();
      await profiled.release();
      const file = profileFile(prefix);
      // One session run per step: the optimizer is in the training graph (adamWStep).
      profile = summariseProfile(file, steps, warmup);
      for (const line of formatProfile(profile, 'step')) log(line);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const genirStepS = median(genirTimes);
  const torchStepS = torchTimes.length ? median(torchTimes) : Number.NaN;
  const result = {
    benchmark: 'train',
    config: preset,
    params,
    batch: batchSize,
    src_len: srcLen,
    tgt_len: tgtLen,
    dropout,
    threads,
    optimizer: optimizerKind,
    steps_timed: genirTimes.length,
    genir_step_s: genirStepS,
    torch_step_s: torchStepS,
    genir_examples_per_s: batchSize / genirStepS,
    torch_examples_per_s: batchSize / torchStepS,
    ratio: torchStepS / genirStepS,
    genir_gflops: flops / genirStepS / 1e9,
    torch_gflops: flops / torchStepS / 1e9,
    gflop_per_step: flops / 1e9,
    gemm_size: gemmSize,
    gemm_gflops: median(gemmRounds),
    fraction_of_gemm: flops / genirStepS / 1e9 / median(gemmRounds),
    torch_fraction_of_gemm: flops / torchStepS / 1e9 / median(gemmRounds),
    genir_peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    torch_peak_rss_mb: torch?.peak_rss_mb ?? null,
    torch_params: torch?.params ?? null,
    torch_version: torch?.torch_version ?? null,
    torch_blas: torch?.blas ?? null,
    ...(profile ? { profile } : {}),
  };
  if (torch && torch.params !== params) log(`warning: PyTorch model has ${torch.params} parameters, genir ${params}`);
  console.log(
    `T5 ${preset} (${(params / 1e6).toFixed(2)}M params), batch ${batchSize}, ${srcLen} source + ${tgtLen} target tokens, ${threads} threads, dropout ${dropout}`,
  );
  console.log(
    `  genir  ${genirStepS.toFixed(3)} s/step  ${result.genir_examples_per_s.toFixed(1)} ex/s  ${result.genir_gflops.toFixed(1)} GFLOP/s  peak RSS ${result.genir_peak_rss_mb.toFixed(0)} MB  (optimizer: ${optimizerKind})`,
  );
  console.log(
    `  ORT MatMul ${gemmSize}² ${result.gemm_gflops.toFixed(1)} GFLOP/s (same threads, same run): genir's step at ${(100 * result.fraction_of_gemm).toFixed(1)} % of it`,
  );
  if (withTorch) {
    console.log(
      `  torch  ${torchStepS.toFixed(3)} s/step  ${result.torch_examples_per_s.toFixed(1)} ex/s  ${result.torch_gflops.toFixed(1)} GFLOP/s  peak RSS ${(torch?.peak_rss_mb ?? 0).toFixed(0)} MB  (torch ${torch?.torch_version}, ${torch?.blas.join(' ')})`,
    );
    console.log(`  ratio  ${result.ratio.toFixed(2)}x PyTorch examples/s`);
  }
  if (json) console.log(JSON.stringify(result));
}

await main();
