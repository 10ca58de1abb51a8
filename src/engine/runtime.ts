/**
 * A thin wrapper over an onnxruntime-node InferenceSession: created once per exported graph and
 * reused for every step. Feeds are host typed arrays wrapped as ORT tensors without copying, so
 * passing all parameters as inputs each training step costs next to nothing (measured in
 * docs/engine.md).
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';
import { checkDevice, executionProviders, type Device } from './device.js';
import { dtypeOfArray, type DType, type HostArray } from './dtype.js';
import type { ExportedModel } from './onnx.js';

// ORT's Linux telemetry (1DS) reads /proc/self/cmdline when the first session is created and
// parses it recursively: a command line over about 29 KB (a long query given as an argument)
// overflows the main thread's stack and the process dies with SIGSEGV, and every process
// leaves an empty /tmp/mat-debug-<pid>.log. ORT reads this variable at session creation, so
// setting it here, after the import, is in time. A user who sets it explicitly keeps their value.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

/** A host tensor: data in row-major order plus dims. `dtype` is needed only for bool (Uint8Array). */
export interface HostTensor {
  data: HostArray;
  dims: readonly number[];
  dtype?: DType;
}

export interface SessionOptions {
  /** Intra-op threads; default all cores (`os.availableParallelism()`). */
  threads?: number;
  /** ORT graph optimization level; default 'all' (fusions such as Transpose+MatMul). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write ORT's optimized model here (debugging). */
  optimizedModelPath?: string;
  /** ORT's own per-node profile (JSON) with this file prefix (debugging, benchmarks). */
  profilePrefix?: string;
  /**
   * How idle intra-op threads wait for work: `true` busy-waits, also between runs (ORT's
   * default); `'within-run'` busy-waits while a run lasts and sleeps once it ends (ORT's
   * `session.force_spinning_stop`); `false` always sleeps. Unset: ORT's default.
   */
  spinning?: Spinning;
  /** Where the graph runs (default cpu); cuda needs onnxruntime-node's CUDA binaries (see device.ts). */
  device?: Device;
}

/** How idle intra-op threads wait for work (SessionOptions.spinning). */
export type Spinning = boolean | 'within-run';

function ortTypeOf(t: HostTensor): ort.Tensor.Type {
  const dtype = t.dtype ?? dtypeOfArray(t.data);
  return dtype as ort.Tensor.Type;
}

/** Wraps a host tensor for ORT; the typed array's memory is shared, not copied. */
export function toOrtTensor(t: HostTensor): ort.Tensor {
  const size = t.dims.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) throw new Error(`tensor of dims [${t.dims.join(', ')}] needs ${size} values, got ${t.data.length}`);
  return new ort.Tensor(ortTypeOf(t), t.data as never, t.dims);
}

function fromOrtTensor(value: ort.OnnxValue, name: string): HostTensor {
  if (!(value instanceof ort.Tensor)) throw new Error(`output ${name} is not a tensor`);
  return { data: value.data as HostArray, dims: value.dims, dtype: value.type as DType };
}

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(model: ExportedModel | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const bytes = model instanceof Uint8Array ? model : model.bytes;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.optimization ?? 'all',
      // Warnings about output shapes merged leniently are expected for our dim names.
      logSeverityLevel: 3,
    };
    if (options.spinning !== undefined) {
      sessionOptions.extra = {
        session: {
          intra_op: { allow_spinning: options.spinning === false ? '0' : '1' },
          ...(options.spinning === 'within-run' ? { force_spinning_stop: '1' } : {}),
        },
      };
    }
    const device = options.device ?? 'cpu';
    if (device !== 'cpu') {
      checkDevice(device);
      sessionOptions.executionProviders = executionProviders(device);
    }
    if (options.optimizedModelPath) sessionOptions.optimizedModelFilePath = options.optimizedModelPath;
    if (options.profilePrefix) {
      sessionOptions.enableProfiling = true;
      sessionOptions.profileFilePrefix = options.profilePrefix;
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions);
    } catch (err) {
      // A missing CUDA runtime (libcudart, cuDNN) shows up only here.
      if (device === 'cpu') throw err;
      throw new UserError(
        `--device ${device}: ONNX Runtime could not start the ${device} provider: ${String((err as Error).message).split('\n')[0]}`,
      );
    }
    return new Session(session, session.inputNames, session.outputNames);
  }

  /**
   * Runs the graph. Feeds the model does not take are ignored, so one feed object (all params,
   * all inputs) can serve several graphs. Returns the requested outputs (default: all).
   */
  async run(
    feeds: Readonly<Record<string, HostTensor>>,
    outputs?: readonly string[],
    /**
     * Host buffers (of the right size) that ORT writes the named outputs into instead of
     * allocating new arrays; other outputs are allocated as usual. A buffer may also be a
     * feed when every reader of that feed runs before the output's producer (e.g. a fused
     * optimizer update that depends on all gradients).
     */
    into?: Readonly<Record<string, HostTensor>>,
  ): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const value = feeds[name];
      if (!value) throw new Error(`missing feed ${name} (model inputs: ${this.inputNames.join(', ')})`);
      ortFeeds[name] = toOrtTensor(value);
    }
    let fetches: Record<string, ort.Tensor | null> | undefined;
    if (into !== undefined) {
      fetches = {};
      for (const name of outputs ?? this.outputNames) fetches[name] = into[name] ? toOrtTensor(into[name]) : null;
    }
    const result = fetches
      ? await this.session.run(ortFeeds, fetches)
      : outputs
        ? await this.session.run(ortFeeds, outputs)
        : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, value] of Object.entries(result)) out[name] = fromOrtTensor(value, name);
    return out;
  }

  /** Ends ORT's profiling (sessions created with `profilePrefix`): the JSON file is complete after this. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
