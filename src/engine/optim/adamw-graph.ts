/**
 * AdamW inside an ONNX graph: a model whose training graph already yields the gradients
 * appends the clipped update, so one graph run is a whole training step (src/model's fused
 * T5 step). adamWFeeds gives the run's extra inputs and the buffers the outputs go into.
 */
import { type Graph, type Tensor } from '../graph.js';
import { add, div, less, minimum, mul, reduceSum, sqrt, sub, sum, where } from '../ops/index.js';
import type { HostTensor } from '../runtime.js';
import type { ExternalAdamWUpdate } from './adamw.js';
import type { Parameter } from './types.js';

export interface GraphAdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Which parameters get weight decay (by name); the others are updated with keep = 1. */
  decays: (name: string) => boolean;
}

/**
 * Appends global-norm clipping and the AdamW update to a graph that computes `grads` of
 * `params` (the fused alternative to AdamW.update in TypeScript, same arithmetic). Inputs:
 * `m.<name>`, `v.<name>` per parameter and the float32 scalars `adam_step_size`
 * (lr / (1 - beta1^t)), `adam_inv_correction2` (1 / sqrt(1 - beta2^t)), `adam_keep`
 * (1 - lr * weight decay) and `clip_max_norm`. Outputs: `grad_norm` (before clipping) and `new.<name>`, `new_m.<name>`, `new_v.<name>`. When the gradient
 * norm is not finite every output equals its input (the update is skipped).
 */
export function appendAdamWUpdate(g: Graph, params: readonly Tensor[], grads: readonly Tensor[], adam: GraphAdamWOptions): void {
  const stepSizeIn = g.input('adam_step_size', 'float32', []);
  const invCorrection2 = g.input('adam_inv_correction2', 'float32', []);
  const keepIn = g.input('adam_keep', 'float32', []);
  const maxNorm = g.input('clip_max_norm', 'float32', []);
  const norm = sqrt(sum(grads.map((grad) => reduceSum(mul(grad, grad)))));
  g.output('grad_norm', norm);
  // false for NaN and for infinity: the update then leaves everything as it was.
  const finite = less(norm, 3e38);
  const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  const pick = (ifFinite: number | Tensor, otherwise: number): Tensor =>
    where(finite, typeof ifFinite === 'number' ? g.scalar(ifFinite) : ifFinite, otherwise);
  const beta1 = pick(adam.beta1, 1);
  const oneMinusBeta1 = pick(1 - adam.beta1, 0);
  const beta2 = pick(adam.beta2, 1);
  const oneMinusBeta2 = pick(1 - adam.beta2, 0);
  const stepSize = pick(stepSizeIn, 0);
  const keep = pick(keepIn, 1);
  params.forEach((param, i) => {
    const m = g.input(`m.${param.name}`, 'float32', param.shape);
    const v = g.input(`v.${param.name}`, 'float32', param.shape);
    const grad = where(finite, mul(grads[i], scale), 0);
    const m1 = add(mul(m, beta1), mul(grad, oneMinusBeta1));
    const v1 = add(mul(v, beta2), mul(mul(grad, grad), oneMinusBeta2));
    const step = div(mul(m1, stepSize), add(mul(sqrt(v1), invCorrection2), adam.eps));
    g.output(`new.${param.name}`, sub(adam.decays(param.name) ? mul(param, keep) : param, step));
    g.output(`new_m.${param.name}`, m1);
    g.output(`new_v.${param.name}`, v1);
  });
}

/**
 * The feeds of one fused step (moments, step scalars, clip norm) and the output buffers:
 * new parameters and moments are written straight into the parameter and moment arrays, which
 * is safe because every read of those feeds comes before the update nodes (they wait for the
 * global gradient norm).
 */
export function adamWFeeds(
  parameters: readonly Parameter[],
  update: ExternalAdamWUpdate,
  clipNorm: number,
): { feeds: Record<string, HostTensor>; into: Record<string, HostTensor> } {
  const scalar = (value: number): HostTensor => ({ data: Float32Array.of(value), dims: [] });
  const feeds: Record<string, HostTensor> = {
    adam_step_size: scalar(update.stepSize),
    adam_inv_correction2: scalar(update.invCorrection2),
    adam_keep: scalar(update.keep),
    clip_max_norm: scalar(clipNorm > 0 ? clipNorm : 3e38),
  };
  const into: Record<string, HostTensor> = {};
  parameters.forEach((p, i) => {
    feeds[`m.${p.name}`] = { data: update.m[i], dims: p.shape };
    feeds[`v.${p.name}`] = { data: update.v[i], dims: p.shape };
    into[`new.${p.name}`] = { data: p.data, dims: p.shape };
    into[`new_m.${p.name}`] = { data: update.m[i], dims: p.shape };
    into[`new_v.${p.name}`] = { data: update.v[i], dims: p.shape };
  });
  return { feeds, into };
}
