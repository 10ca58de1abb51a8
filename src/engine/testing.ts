/** Helpers for the engine's tests: one-shot evaluation and seeded random shapes. */
import type { Rng } from '../util/random.js';
import { fromNumbers, type DType } from './dtype.js';
import { Graph, type Tensor } from './graph.js';
import { exportModel } from './onnx.js';
import { Session, type HostTensor } from './runtime.js';

export interface EvalInput {
  name: string;
  dims: readonly number[];
  values: readonly number[];
  dtype?: DType;
}

/** Builds `build(g, xs)` over inputs with the given values, runs it once and returns the result. */
export async function evaluate(build: (g: Graph, xs: Tensor[]) => Tensor, inputs: readonly EvalInput[]): Promise<HostTensor> {
  const g = new Graph('evaluate');
  const xs = inputs.map((x) => g.input(x.name, x.dtype ?? 'float64', x.dims));
  g.output('y', build(g, xs));
  const session = await Session.create(exportModel(g), { threads: 1 });
  const feeds: Record<string, HostTensor> = {};
  for (const x of inputs) feeds[x.name] = { data: fromNumbers(x.dtype ?? 'float64', x.values), dims: x.dims, dtype: x.dtype ?? 'float64' };
  const out = (await session.run(feeds)).y;
  await session.release();
  return out;
}

/** The values of a host tensor as plain numbers (bigint and bool included). */
export function numbers(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export function randomShape(rng: Rng, rank: number, maxDim = 4): number[] {
  return Array.from({ length: rank }, () => 1 + rng.int(maxDim));
}

/**
 * Two shapes that broadcast against each other: a random full shape, from which each operand
 * drops some leading axes and turns some others into 1.
 */
export function randomBroadcastPair(rng: Rng, maxRank = 3, maxDim = 4): [number[], number[]] {
  const full = randomShape(rng, 1 + rng.int(maxRank), Math.max(2, maxDim));
  const derive = (): number[] => {
    const drop = rng.int(full.length);
    return full.slice(drop).map((d) => (rng.next() < 0.3 ? 1 : d));
  };
  const a = derive();
  const b = rng.next() < 0.5 ? full.slice() : derive();
  return rng.next() < 0.5 ? [a, b] : [b, a];
}

/** Numbers close enough for float64 results computed two ways. */
export function assertClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-9): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: ${a} != ${expected[i]} (actual [${actual.join(', ')}])`);
    }
  });
}
