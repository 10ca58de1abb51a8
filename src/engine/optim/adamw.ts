import { elementCount, type Gradients, type Parameter } from './types.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (Loshchilov & Hutter): p -= lr * weightDecay * p. Default 0.01. */
  weightDecay?: number;
  /**
   * Which parameters get weight decay. Default: tensors of rank >= 2 (matrices and
   * embeddings), not norm scales — the usual choice for transformers.
   */
  decays?: (param: Parameter) => boolean;
}

/** What an in-graph AdamW update needs for update number step+1 (see AdamW.externalUpdate). */
export interface ExternalAdamWUpdate {
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  invCorrection2: number;
  /** 1 - lr * weightDecay, for parameters that decay. */
  keep: number;
  m: readonly Float32Array[];
  v: readonly Float32Array[];
  decays: readonly boolean[];
}

/** Optimizer state, enough to continue bit-for-bit: update count and both moments per parameter. */
export interface AdamWState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/**
 * AdamW over Float32Arrays, updating parameters in place. The arithmetic follows
 * torch.optim.AdamW (decay first, then the bias-corrected Adam step) so both move the
 * same way; intermediates are float64, moments and parameters are stored as float32.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly params: readonly Parameter[];
  private readonly decayFlags: boolean[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private updates = 0;

  constructor(params: readonly Parameter[], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    for (const [key, value] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(value >= 0 && value < 1)) throw new RangeError(`AdamW: ${key} must be in [0, 1), got ${value}`);
    }
    if (!(this.eps > 0)) throw new RangeError(`AdamW: eps must be > 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
    const names = new Set<string>();
    for (const param of params) {
      if (names.has(param.name)) throw new Error(`AdamW: parameter '${param.name}' given twice`);
      names.add(param.name);
      if (param.data.length !== elementCount(param.shape)) {
        throw new Error(`AdamW: parameter '${param.name}' has ${param.data.length} values but shape [${param.shape.join(', ')}]`);
      }
    }
    const decays = options.decays ?? ((param: Parameter) => param.shape.length >= 2);
    this.params = params;
    this.decayFlags = params.map((param) => decays(param));
    this.m = params.map((param) => new Float32Array(param.data.length));
    this.v = params.map((param) => new Float32Array(param.data.length));
  }

  /** Updates applied so far. */
  get step(): number {
    return this.updates;
  }

  /**
   * Applies one update with learning rate `lr`; every parameter must have a gradient.
   * `gradScale` multiplies every gradient first (fold global-norm clipping in here, see
   * clipFactor, to save a pass over the gradients).
   */
  update(grads: Gradients, lr: number, gradScale = 1): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`AdamW: learning rate must be finite and >= 0, got ${lr}`);
    const gradList = this.params.map((param) => {
      const grad = grads.get(param.name);
      if (grad === undefined) throw new Error(`AdamW: no gradient for parameter '${param.name}'`);
      if (grad.length !== param.data.length) {
        throw new Error(`AdamW: gradient of '${param.name}' has ${grad.length} values, expected ${param.data.length}`);
      }
      return grad;
    });
    this.updates += 1;
    const stepSize = lr / (1 - this.beta1 ** this.updates);
    const correction2Sqrt = Math.sqrt(1 - this.beta2 ** this.updates);
    for (let p = 0; p < this.params.length; p++) {
      const keep = this.decayFlags[p] ? 1 - lr * this.weightDecay : 1;
      adamwKernel(
        this.params[p].data,
        gradList[p],
        this.m[p],
        this.v[p],
        this.beta1,
        this.beta2,
        keep,
        stepSize,
        correction2Sqrt,
        this.eps,
        gradScale,
      );
    }
  }

  /**
   * For an update computed elsewhere (inside the ORT graph, see T5Model.adamWStep): the
   * scalars of the next update and the moment buffers, in parameter order, which the caller
   * updates in place; then `commitExternalUpdate()` counts the update.
   */
  externalUpdate(lr: number): ExternalAdamWUpdate {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`AdamW: learning rate must be finite and >= 0, got ${lr}`);
    const step = this.updates + 1;
    return {
      stepSize: lr / (1 - this.beta1 ** step),
      invCorrection2: 1 / Math.sqrt(1 - this.beta2 ** step),
      keep: 1 - lr * this.weightDecay,
      m: this.m,
      v: this.v,
      decays: this.decayFlags,
    };
  }

  commitExternalUpdate(): void {
    this.updates += 1;
  }

  /** A copy of the state, for checkpoints. */
  getState(): AdamWState {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    this.params.forEach((param, index) => {
      m.set(param.name, this.m[index].slice());
      v.set(param.name, this.v[index].slice());
    });
    return { step: this.updates, m, v };
  }

  /** Restores a state from `getState` (or a checkpoint); names and sizes must match. */
  setState(state: AdamWState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`AdamW: bad step count in state: ${state.step}`);
    this.params.forEach((param, index) => {
      for (const [label, source, target] of [
        ['m', state.m, this.m[index]],
        ['v', state.v, this.v[index]],
      ] as const) {
        const values = source.get(param.name);
        if (values === undefined) throw new Error(`AdamW: state has no ${label} for parameter '${param.name}'`);
        if (values.length !== target.length) {
          throw new Error(`AdamW: state ${label} of '${param.name}' has ${values.length} values, expected ${target.length}`);
        }
        target.set(values);
      }
    });
    this.updates = state.step;
  }
}

/**
 * One tensor's update, in torch.optim.AdamW's order: decay, moments (kept as float32),
 * then p -= stepSize * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), intermediates in float64.
 * A standalone function with scalar arguments so V8 compiles one tight loop.
 */
function adamwKernel(
  data: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  beta1: number,
  beta2: number,
  keep: number,
  stepSize: number,
  correction2Sqrt: number,
  eps: number,
  gradScale: number,
): void {
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  for (let i = 0; i < data.length; i++) {
    const g = grad[i] * gradScale;
    const mi = (m[i] = beta1 * m[i] + oneMinusBeta1 * g);
    const vi = (v[i] = beta2 * v[i] + oneMinusBeta2 * g * g);
    data[i] = data[i] * keep - (stepSize * mi) / (Math.sqrt(vi) / correction2Sqrt + eps);
  }
}
