/**
 * ORT's own matrix-product speed on this machine, through genir's runtime: the ceiling a
 * training step's GFLOP/s is compared with (bench:train's `gemm_gflops`, `fraction_of_gemm`).
 */
import { performance } from 'node:perf_hooks';
import { Graph, Session, exportModel, matmul, type HostTensor } from '../src/engine/index.js';
import { Rng } from '../src/util/random.js';

/** An n×n · n×n MatMul session with its inputs; release it when done. */
export async function gemmSession(n: number, threads: number): Promise<{ run(): Promise<number>; release(): Promise<void> }> {
  const graph = new Graph(`matmul${n}`);
  graph.output('y', matmul(graph.input('a', 'float32', [n, n]), graph.input('b', 'float32', [n, n])));
  const session = await Session.create(exportModel(graph), { threads });
  const rng = new Rng(1);
  const matrix = (): HostTensor => ({ data: Float32Array.from({ length: n * n }, () => rng.next() - 0.5), dims: [n, n] });
  const feeds = { a: matrix(), b: matrix() };
  return {
    /** One product; returns its wall time in ms. */
    async run() {
      const start = performance.now();
      await session.run(feeds);
      return performance.now() - start;
    },
    release: () => session.release(),
  };
}

/** Median GFLOP/s of `repeats` n×n products after 2 warm-up runs. */
export async function measureGemmGflops(threads: number, n = 1024, repeats = 10): Promise<number> {
  const gemm = await gemmSession(n, threads);
  try {
    for (let i = 0; i < 2; i++) await gemm.run();
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) ms.push(await gemm.run());
    ms.sort((a, b) => a - b);
    return (2 * n ** 3) / (ms[repeats >> 1] * 1e6);
  } finally {
    await gemm.release();
  }
}
