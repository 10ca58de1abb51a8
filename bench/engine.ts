/**
 * Engine micro-benchmarks through genir's own runtime (graph → ONNX → onnxruntime-node):
 *   node --import tsx bench/engine.ts [--threads N] [--json] [--only name,name]
 * MatMul GFLOP/s (square and attention-backward shapes), the cost of feeding ~12M params as
 * inputs per step, returning ~12M floats of gradients, the embedding-gradient scatter variants,
 * the in-graph dropout mask, and pre-packed (initializer) weights against weights fed as inputs.
 * Numbers depend on what else the machine runs: re-run in a quiet period before quoting them.
 */
import { availableParallelism } from 'node:os';
import {
  Graph,
  Session,
  exportModel,
  gather,
  gelu,
  matmul,
  mul,
  reshape,
  transposeLast2,
  gemm,
  dropout,
  zerosLike,
  type Tensor,
  type HostTensor,
} from '../src/engine/index.js';

interface Result {
  name: string;
  ms: number;
  gflops?: number;
  note?: string;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const threads = Number(flag('--threads') ?? availableParallelism());
const only = flag('--only')?.split(',');
const json = args.includes('--json');
const results: Result[] = [];

function randomArray(size: number, seed = 1): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Median wall time of `run` over `repeats` runs after `warmup` runs. */
async function time(run: () => Promise<unknown>, repeats = 10, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function bench(
  name: string,
  build: (g: Graph) => Tensor | Tensor[],
  feeds: Record<string, HostTensor>,
  flops?: number,
  note?: string,
): Promise<void> {
  if (only && !only.some((o) => name.startsWith(o))) return;
  const g = new Graph(name);
  const outs = build(g);
  (Array.isArray(outs) ? outs : [outs]).forEach((t, i) => g.output(`y${i}`, t));
  const session = await Session.create(exportModel(g), { threads });
  const ms = await time(() => session.run(feeds));
  await session.release();
  const result: Result = { name, ms: Number(ms.toFixed(3)) };
  if (flops) result.gflops = Number((flops / (ms * 1e6)).toFixed(1));
  if (note) result.note = note;
  results.push(result);
  if (!json)
    console.log(
      `${name.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms${result.gflops ? `  ${String(result.gflops).padStart(6)} GFLOP/s` : ''}${note ? `  (${note})` : ''}`,
    );
}

const tensor = (dims: number[], seed = 1): HostTensor => ({
  data: randomArray(
    dims.reduce((a, b) => a * b, 1),
    seed,
  ),
  dims,
});

// Square MatMul.
for (const n of [512, 1024]) {
  await bench(
    `matmul ${n}x${n}`,
    (g) => matmul(g.input('a', 'float32', [n, n]), g.input('b', 'float32', [n, n])),
    { a: tensor([n, n]), b: tensor([n, n], 2) },
    2 * n ** 3,
  );
}

// Attention backward shapes of the `small` config: batch 32 × 4 heads, seq 64, head dim 64.
{
  const [bh, s, d] = [128, 64, 64];
  const feeds = { p: tensor([bh, s, s]), dO: tensor([bh, s, d], 2), v: tensor([bh, s, d], 3) };
  await bench(
    'attn dScores = dO·Vᵀ [128,64,64]',
    (g) => matmul(g.input('dO', 'float32', [bh, s, d]), transposeLast2(g.input('v', 'float32', [bh, s, d]))),
    feeds,
    2 * bh * s * s * d,
  );
  await bench(
    'attn dV = Pᵀ·dO [128,64,64]',
    (g) => matmul(transposeLast2(g.input('p', 'float32', [bh, s, s])), g.input('dO', 'float32', [bh, s, d])),
    feeds,
    2 * bh * s * s * d,
  );
  await bench(
    'attn 4-D [32,4,64,64]·[32,4,64,64]ᵀ',
    (g) => {
      const a = reshape(g.input('dO', 'float32', [bh, s, d]), [32, 4, s, d]);
      const b = reshape(g.input('v', 'float32', [bh, s, d]), [32, 4, s, d]);
      return matmul(a, transposeLast2(b));
    },
    feeds,
    2 * bh * s * s * d,
  );
}

// Weight gradient of a 256→1024 projection over 32×64 tokens: one Gemm with transA.
{
  const [rows, k, n] = [2048, 256, 1024];
  const feeds = { x: tensor([rows, k]), dy: tensor([rows, n], 2) };
  await bench(
    'dW = Xᵀ·dY Gemm(transA) [2048,256]x[2048,1024]',
    (g) => gemm(g.input('x', 'float32', [rows, k]), g.input('dy', 'float32', [rows, n]), { transA: true }),
    feeds,
    2 * rows * k * n,
  );
  await bench(
    'dX = dY·Wᵀ [32,64,1024]·[1024,256]',
    (g) => matmul(g.input('dy3', 'float32', [32, 64, n]), transposeLast2(g.input('w', 'float32', [k, n]))),
    { dy3: tensor([32, 64, n]), w: tensor([k, n], 2) },
    2 * rows * k * n,
  );
}

// ~12M params fed as inputs each run: the graph reads one row of each, so time ≈ feed overhead.
{
  const shapes = Array.from({ length: 46 }, () => [512, 512]);
  const total = shapes.length * 512 * 512;
  const feeds: Record<string, HostTensor> = {};
  shapes.forEach((s, i) => (feeds[`p${i}`] = tensor(s, i)));
  const build = (g: Graph): Tensor[] => {
    const row = g.constant([0], [1], 'int64');
    return shapes.map((s, i) => gather(g.param(`p${i}`, s), row));
  };
  await bench(`feed ${(total / 1e6).toFixed(1)}M params as inputs`, build, feeds, undefined, '46 inputs of 512x512, gather one row each');
  if (!only || only.some((o) => 'feed'.startsWith(o) || o === 'feed')) {
    const g = new Graph('initializers');
    build(g).forEach((t, i) => g.output(`y${i}`, t));
    const values: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(feeds)) values[name] = t.data as Float32Array;
    const session = await Session.create(exportModel(g, { params: values }), { threads });
    const ms = await time(() => session.run({}));
    results.push({ name: 'same graph, params as initializers', ms: Number(ms.toFixed(3)) });
    if (!json) console.log(`${'same graph, params as initializers'.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms`);
    await session.release();
  }
  await bench(
    `return ${(total / 1e6).toFixed(1)}M floats as outputs`,
    (g) => shapes.map((s, i) => mul(g.param(`p${i}`, s), 2)),
    feeds,
    undefined,
    '46 outputs of 512x512 (x·2)',
  );
}

// Embedding gradient for an 8000×256 table and 32×64 ids: ScatterND vs ScatterElements.
{
  const [vocab, dim, tokens] = [8000, 256, 2048];
  const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt((i * 7919) % vocab));
  const feeds = { table: tensor([vocab, dim]), ids: { data: ids, dims: [tokens, 1] }, dy: tensor([tokens, dim], 2) };
  await bench(
    'embedding grad ScatterND add',
    (g) => {
      const table = g.param('table', [vocab, dim]);
      return g.emit(
        'ScatterND',
        [zerosLike(table), g.input('ids', 'int64', [tokens, 1]), g.input('dy', 'float32', [tokens, dim])],
        { reduction: 'add' },
        [{ dtype: 'float32', shape: [vocab, dim] }],
      )[0];
    },
    feeds,
  );
  await bench(
    'embedding grad ScatterElements add',
    (g) => {
      const table = g.param('table', [vocab, dim]);
      const idx = g.emit('Expand', [g.input('ids', 'int64', [tokens, 1]), g.constant([tokens, dim], [2], 'int64')], {}, [
        { dtype: 'int64', shape: [tokens, dim] },
      ])[0];
      return g.emit('ScatterElements', [zerosLike(table), idx, g.input('dy', 'float32', [tokens, dim])], { axis: 0, reduction: 'add' }, [
        { dtype: 'float32', shape: [vocab, dim] },
      ])[0];
    },
    feeds,
  );
}

// In-graph dropout mask on one [32, 64, 256] activation.
{
  const dims = [32, 64, 256];
  await bench('dropout(0.1) on [32,64,256]', (g) => dropout(g.input('x', 'float32', dims), 0.1, g.input('seed', 'uint32', []), 1), {
    x: tensor(dims),
    seed: { data: Uint32Array.from([7]), dims: [] },
  });
  await bench('x·2 on [32,64,256] (reference elementwise op)', (g) => mul(g.input('x', 'float32', dims), 2), { x: tensor(dims) });
}

// Pre-packed weights: 8 gated layers (16 Gemms, 256↔1024) with params as inputs vs initializers.
for (const rows of [10, 2048]) {
  const name = `prepack ${rows} rows`;
  if (only && !only.some((o) => name.startsWith(o))) continue;
  const g = new Graph(name);
  let x = g.input('x', 'float32', ['rows', 256]);
  const feeds: Record<string, HostTensor> = { x: tensor([rows, 256]) };
  const values: Record<string, Float32Array> = {};
  for (let i = 0; i < 8; i++) {
    const up = g.param(`up${i}`, [1024, 256]);
    const down = g.param(`down${i}`, [256, 1024]);
    feeds[up.name] = tensor([1024, 256], 2 * i + 1);
    feeds[down.name] = tensor([256, 1024], 2 * i + 2);
    values[up.name] = feeds[up.name].data as Float32Array;
    values[down.name] = feeds[down.name].data as Float32Array;
    x = gemm(gelu(gemm(x, up, { transB: true })), down, { transB: true });
  }
  g.output('y', x);
  const times: string[] = [];
  for (const params of ['inputs', values] as const) {
    const session = await Session.create(exportModel(g, { params }), { threads });
    const ms = await time(() => session.run(feeds));
    await session.release();
    const label = `${name}, params as ${params === 'inputs' ? 'inputs' : 'initializers'}`;
    results.push({ name: label, ms: Number(ms.toFixed(3)) });
    times.push(`${label}: ${ms.toFixed(2)} ms`);
  }
  if (!json) console.log(times.join('; '));
}

if (json) console.log(JSON.stringify({ threads, results }));
