/**
 * What constrained beam search needs from a seq2seq model, and a fast inference-only
 * implementation of it. `T5Model` (src/model) satisfies `DocidDecoder` as it is; it feeds
 * its parameters as graph inputs so that training can keep changing them. For search the
 * weights are fixed, so `T5InferenceModel` exports the same encoder and decoder-step graphs
 * with the weights baked in as initializers, which lets ORT pre-pack the Gemm weights
 * (docs/engine.md measured 1.7× on decoder-step-sized Gemms).
 */
import { Session, exportModel, type Device, type HostTensor, type SessionOptions, type Spinning } from '../engine/index.js';
import { totalVocabSize } from '../model/config.js';
import type { T5Config } from '../model/config.js';
import {
  DECODER_STEP_SOURCES_DIM,
  buildDecoderStepGraph,
  buildEncoderGraph,
  inferenceParams,
  type WeightQuantization,
} from '../model/t5-graph.js';
import { checkInferenceGraph } from '../model/inference-check.js';
import { PositionInputs, type T5Model } from '../model/t5.js';
import {
  checkSourceGroups,
  decoderStepFeeds,
  decoderStepResult,
  emptyDecoderCache,
  runEncoder,
  encoderOutputNames,
  expandEncoded,
  type DecoderCache,
  appendPosition,
  StepWorkspace,
  type EncoderOutput,
  type StepDecoder,
  type StepResult,
} from '../model/generation.js';
import { UserError } from '../util/errors.js';

/** The model interface beam search decodes with (T5Model and T5InferenceModel both have it). */
export type DocidDecoder = StepDecoder;

export interface InferenceOptions {
  /** ORT intra-op threads (default: all cores). */
  threads?: number;
  /** ORT intra-op threads of the encoder session alone (default: `threads`); the decoder step's session keeps `threads`. */
  encoderThreads?: number;
  /**
   * How the decoder step's idle ORT threads wait between ops (default `'within-run'`: they
   * busy-wait while a step runs and sleep once it ends; SessionOptions.spinning). Busy-waiting
   * saves a thread wake-up per parallel op. `true` keeps them spinning between steps too, which
   * steals the cores from anything else (beam-10 search measured 82–92 ms per query spinning
   * against 30–34 ms not, on 2 busy cores); `'within-run'` gave the lowest latency and no more
   * CPU than sleeping, on an idle machine and with a busy core beside it (docs/benchmarks.md,
   * "Spinning within a step").
   */
  spinning?: Spinning;
  /**
   * Whether the encoder's idle ORT threads busy-wait too (default false): two spinning pools
   * fight over the cores between an encoder call and the decoder steps after it (2 threads
   * each, on 2 cores: single-query beam search 1.9× slower than neither spinning and 2.6×
   * slower than the decoder's pool spinning alone with a 1-thread encoder, docs/benchmarks.md).
   */
  encoderSpinning?: boolean;
  /** Where ORT runs the graphs (default cpu). */
  device?: Device;
  /**
   * Weights quantized this way in the graphs built from a model's weights (default: float32, as
   * trained). Ranks change slightly: docs/serving.md, "int8 inference", measured how much.
   */
  quantize?: WeightQuantization;
}

/** The ORT session options of the encoder's or the decoder step's session. */
function sessionOptionsOf(options: InferenceOptions, graph: 'encoder' | 'decoder'): SessionOptions {
  if (graph === 'decoder') return { threads: options.threads, spinning: options.spinning ?? 'within-run', device: options.device };
  return { threads: options.encoderThreads ?? options.threads, spinning: options.encoderSpinning ?? false, device: options.device };
}

/**
 * Encoder and cached decoder step of a T5 model with its weights frozen into the ONNX graphs.
 * The weights are copied at creation: later changes to the source arrays are not seen.
 */
export class T5InferenceModel implements DocidDecoder {
  private readonly positions: PositionInputs;
  private readonly crossOutputs: string[];

  private constructor(
    readonly config: T5Config,
    private readonly encoder: Session,
    private readonly decoder: Session,
    /**
     * Whether the decoder step reads one encoder row per group of hypotheses (graphs exported
     * since 2026-12-07); older exported graphs take one row per hypothesis or a single shared
     * row, so grouped encoder outputs are expanded per hypothesis for them.
     */
    readonly groupsBySource = true,
    /**
     * Whether the decoder step returns asked-for columns and the new cache position only
     * (`compactOutputs`, graphs built since 2026-12-07 session 10) rather than the whole
     * vocabulary and cache.
     */
    readonly compactOutputs = true,
  ) {
    this.positions = new PositionInputs(config);
    this.crossOutputs = encoderOutputNames(config);
  }

  /** Builds both sessions from a config and weights by HF name (as `T5Model.weights()` returns them). */
  static async create(
    config: T5Config,
    weights: ReadonlyMap<string, Float32Array>,
    options: InferenceOptions = {},
  ): Promise<T5InferenceModel> {
    const params = new Map(weights);
    // ORT's CUDA MultiHeadAttention was not checked with these inputs (no GPU in the session
    // that added the fused kernels): graphs built for cuda keep the standard ONNX ops.
    const graphOptions = { fuseForInference: true, quantize: options.quantize, fusedKernels: (options.device ?? 'cpu') === 'cpu' };
    const encoderGraph = buildEncoderGraph(config, graphOptions);
    const decoderGraph = buildDecoderStepGraph(config, { ...graphOptions, compactOutputs: true });
    const [encoder, decoder] = await Promise.all([
      Session.create(exportModel(encoderGraph, { params: inferenceParams(encoderGraph, params) }), sessionOptionsOf(options, 'encoder')),
      Session.create(exportModel(decoderGraph, { params: inferenceParams(decoderGraph, params) }), sessionOptionsOf(options, 'decoder')),
    ]);
    return new T5InferenceModel(config, encoder, decoder);
  }

  /**
   * Sessions from already exported inference graphs (a model directory's onnx/encoder.onnx and
   * onnx/decoder_step.onnx, built by the same graph builders with the weights baked in).
   * Each graph's inputs, outputs and weight shapes are checked against `config` first, so a
   * graph of another model is refused instead of ranking wrong; `files` names the graphs in
   * those errors.
   */
  static async fromOnnxFiles(
    config: T5Config,
    encoderBytes: Uint8Array,
    decoderStepBytes: Uint8Array,
    options: InferenceOptions = {},
    files: { encoder: string; decoderStep: string } = { encoder: 'encoder graph', decoderStep: 'decoder step graph' },
  ): Promise<T5InferenceModel> {
    checkInferenceGraph('encoder', encoderBytes, config, files.encoder);
    const stepInterface = checkInferenceGraph('decoderStep', decoderStepBytes, config, files.decoderStep);
    const crossKeys = stepInterface.inputs.find((input) => input.name === 'cross_k.0');
    const groupsBySource = crossKeys?.dims[0] === DECODER_STEP_SOURCES_DIM;
    const open = async (bytes: Uint8Array, file: string, graph: 'encoder' | 'decoder'): Promise<Session> => {
      try {
        return await Session.create(bytes, sessionOptionsOf(options, graph));
      } catch (err) {
        // ORT's own message (e.g. "protobuf parsing failed") with a native stack; the file is what the user can act on.
        throw new UserError(`${file}: not a readable ONNX model (${err instanceof Error ? err.message : String(err)})`);
      }
    };
    const encoder = await open(encoderBytes, files.encoder, 'encoder');
    let decoder: Session;
    try {
      decoder = await open(decoderStepBytes, files.decoderStep, 'decoder');
    } catch (err) {
      await encoder.release();
      throw err;
    }
    const compactOutputs = stepInterface.inputs.some((input) => input.name === 'output_columns');
    return new T5InferenceModel(config, encoder, decoder, groupsBySource, compactOutputs);
  }

  /** A frozen copy of a model's current weights. */
  static fromModel(model: T5Model, options: InferenceOptions = {}): Promise<T5InferenceModel> {
    return T5InferenceModel.create(model.config, model.weights(), options);
  }

  async encode(inputIds: BigInt64Array, attentionMask: Float32Array, batch: number, srcLength: number): Promise<EncoderOutput> {
    const run = (feeds: Record<string, HostTensor>) => this.encoder.run(feeds, this.crossOutputs);
    return runEncoder(this.config, run, inputIds, attentionMask, batch, srcLength, this.positions.encoder(srcLength));
  }

  emptyCache(batch: number): DecoderCache {
    return emptyDecoderCache(this.config, batch);
  }

  async decoderStep(encoded: EncoderOutput, cache: DecoderCache, tokens: BigInt64Array, workspace?: StepWorkspace): Promise<StepResult> {
    const rows = tokens.length;
    checkSourceGroups(encoded.batch, rows);
    let sources = encoded;
    if (!this.groupsBySource && encoded.batch !== 1 && encoded.batch !== rows) {
      const perSource = rows / encoded.batch;
      sources = expandEncoded(
        encoded,
        Int32Array.from({ length: rows }, (_, row) => Math.floor(row / perSource)),
      );
    }
    const feeds = decoderStepFeeds(this.config, sources, cache, tokens, this.positions.decoderStep(cache.length));
    if (!this.compactOutputs) return decoderStepResult(this.config, await this.decoder.run(feeds), cache);
    const columns = workspace?.columns();
    feeds.output_columns =
      columns === undefined ? this.allColumns() : { data: toInt64(columns.tokens, columns.count), dims: [columns.count] };
    const result = await this.decoder.run(feeds);
    // The new position joins the cache on the host, in the workspace's free buffer when there is
    // one; only when the caller reads it, since beam search reorders the rows in the same copy.
    const slot = workspace === undefined ? undefined : StepWorkspace.outputSlot(cache);
    const newest = (kind: 'k' | 'v', i: number) => result[`new_${kind}.${i}`];
    const extend = (order: ArrayLike<number> | undefined, count: number): DecoderCache => {
      const size = count * this.config.numHeads * (cache.length + 1) * this.config.dKv;
      const grow = (kind: 'k' | 'v') => (past: HostTensor, i: number) =>
        appendPosition(past, newest(kind, i), workspace?.take(`${kind}.${i}.${slot}`, size), order, count);
      return {
        length: cache.length + 1,
        keys: cache.keys.map(grow('k')),
        values: cache.values.map(grow('v')),
        ...(slot === undefined ? {} : { slot }),
      };
    };
    let grown: DecoderCache | undefined;
    return {
      logProbs: result.column_log_probs.data as Float32Array,
      get cache() {
        grown ??= extend(undefined, rows);
        return grown;
      },
      extend,
      ...(columns === undefined ? {} : { columns }),
    };
  }

  private everyColumn: HostTensor | undefined;

  /** `output_columns` naming the whole vocabulary in order. */
  private allColumns(): HostTensor {
    const vocab = totalVocabSize(this.config);
    this.everyColumn ??= { data: BigInt64Array.from({ length: vocab }, (_, i) => BigInt(i)), dims: [vocab] };
    return this.everyColumn;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

function toInt64(values: Int32Array, count: number): BigInt64Array {
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) out[i] = BigInt(values[i]);
  return out;
}
