/**
 * One decoder step and one encoder call of `small` (random weights, 15 source tokens, a head of
 * 8,000 + 1,538 tokens), the standard-op inference graphs against the fused-kernel ones
 * (`fusedKernels`), interleaved: median wall time of `runs` calls at 1 row (empty cache) and at
 * 10 rows (3 cached positions), the largest log-probability difference, then ORT's profile of
 * 100 steps at 10 rows: kernel time per step by operator type.
 *
 *   node --import tsx bench/step-profile.ts [runs, default 200] [--spin]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exportModel, Session, type HostTensor } from '../src/engine/index.js';
import { t5Config } from '../src/model/config.js';
import { T5Model, relativePositionBuckets } from '../src/model/t5.js';
import { buildDecoderStepGraph, buildEncoderGraph, inferenceParams } from '../src/model/t5-graph.js';

const config = t5Config('small', { docidVocabSize: 1538, dropoutRate: 0 });
const weights = T5Model.create(config, 0).weights();
const src = 15;
const past = 3;
const runs = Number(process.argv[2] ?? '200');
const spin = process.argv.includes('--spin');
const profileDir = mkdtempSync(join(tmpdir(), 'genir-step-profile-'));
const sessions: Record<string, { enc: Session; step: Session }> = {};
const prof: Record<string, Session> = {};
for (const fused of [false, true]) {
  const options = { fuseForInference: true, fusedKernels: fused };
  const e = buildEncoderGraph(config, options);
  const s = buildDecoderStepGraph(config, options);
  const name = fused ? 'fused' : 'onnx';
  sessions[name] = {
    enc: await Session.create(exportModel(e, { params: inferenceParams(e, weights) }), { threads: 2, spinning: spin }),
    step: await Session.create(exportModel(s, { params: inferenceParams(s, weights) }), { threads: 2, spinning: spin }),
  };
  prof[name] = await Session.create(exportModel(s, { params: inferenceParams(s, weights) }), {
    threads: 2,
    spinning: spin,
    profilePrefix: join(profileDir, name),
  });
}
const ids = BigInt64Array.from({ length: src }, (_, i) => BigInt(3 + ((i * 37) % 7000)));
const mask = new Float32Array(src).fill(1);
const encFeeds = {
  input_ids: { data: ids, dims: [1, src] },
  attention_mask: { data: mask, dims: [1, src] },
  encoder_position_buckets: { data: relativePositionBuckets(src, src, true, 32, 128), dims: [src, src] },
};
const encoded = await sessions.onnx.enc.run(encFeeds);
function stepFeeds(rows: number, pastLen: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {
    decoder_input_ids: { data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(8000 + i)), dims: [rows, 1] },
    attention_mask: encFeeds.attention_mask,
    decoder_position_buckets: { data: relativePositionBuckets(1, pastLen + 1, false, 32, 128, pastLen), dims: [1, pastLen + 1] },
  };
  for (let i = 0; i < 4; i++) {
    const p = { data: Float32Array.from({ length: rows * 4 * pastLen * 64 }, (_, j) => Math.sin(j + i)), dims: [rows, 4, pastLen, 64] };
    feeds[`past_k.${i}`] = p;
    feeds[`past_v.${i}`] = p;
    feeds[`cross_k.${i}`] = encoded[`cross_k.${i}`];
    feeds[`cross_v.${i}`] = encoded[`cross_v.${i}`];
  }
  return feeds;
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const rows of [1, 10]) {
  const feeds = stepFeeds(rows, rows === 1 ? 0 : past);
  const times: Record<string, number[]> = { onnx: [], fused: [] };
  const enc: Record<string, number[]> = { onnx: [], fused: [] };
  for (let r = 0; r < runs; r++)
    for (const name of ['onnx', 'fused']) {
      let t = performance.now();
      await sessions[name].step.run(feeds);
      times[name].push(performance.now() - t);
      if (rows === 1) {
        t = performance.now();
        await sessions[name].enc.run(encFeeds);
        enc[name].push(performance.now() - t);
      }
    }
  const a = await sessions.onnx.step.run(feeds);
  const b = await sessions.fused.step.run(feeds);
  let diff = 0;
  for (let i = 0; i < a.log_probs.data.length; i++)
    diff = Math.max(diff, Math.abs((a.log_probs.data as Float32Array)[i] - (b.log_probs.data as Float32Array)[i]));
  console.log(
    `rows ${rows}: step median onnx ${median(times.onnx).toFixed(3)} ms, fused ${median(times.fused).toFixed(3)} ms; log_probs max diff ${diff.toExponential(2)}${rows === 1 ? `; encoder (${src} tokens) onnx ${median(enc.onnx).toFixed(3)} ms, fused ${median(enc.fused).toFixed(3)} ms` : ''}`,
  );
}
// Profile at 10 rows.
const feeds = stepFeeds(10, past);
for (const name of ['onnx', 'fused']) {
  for (let r = 0; r < 100; r++) await prof[name].run(feeds);
  await prof[name].release();
}
for (const name of ['onnx', 'fused']) {
  const file = readdirSync(profileDir).find((f) => f.startsWith(name))!;
  const events = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  const byOp = new Map<string, { us: number; n: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { us: 0, n: 0 };
    entry.us += e.dur;
    entry.n += 1;
    byOp.set(op, entry);
    total += e.dur;
  }
  const perRun = (us: number) => (us / 100 / 1000).toFixed(3);
  console.log(
    `${name} profile (10 rows, past ${past}): kernel ${perRun(total)} ms per step; ` +
      [...byOp]
        .sort((x, y) => y[1].us - x[1].us)
        .map(([op, v]) => `${op} ${v.n / 100}× ${perRun(v.us)}`)
        .join(', '),
  );
}
rmSync(profileDir, { recursive: true, force: true });
for (const { enc, step } of Object.values(sessions)) await Promise.all([enc.release(), step.release()]);
