/**
 * Generation latency of genir's T5 on ONNX Runtime, configs `tiny` and `small`.
 *
 *   npm run bench:decode -- [--json] [--configs tiny,small] [--src-len 64] [--past 8]
 *                           [--hyps 10,100] [--runs 30] [--threads 2] [--no-torch]
 *
 * - encoder: one source of --src-len tokens → encoder states plus every decoder block's
 *   cross-attention keys/values (what beam search computes once per query);
 * - decoder step: one step for N hypotheses (beam search over one query: N = beam size,
 *   the encoder output shared by all) with --past cached positions, returning next-token
 *   log-probabilities and the grown cache.
 * Weights are baked into the inference graphs (initializers, pre-packed by ORT), as for
 * generation after training. Reported: median and p90 milliseconds over --runs calls after
 * warm-up. The peer is the same model in PyTorch (bench/torch_decode.py, eager mode, no_grad,
 * cached keys/values) unless --no-torch. With --json the last stdout line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isT5Preset, parameterCount, t5Config } from '../src/model/config.js';
import { T5Model } from '../src/model/t5.js';
import { selectRows, type DecoderCache } from '../src/model/generation.js';
import { Rng } from '../src/util/random.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const json = process.argv.includes('--json');
const configs = option('--configs', 'tiny,small').split(',');
const srcLen = Number(option('--src-len', '64'));
const past = Number(option('--past', '8'));
const hypsList = option('--hyps', '10,100').split(',').map(Number);
const runs = Number(option('--runs', '30'));
const threads = Number(option('--threads', '2'));
const withTorch = !process.argv.includes('--no-torch');
const PYTHON = '/usr/bin/python3';

interface Latency {
  median_ms: number;
  p90_ms: number;
}

function latency(times: number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    median_ms: sorted[Math.floor((sorted.length - 1) / 2)],
    p90_ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))],
  };
}

async function time(fn: () => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return latency(times);
}

type ConfigResult = Record<string, Latency | number>;

async function benchConfig(name: string): Promise<ConfigResult> {
  if (!isT5Preset(name)) throw new Error(`unknown config ${name}`);
  const config = t5Config(name, { dropoutRate: 0 });
  const model = T5Model.create(config, 0, { threads, bakeInferenceWeights: true });
  const rng = new Rng(1);
  const inputIds = BigInt64Array.from({ length: srcLen }, () => BigInt(2 + rng.int(config.vocabSize - 2)));
  const mask = new Float32Array(srcLen).fill(1);
  const result: ConfigResult = { params: parameterCount(config) };
  result.encoder = await time(() => model.encode(inputIds, mask, 1, srcLen));
  const encoded = await model.encode(inputIds, mask, 1, srcLen);
  // Grow a cache of `past` positions for one hypothesis, then copy it to every hypothesis.
  let cache: DecoderCache = model.emptyCache(1);
  for (let step = 0; step < past; step++) cache = (await model.decoderStep(encoded, cache, BigInt64Array.of(BigInt(2 + step)))).cache;
  for (const hyps of hypsList) {
    // Beam search over one query: every hypothesis shares the single encoder row (broadcast in
    // the graph); the self-attention cache is per hypothesis.
    const rows = new Array<number>(hyps).fill(0);
    const hypCache: DecoderCache = {
      length: cache.length,
      keys: cache.keys.map((t) => selectRows(t, rows)),
      values: cache.values.map((t) => selectRows(t, rows)),
    };
    const tokens = BigInt64Array.from({ length: hyps }, (_, i) => BigInt(2 + (i % 100)));
    result[`decoder_step_${hyps}`] = await time(() => model.decoderStep(encoded, hypCache, tokens));
  }
  await model.release();
  return result;
}

function torchConfig(name: string): ConfigResult | undefined {
  if (!withTorch) return undefined;
  const script = fileURLToPath(new URL('./torch_decode.py', import.meta.url));
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write('PyTorch not available (run npm run bench:train once to install it); skipping the peer\n');
    return undefined;
  }
  const out = spawnSync(
    PYTHON,
    [
      script,
      '--config',
      name,
      '--src-len',
      String(srcLen),
      '--past',
      String(past),
      '--hyps',
      hypsList.join(','),
      '--runs',
      String(runs),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`torch_decode.py failed:\n${out.stderr.slice(-3000)}`);
  const lines = out.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ConfigResult;
}

const report: Record<string, unknown> = { benchmark: 'decode', src_len: srcLen, past, threads, runs };
for (const name of configs) {
  const genir = await benchConfig(name);
  const torch = torchConfig(name);
  report[name] = { genir, torch: torch ?? null };
  const fmt = (value: Latency | number | undefined) =>
    typeof value === 'object' ? `${value.median_ms.toFixed(2)} ms (p90 ${value.p90_ms.toFixed(2)})` : '-';
  console.log(
    `T5 ${name} (${((genir.params as number) / 1e6).toFixed(2)}M params), ${threads} threads, source ${srcLen} tokens, ${past} cached positions`,
  );
  for (const key of ['encoder', ...hypsList.map((h) => `decoder_step_${h}`)]) {
    console.log(`  ${key.padEnd(18)} genir ${fmt(genir[key])}${torch ? `   torch ${fmt(torch[key])}` : ''}`);
  }
}
if (json) console.log(JSON.stringify(report));
