/**
 * Feasibility probe (issue 14): float Gemm against ORT's int8 routes at the `small` preset's
 * inference shapes, interleaved in one process, 2 threads, no spinning (as genir search runs):
 * com.microsoft DynamicQuantizeMatMul, DynamicQuantizeLinear + com.microsoft MatMulIntegerToFloat,
 * and DynamicQuantizeLinear + MatMulInteger + Cast + Mul (which ORT may fuse). Weights are
 * symmetric int8 with one scale per output column; the error column is the largest difference
 * from the float product relative to its largest magnitude.
 *   node --import tsx bench/int8-probe.ts [--threads N] [--rounds R] [--runs N]
 */
import { Graph, Session, exportModel, gemm, type Tensor } from '../src/engine/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const threads = flag('--threads', 2);
const rounds = flag('--rounds', 5);
const runsPerRound = flag('--runs', 100);

function randomArray(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return out;
}

/** W [n, k] (HF [out, in]) → int8 W^T [k, n] and per-output-column scales, symmetric. */
function quantize(weight: Float32Array, n: number, k: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(k * n);
  const scale = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(weight[o * k + i]));
    scale[o] = max > 0 ? max / 127 : 1;
    for (let i = 0; i < k; i++) q[i * n + o] = Math.round(weight[o * k + i] / scale[o]);
  }
  return { q, scale };
}

type Route = 'float-gemm' | 'dq-matmul' | 'dql+mmitf' | 'dql+matmulinteger';
const ROUTES: Route[] = ['float-gemm', 'dq-matmul', 'dql+mmitf', 'dql+matmulinteger'];

function build(route: Route, k: number, n: number): Uint8Array {
  const g = new Graph(route);
  const x = g.input('x', 'float32', ['m', k]);
  const weight = randomArray(n * k, 7);
  let y: Tensor;
  if (route === 'float-gemm') {
    const w = g.param('w', [n, k]);
    y = gemm(x, w, { transB: true });
    g.output('y', y);
    return exportModel(g, { params: { w: weight } }).bytes;
  }
  const { q, scale } = quantize(weight, n, k);
  const wq = g.constant(q, [k, n], 'int8');
  const ws = g.constant(scale, [n], 'float32');
  if (route === 'dq-matmul') {
    [y] = g.emit('DynamicQuantizeMatMul', [x, wq, ws], {}, [{ dtype: 'float32', shape: ['m', n] }], 'com.microsoft');
  } else {
    const [xq, xs, xzp] = g.emit('DynamicQuantizeLinear', [x], {}, [
      { dtype: 'uint8', shape: ['m', k] },
      { dtype: 'float32', shape: [] },
      { dtype: 'uint8', shape: [] },
    ]);
    if (route === 'dql+mmitf') {
      [y] = g.emit('MatMulIntegerToFloat', [xq, wq, xs, ws, xzp], {}, [{ dtype: 'float32', shape: ['m', n] }], 'com.microsoft');
    } else {
      const [acc] = g.emit('MatMulInteger', [xq, wq, xzp], {}, [{ dtype: 'int32', shape: ['m', n] }]);
      const [accF] = g.emit('Cast', [acc], { to: 1 }, [{ dtype: 'float32', shape: ['m', n] }]);
      const [s] = g.emit('Mul', [xs, ws], {}, [{ dtype: 'float32', shape: [n] }]);
      [y] = g.emit('Mul', [accF, s], {}, [{ dtype: 'float32', shape: ['m', n] }]);
    }
  }
  g.output('y', y);
  return exportModel(g).bytes;
}

const SHAPES: { name: string; m: number; k: number; n: number }[] = [
  { name: 'decoder qkv (1 query)', m: 10, k: 256, n: 768 },
  { name: 'decoder wi (1 query)', m: 10, k: 256, n: 2048 },
  { name: 'decoder wo (1 query)', m: 10, k: 1024, n: 256 },
  { name: 'decoder head (1 query)', m: 10, k: 256, n: 9536 },
  { name: 'decoder qkv (×16)', m: 160, k: 256, n: 768 },
  { name: 'decoder wi (×16)', m: 160, k: 256, n: 2048 },
  { name: 'decoder wo (×16)', m: 160, k: 1024, n: 256 },
  { name: 'decoder head (×16)', m: 160, k: 256, n: 9536 },
  { name: 'encoder wi (1 query, 16 tok)', m: 16, k: 256, n: 2048 },
  { name: 'encoder wi (×16, 320 tok)', m: 320, k: 256, n: 2048 },
  { name: 'encoder cross kv (×16)', m: 320, k: 256, n: 2048 },
];

for (const shape of SHAPES) {
  const sessions = new Map<Route, Session>();
  for (const route of ROUTES) {
    sessions.set(route, await Session.create(build(route, shape.k, shape.n), { threads, spinning: false }));
  }
  const x = { data: randomArray(shape.m * shape.k, 3), dims: [shape.m, shape.k] };
  const samples = new Map<Route, number[]>(ROUTES.map((r) => [r, []]));
  const reference = (await (sessions.get('float-gemm') as Session).run({ x })).y.data as Float32Array;
  const errors = new Map<Route, number>();
  for (const route of ROUTES) {
    const out = (await (sessions.get(route) as Session).run({ x })).y.data as Float32Array;
    let worst = 0;
    let scaleOf = 0;
    for (let i = 0; i < out.length; i++) {
      worst = Math.max(worst, Math.abs(out[i] - reference[i]));
      scaleOf = Math.max(scaleOf, Math.abs(reference[i]));
    }
    errors.set(route, worst / scaleOf);
  }
  for (let round = 0; round < rounds; round++) {
    for (const route of ROUTES) {
      const session = sessions.get(route) as Session;
      for (let i = 0; i < 5; i++) await session.run({ x });
      const start = performance.now();
      for (let i = 0; i < runsPerRound; i++) await session.run({ x });
      (samples.get(route) as number[]).push((performance.now() - start) / runsPerRound);
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const base = median(samples.get('float-gemm') as number[]);
  const flops = 2 * shape.m * shape.k * shape.n;
  const cells = ROUTES.map((route) => {
    const ms = median(samples.get(route) as number[]);
    return `${route} ${(ms * 1000).toFixed(1)} µs (${(flops / ms / 1e6).toFixed(1)} GFLOP/s, ${(base / ms).toFixed(2)}×, max rel err ${(errors.get(route) as number).toExponential(1)})`;
  });
  console.log(`${shape.name} [${shape.m}×${shape.k}]·[${shape.k}×${shape.n}]: ${cells.join('; ')}`);
  for (const session of sessions.values()) await session.release();
}
