/**
 * Gradient checking: the analytic gradients from `gradients()` against central finite
 * differences, both computed by ORT on the same exported graph. In float64 (default) the two
 * agree to ~1e-9; ops that ORT runs in float32 only (Softplus) are checked in float32 with a
 * larger step and looser tolerances.
 */
import { Rng } from '../util/random.js';
import { allocate, type HostArray } from './dtype.js';
import { gradients } from './autodiff.js';
import { Graph, type Tensor } from './graph.js';
import { exportModel } from './onnx.js';
import { mul, reduceSum } from './ops/index.js';
import { isStatic, formatShape } from './shape.js';
import { Session, type HostTensor } from './runtime.js';

export interface GradCheckInput {
  name: string;
  shape: readonly number[];
  /** Fixed values; otherwise drawn uniformly from `range`. */
  values?: readonly number[];
  /** Uniform range for random values; default [-1, 1]. */
  range?: readonly [number, number];
}

export interface GradCheckOptions {
  dtype?: 'float64' | 'float32';
  seed?: number;
  /** Finite-difference step; default 1e-6 (float64) or 1e-2 (float32). */
  eps?: number;
  /** Pass when |analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|). */
  rtol?: number;
  atol?: number;
  /** Check at most this many elements per input (a seeded random subset); default all. */
  maxElementsPerInput?: number;
  threads?: number;
}

export interface GradCheckReport {
  checked: number;
  maxAbsError: number;
  maxRelError: number;
  /** Largest |gradient| seen, to show the check was not trivially zero. */
  maxGradient: number;
}

/**
 * Builds `build(g, xs)` on fresh float tensors `xs` (one per input spec), reduces the result to
 * a scalar with fixed random weights, and checks every (or a sample of) input element's
 * gradient. Throws an Error naming the input and element on the first mismatch.
 */
export async function checkGradients(
  build: (g: Graph, xs: Tensor[]) => Tensor,
  inputs: readonly GradCheckInput[],
  options: GradCheckOptions = {},
): Promise<GradCheckReport> {
  const dtype = options.dtype ?? 'float64';
  const rng = new Rng(options.seed ?? 1234);
  const eps = options.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rtol = options.rtol ?? (dtype === 'float64' ? 1e-5 : 3e-2);
  const atol = options.atol ?? (dtype === 'float64' ? 1e-7 : 3e-3);

  const g = new Graph('gradcheck');
  const xs = inputs.map((spec) => g.param(spec.name, spec.shape, dtype));
  const y = build(g, xs);
  let loss: Tensor;
  if (y.rank === 0) loss = y;
  else {
    if (!isStatic(y.shape)) throw new Error(`checkGradients: output shape ${formatShape(y.shape)} must be numeric`);
    const size = y.shape.reduce((a, b) => a * b, 1);
    const weights = allocate(dtype, size) as Float64Array;
    for (let i = 0; i < size; i++) weights[i] = rng.next() * 2 - 1;
    loss = reduceSum(mul(y, g.constant(weights, y.shape, dtype)));
  }
  g.output('loss', loss);
  const grads = gradients(loss, xs);
  grads.forEach((grad, i) => g.output(`grad_${i}`, grad));
  const session = await Session.create(exportModel(g), { threads: options.threads ?? 1 });

  const feeds: Record<string, HostTensor> = {};
  const values: HostArray[] = inputs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = allocate(dtype, size) as Float64Array;
    const [lo, hi] = spec.range ?? [-1, 1];
    for (let i = 0; i < size; i++) data[i] = spec.values ? spec.values[i] : lo + (hi - lo) * rng.next();
    feeds[spec.name] = { data, dims: spec.shape };
    return data;
  });
  const lossAt = async (): Promise<number> => Number((await session.run(feeds, ['loss'])).loss.data[0]);

  const analytic = await session.run(feeds);
  const report: GradCheckReport = { checked: 0, maxAbsError: 0, maxRelError: 0, maxGradient: 0 };
  for (let k = 0; k < inputs.length; k++) {
    const data = values[k] as Float64Array;
    const grad = analytic[`grad_${k}`].data as Float64Array;
    let indices = Array.from({ length: data.length }, (_, i) => i);
    if (options.maxElementsPerInput !== undefined && indices.length > options.maxElementsPerInput) {
      indices = rng.shuffle(indices).slice(0, options.maxElementsPerInput);
    }
    for (const i of indices) {
      const original = data[i];
      data[i] = original + eps;
      const up = await lossAt();
      data[i] = original - eps;
      const down = await lossAt();
      data[i] = original;
      const numeric = (up - down) / (2 * eps);
      const a = Number(grad[i]);
      const absError = Math.abs(a - numeric);
      const scale = Math.max(Math.abs(a), Math.abs(numeric));
      report.checked += 1;
      report.maxAbsError = Math.max(report.maxAbsError, absError);
      report.maxRelError = Math.max(report.maxRelError, scale > 0 ? absError / scale : 0);
      report.maxGradient = Math.max(report.maxGradient, Math.abs(a));
      if (!(absError <= atol + rtol * scale)) {
        await session.release();
        throw new Error(
          `gradient mismatch for ${inputs[k].name}[${i}] (shape ${formatShape(inputs[k].shape)}, ${dtype}): analytic ${a}, numeric ${numeric}, |diff| ${absError}`,
        );
      }
    }
  }
  await session.release();
  return report;
}
