/**
 * The T5-style encoder–decoder as ONNX graphs, from one definition: the blocks below are
 * shared by the training step, the encoder, the cached decoder step and teacher-forced
 * scoring. Hidden states stay 2-D ([tokens, d_model]) so every projection is one Gemm with
 * the HF [out, in] weight read transposed (transB), which is also how its gradient comes out.
 *
 * Shapes use the dim names `batch`, `src` (source length), `tgt` (target length) and
 * `past` (cached decoder positions).
 */
import {
  type Dim,
  Graph,
  Tensor,
  add,
  cast,
  concat,
  crossEntropy,
  div,
  dropout,
  dynamicQuantizeMatMul,
  expand,
  gather,
  gelu,
  gemm,
  gradients,
  logSoftmax,
  matmul,
  maximum,
  mul,
  multiHeadAttention,
  pow,
  quantizeWeightInt8,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  rsqrt,
  sequenceLogProb,
  skipRmsNorm,
  slice,
  softmax,
  split,
  sqrt,
  sub,
  transpose,
  unsqueeze,
} from '../engine/index.js';
import type { HostArray } from '../engine/dtype.js';
import type { MultiHeadAttentionOptions } from '../engine/index.js';
import { appendAdamWUpdate, type GraphAdamWOptions } from '../engine/optim/adamw-graph.js';
import { LEXICAL_HEAD_WEIGHT, t5ParameterSpecs, totalVocabSize, type T5Config } from './config.js';

export type { GraphAdamWOptions } from '../engine/optim/adamw-graph.js';

/** Additive bias that hides a key: large enough to vanish in softmax, small enough to stay finite in float32. */
export const MASKED = -1e9;

/** Joins the HF names of weights that a fused projection concatenates along their output rows. */
const FUSED_SEPARATOR = '+';

/** The name of the param holding the weights `names` stacked along their output dimension. */
export function fusedParamName(names: readonly string[]): string {
  return names.join(FUSED_SEPARATOR);
}

/**
 * How an inference graph stores its projection weights besides float32: `int8`, each weight
 * matrix quantized symmetrically with one scale per output column, activations quantized per
 * call (ORT's DynamicQuantizeMatMul). Embeddings, norms, attention and the log-softmax stay float32.
 */
export type WeightQuantization = 'int8';
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['int8'];

const INT8_SUFFIX = ':int8';
const SCALE_SUFFIX = ':scale';

/** The params holding weight `name` (an HF name or a fused one) quantized to int8, transposed to [in, out], and its per-column scales. */
export function quantizedParamNames(name: string): { weight: string; scale: string } {
  return { weight: `${name}${INT8_SUFFIX}`, scale: `${name}${SCALE_SUFFIX}` };
}

/**
 * The values an inference graph bakes in: the HF weights, plus every fused param of the graph
 * built by concatenating its parts' [out, in] rows (row-major, so concatenating the arrays is
 * concatenating the rows), plus every quantized param made from its float weight (fused or not).
 */
export function inferenceParams(graph: Graph, weights: ReadonlyMap<string, Float32Array>): Map<string, HostArray> {
  const values = new Map<string, HostArray>(weights);
  const floatWeight = (name: string): Float32Array => {
    const known = weights.get(name);
    if (known !== undefined) return known;
    if (!name.includes(FUSED_SEPARATOR)) throw new Error(`inference graph: no weight '${name}'`);
    const parts = name.split(FUSED_SEPARATOR).map((part) => {
      const value = weights.get(part);
      if (value === undefined) throw new Error(`inference graph: fused param '${name}' needs the missing weight '${part}'`);
      return value;
    });
    const fused = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      fused.set(part, at);
      at += part.length;
    }
    return fused;
  };
  for (const param of graph.params) {
    if (values.has(param.name)) continue;
    const suffix = [INT8_SUFFIX, SCALE_SUFFIX].find((end) => param.name.endsWith(end));
    if (suffix === undefined) {
      if (param.name.includes(FUSED_SEPARATOR)) values.set(param.name, floatWeight(param.name));
      continue;
    }
    const base = param.name.slice(0, -suffix.length);
    // The int8 param is [in, out]; its scale param, [out].
    const int8Param = graph.params.find((p) => p.name === quantizedParamNames(base).weight);
    if (int8Param === undefined) throw new Error(`inference graph: scale param '${param.name}' has no int8 weight beside it`);
    const [inner, out] = int8Param.shape as number[];
    const quantized = quantizeWeightInt8(floatWeight(base), out, inner);
    values.set(quantizedParamNames(base).weight, quantized.weight);
    values.set(quantizedParamNames(base).scale, quantized.scale);
  }
  return values;
}

/** Builds the pieces of one graph: params by name, dropout sites numbered in build order. */
export class T5Builder {
  private readonly params = new Map<string, Tensor>();
  private dropoutSites = 0;

  constructor(
    readonly g: Graph,
    readonly config: T5Config,
    /** uint32 scalar input that fixes every dropout mask; undefined builds without dropout (inference). */
    readonly dropoutSeed?: Tensor,
    /**
     * Inference graphs with weights baked in, shaped for fewer kernels: projections that read
     * the same input (q, k, v; wi_0, wi_1; every decoder layer's cross keys and values) run as
     * one Gemm over their concatenated weights, and RMSNorm takes the form ORT fuses into one
     * kernel. A beam-search decoder step runs ~10 rows, where per-kernel overhead is a large
     * share of the latency. The graph's params then include fused names (see
     * `inferenceParams`), so it cannot take its params as feeds.
     */
    readonly fuseForInference = false,
    /** Projections through int8 weights (inference graphs only, which bake the weights in). */
    readonly quantize?: WeightQuantization,
  ) {
    if (quantize !== undefined && !fuseForInference)
      throw new Error('T5Builder: quantized weights need an inference graph (fuseForInference)');
  }

  /** The graph param `name`, created on first use with its HF shape. */
  param(name: string): Tensor {
    let tensor = this.params.get(name);
    if (tensor === undefined) {
      const spec = t5ParameterSpecs(this.config).find((s) => s.name === name);
      if (spec === undefined) throw new Error(`T5Builder: no parameter '${name}' in this config`);
      tensor = this.g.param(name, spec.shape);
      this.params.set(name, tensor);
    }
    return tensor;
  }

  /** The HF shape [out, in] of parameter `name`. */
  private specShape(name: string): readonly number[] {
    const spec = t5ParameterSpecs(this.config).find((s) => s.name === name);
    if (spec === undefined) throw new Error(`T5Builder: no parameter '${name}' in this config`);
    return spec.shape;
  }

  /** The graph param `name` of the given shape and dtype (fused and quantized params, which have no HF spec), created on first use. */
  private namedParam(name: string, shape: readonly number[], dtype: 'float32' | 'int8' = 'float32'): Tensor {
    let tensor = this.params.get(name);
    if (tensor === undefined) {
      tensor = this.g.param(name, shape, dtype);
      this.params.set(name, tensor);
    }
    return tensor;
  }

  /** x [N, in] times the weight `name` of HF shape [out, in], transposed: [N, out], through int8 when quantizing. */
  private project(x: Tensor, name: string, shape: readonly number[]): Tensor {
    if (this.quantize === undefined) {
      const weight = this.params.get(name) ?? (name.includes(FUSED_SEPARATOR) ? this.namedParam(name, shape) : this.param(name));
      return gemm(x, weight, { transB: true });
    }
    const [out, inner] = shape;
    const names = quantizedParamNames(name);
    return dynamicQuantizeMatMul(x, this.namedParam(names.weight, [inner, out], 'int8'), this.namedParam(names.scale, [out]));
  }

  /**
   * x [N, in] through each HF weight in `names`: one Gemm over the stacked weights when fusing.
   * With `sequences` = [rows, len] (N = rows × len) each result comes as [rows, len, out]: the
   * stacked result is reshaped once and then split, instead of reshaping every part.
   */
  linears(x: Tensor, names: readonly string[], sequences?: readonly [Dim, Dim]): Tensor[] {
    if (!this.fuseForInference || names.length < 2) {
      const parts = names.map((name) => this.linear(x, name));
      return sequences === undefined ? parts : parts.map((part) => reshape(part, [...sequences, part.shape[1]]));
    }
    const shapes = names.map((name) => this.specShape(name));
    const total = shapes.reduce((n, shape) => n + shape[0], 0);
    const y = this.project(x, fusedParamName(names), [total, shapes[0][1]]);
    if (sequences !== undefined)
      return split(
        reshape(y, [...sequences, total]),
        shapes.map((shape) => shape[0]),
        2,
      );
    let start = 0;
    return shapes.map((shape) => {
      const part = slice(y, 1, start, start + shape[0]);
      start += shape[0];
      return part;
    });
  }

  /** Params used so far, in creation order. */
  usedParams(): Tensor[] {
    return [...this.params.values()];
  }

  /** x [N, in] times the HF weight [out, in], transposed: [N, out]. */
  linear(x: Tensor, name: string): Tensor {
    return this.project(x, name, this.specShape(name));
  }

  drop(x: Tensor): Tensor {
    if (this.dropoutSeed === undefined || this.config.dropoutRate === 0) return x;
    this.dropoutSites += 1;
    return dropout(x, this.config.dropoutRate, this.dropoutSeed, this.dropoutSites);
  }

  /** T5's LayerNorm: scale only, no mean subtraction, no bias. */
  rmsNorm(x: Tensor, name: string): Tensor {
    if (this.fuseForInference) {
      // The form ORT's SimplifiedLayerNormalization fusion recognises (Pow, ReduceMean, Add,
      // Sqrt, Div, Mul): one kernel instead of six per norm at inference.
      return mul(div(x, sqrt(add(reduceMean(pow(x, 2), [-1], true), this.config.layerNormEpsilon))), this.param(name));
    }
    const variance = reduceMean(mul(x, x), [-1], true);
    return mul(mul(x, rsqrt(add(variance, this.config.layerNormEpsilon))), this.param(name));
  }

  /** [N, heads*d_kv] → [batch, heads, len, d_kv]. */
  splitHeads(x: Tensor, len: Dim): Tensor {
    return transpose(reshape(x, ['batch', len, this.config.numHeads, this.config.dKv]), [0, 2, 1, 3]);
  }

  /**
   * Cross-attention queries [N, heads*d_kv] → [sources, heads, rows per source × len, d_kv]
   * when the keys hold one row per source and the rows come grouped by source (consecutive,
   * equal groups: a decoder step's hypotheses of several queries), so that each source's keys
   * are read once for its whole group in one matrix product; per row as `splitHeads` when the
   * keys have the rows' own batch.
   */
  splitHeadsBySource(x: Tensor, sources: Dim, len: Dim): Tensor {
    if (sources === 'batch') return this.splitHeads(x, len);
    return transpose(reshape(x, [sources, -1, this.config.numHeads, this.config.dKv]), [0, 2, 1, 3]);
  }

  /** [batch, heads, len, d_kv] → [N, heads*d_kv]. */
  mergeHeads(x: Tensor): Tensor {
    return reshape(transpose(x, [0, 2, 1, 3]), [-1, this.config.numHeads * this.config.dKv]);
  }

  /**
   * Unscaled dot-product attention of queries q [batch, heads, q, d_kv] over keys
   * k [batch, heads, k, d_kv] and values v, with an additive bias broadcast to
   * [batch, heads, q, k]; returns the output projection [N, d_model].
   */
  attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, prefix: string): Tensor {
    const scores = add(matmul(q, transpose(k, [0, 1, 3, 2])), bias);
    const weights = this.drop(softmax(scores, -1));
    return this.linear(this.mergeHeads(matmul(weights, v)), `${prefix}.o.weight`);
  }

  /** Gated-GELU feed-forward (T5 v1.1): wo(dropout(gelu(wi_0 x) * wi_1 x)); ReLU (T5 v1.0): wo(dropout(relu(wi x))). */
  feedForward(x: Tensor, prefix: string): Tensor {
    const ff = `${prefix}.DenseReluDense`;
    if (this.config.feedForward === 'relu') return this.linear(this.drop(relu(this.linear(x, `${ff}.wi.weight`))), `${ff}.wo.weight`);
    const [gate, linear] = this.linears(x, [`${ff}.wi_0.weight`, `${ff}.wi_1.weight`]);
    const hidden = mul(gelu(gate), linear);
    return this.linear(this.drop(hidden), `${ff}.wo.weight`);
  }

  /** Relative position bias [1, heads, q, k] from bucket ids [q, k] (computed on the host). */
  positionBias(buckets: Tensor, stack: 'encoder' | 'decoder'): Tensor {
    const table = this.param(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    return unsqueeze(transpose(gather(table, buckets), [2, 0, 1]), [0]);
  }

  /** [batch, src] mask of 1/0 → additive key bias [batch, 1, 1, src]. */
  maskBias(attentionMask: Tensor): Tensor {
    return unsqueeze(mul(sub(attentionMask, 1), -MASKED), [1, 2]);
  }

  embed(ids: Tensor): Tensor {
    return reshape(gather(this.param('shared.weight'), ids), [-1, this.config.dModel]);
  }

  /** Encoder: token ids [batch, src] → final hidden states [batch*src, d_model]. */
  encoder(inputIds: Tensor, keyBias: Tensor, buckets: Tensor): Tensor {
    const bias = add(this.positionBias(buckets, 'encoder'), keyBias);
    let x = this.drop(this.embed(inputIds));
    for (let i = 0; i < this.config.numLayers; i++) {
      const block = `encoder.block.${i}`;
      const attn = `${block}.layer.0.SelfAttention`;
      const h = this.rmsNorm(x, `${block}.layer.0.layer_norm.weight`);
      const [q, k, v] = this.linears(
        h,
        ['q', 'k', 'v'].map((p) => `${attn}.${p}.weight`),
      ).map((t) => this.splitHeads(t, 'src'));
      x = add(x, this.drop(this.attend(q, k, v, bias, attn)));
      x = add(x, this.drop(this.feedForward(this.rmsNorm(x, `${block}.layer.1.layer_norm.weight`), `${block}.layer.1`)));
    }
    return this.drop(this.rmsNorm(x, 'encoder.final_layer_norm.weight'));
  }

  /** Cross-attention keys and values of decoder block i from encoder states [batch*src, d]. */
  crossKeyValues(memory: Tensor, i: number): [Tensor, Tensor] {
    const attn = `decoder.block.${i}.layer.1.EncDecAttention`;
    return [
      this.splitHeads(this.linear(memory, `${attn}.k.weight`), 'src'),
      this.splitHeads(this.linear(memory, `${attn}.v.weight`), 'src'),
    ];
  }

  /**
   * Decoder over `len` positions: ids [batch, len] → final hidden states [batch*len, d].
   * `selfBias` is [1 or batch, heads, len, keys]; `past` holds cached self-attention keys and
   * values per block ([batch, heads, past, d_kv]) to prepend, and the returned `present`
   * the keys and values including this call's positions.
   */
  decoder(
    ids: Tensor,
    len: Dim,
    selfBias: Tensor,
    crossKV: readonly [Tensor, Tensor][],
    crossBias: Tensor,
    past?: readonly [Tensor, Tensor][],
  ): { hidden: Tensor; present: [Tensor, Tensor][] } {
    let y = this.drop(this.embed(ids));
    const present: [Tensor, Tensor][] = [];
    for (let i = 0; i < this.config.numDecoderLayers; i++) {
      const block = `decoder.block.${i}`;
      const attn = `${block}.layer.0.SelfAttention`;
      const h = this.rmsNorm(y, `${block}.layer.0.layer_norm.weight`);
      const [q, newK, newV] = this.linears(
        h,
        ['q', 'k', 'v'].map((p) => `${attn}.${p}.weight`),
      ).map((t) => this.splitHeads(t, len));
      let k = newK;
      let v = newV;
      if (past) {
        k = concat([past[i][0], k], 2);
        v = concat([past[i][1], v], 2);
      }
      present.push([k, v]);
      y = add(y, this.drop(this.attend(q, k, v, selfBias, attn)));
      const cross = `${block}.layer.1.EncDecAttention`;
      const hc = this.rmsNorm(y, `${block}.layer.1.layer_norm.weight`);
      const qc = this.splitHeadsBySource(this.linear(hc, `${cross}.q.weight`), crossKV[i][0].shape[0], len);
      y = add(y, this.drop(this.attend(qc, crossKV[i][0], crossKV[i][1], crossBias, cross)));
      y = add(y, this.drop(this.feedForward(this.rmsNorm(y, `${block}.layer.2.layer_norm.weight`), `${block}.layer.2`)));
    }
    return { hidden: this.drop(this.rmsNorm(y, 'decoder.final_layer_norm.weight')), present };
  }

  /** The attention settings of the fused kernels: T5 does not scale q·k, and hides keys as `maskBias` does. */
  private get attentionOptions(): MultiHeadAttentionOptions {
    return { heads: this.config.numHeads, scale: 1, maskedValue: MASKED };
  }

  /** [rows*len, heads*d_kv] → [rows, len, heads*d_kv], the layout MultiHeadAttention reads and writes. */
  private toSequences(x: Tensor, rows: Dim, len: Dim): Tensor {
    return reshape(x, [rows, len, this.config.numHeads * this.config.dKv]);
  }

  /** MultiHeadAttention's output [rows, len, heads*d_kv] through the output projection: [tokens, d_model] (tokens = rows × len). */
  private attentionOutput(output: Tensor, tokens: Dim, prefix: string): Tensor {
    return this.linear(reshape(output, [tokens, this.config.numHeads * this.config.dKv]), `${prefix}.o.weight`);
  }

  /**
   * The residual stream of the fused graphs: each sublayer's output is added to the stream by
   * the next norm (SkipSimplifiedLayerNormalization: the add and the RMS norm in one kernel), so
   * `norm` returns the normed stream and keeps the sum as the new stream.
   */
  private residualStream(start: Tensor): { norm: (name: string) => Tensor; add: (delta: Tensor) => void } {
    let stream = start;
    let pending: Tensor | undefined;
    return {
      norm: (name) => {
        if (pending === undefined) return this.rmsNorm(stream, name);
        const { normed, sum } = skipRmsNorm(pending, stream, this.param(name), this.config.layerNormEpsilon);
        stream = sum;
        pending = undefined;
        return normed;
      },
      add: (delta) => {
        if (pending !== undefined) throw new Error('T5Builder: two sublayer outputs without a norm between them');
        pending = delta;
      },
    };
  }

  /**
   * `encoder` with ORT's com.microsoft fused kernels, for inference graphs (no dropout; CPU
   * provider): each attention is one MultiHeadAttention node (the position bias and the 1/0
   * int32 `paddingMask` [batch, src] are its inputs) and each residual add with the next norm
   * one SkipSimplifiedLayerNormalization node.
   */
  fusedEncoder(inputIds: Tensor, paddingMask: Tensor, buckets: Tensor): Tensor {
    const bias = this.positionBias(buckets, 'encoder');
    const embedded = this.embed(inputIds);
    const tokens = embedded.shape[0];
    const residual = this.residualStream(embedded);
    for (let i = 0; i < this.config.numLayers; i++) {
      const block = `encoder.block.${i}`;
      const attn = `${block}.layer.0.SelfAttention`;
      const [q, key, value] = this.linears(
        residual.norm(`${block}.layer.0.layer_norm.weight`),
        ['q', 'k', 'v'].map((p) => `${attn}.${p}.weight`),
        ['batch', 'src'],
      );
      const { output } = multiHeadAttention(q, { key, value, bias, keyPaddingMask: paddingMask }, this.attentionOptions);
      residual.add(this.attentionOutput(output, tokens, attn));
      residual.add(this.feedForward(residual.norm(`${block}.layer.1.layer_norm.weight`), `${block}.layer.1`));
    }
    return residual.norm('encoder.final_layer_norm.weight');
  }

  /**
   * `decoder` over cached positions with ORT's com.microsoft fused kernels, for inference
   * graphs: self-attention and its cache in one MultiHeadAttention node, cross-attention in
   * another that reads each source's keys [sources, heads, src, d_kv] once for its group of
   * rows (the group is the node's query sequence; `crossPaddingMask` is the sources' 1/0 int32
   * mask), and residual adds fused with the next norm.
   */
  fusedDecoder(
    ids: Tensor,
    len: Dim,
    selfBias: Tensor,
    crossKV: readonly [Tensor, Tensor][],
    crossPaddingMask: Tensor,
    past: readonly [Tensor, Tensor][],
  ): { hidden: Tensor; present: [Tensor, Tensor][] } {
    const embedded = this.embed(ids);
    const tokens = embedded.shape[0];
    const residual = this.residualStream(embedded);
    const present: [Tensor, Tensor][] = [];
    for (let i = 0; i < this.config.numDecoderLayers; i++) {
      const block = `decoder.block.${i}`;
      const attn = `${block}.layer.0.SelfAttention`;
      const [q, key, value] = this.linears(
        residual.norm(`${block}.layer.0.layer_norm.weight`),
        ['q', 'k', 'v'].map((p) => `${attn}.${p}.weight`),
        ['batch', len],
      );
      const self = multiHeadAttention(q, { key, value, bias: selfBias, past: past[i] }, this.attentionOptions);
      if (self.present === undefined) throw new Error('T5Builder: self-attention with a past returns its cache');
      present.push(self.present);
      residual.add(this.attentionOutput(self.output, tokens, attn));
      const cross = `${block}.layer.1.EncDecAttention`;
      const [crossKeys, crossValues] = crossKV[i];
      const qc = this.toSequences(
        this.linear(residual.norm(`${block}.layer.1.layer_norm.weight`), `${cross}.q.weight`),
        crossKeys.shape[0],
        -1,
      );
      const { output } = multiHeadAttention(
        qc,
        { key: crossKeys, value: crossValues, keyPaddingMask: crossPaddingMask },
        this.attentionOptions,
      );
      residual.add(this.attentionOutput(output, tokens, cross));
      residual.add(this.feedForward(residual.norm(`${block}.layer.2.layer_norm.weight`), `${block}.layer.2`));
    }
    return { hidden: residual.norm('decoder.final_layer_norm.weight'), present };
  }

  /**
   * The lexical head's term [rows, vocab], or undefined when the config has no lexical head:
   * 0 for text tokens; for docid token k, lexicalHeadScale × the mean of lexical_head.weight[t, k]
   * over the unmasked source tokens t. `rows` names the source rows' dim.
   */
  lexicalBias(inputIds: Tensor, attentionMask: Tensor, rows: Dim = 'batch'): Tensor | undefined {
    if (!this.config.lexicalHead) return undefined;
    return bagOfWordsBias(
      this.param(LEXICAL_HEAD_WEIGHT),
      inputIds,
      attentionMask,
      this.config.lexicalHeadScale,
      this.config.vocabSize,
      rows,
    );
  }

  /** Logits [rows*len, vocab] with the lexical bias [rows, vocab] added at each of the len positions (unchanged without one). */
  withLexicalBias(logits: Tensor, bias: Tensor | undefined, rows: Dim, len: Dim): Tensor {
    if (bias === undefined) return logits;
    const vocab = totalVocabSize(this.config);
    return reshape(add(reshape(logits, [rows, len, vocab]), unsqueeze(bias, [1])), [-1, vocab]);
  }

  /** Output logits [N, vocab] from decoder states [N, d]; a tied head scales by d^-1/2 as T5 does. */
  logits(hidden: Tensor): Tensor {
    if (this.config.tieWordEmbeddings)
      return this.project(mul(hidden, this.config.dModel ** -0.5), 'shared.weight', this.specShape('shared.weight'));
    return this.linear(hidden, 'lm_head.weight');
  }
}

/**
 * The lexical head's term [rows, textVocab + docids] from its table [textVocab, docids], source
 * ids [rows, src] and their 1/0 mask: `scale` × the mean of the table's rows over the unmasked
 * tokens, in the docid columns; 0 in the text columns.
 */
export function bagOfWordsBias(
  table: Tensor,
  inputIds: Tensor,
  attentionMask: Tensor,
  scale: number,
  textVocab: number,
  rows: Dim,
): Tensor {
  const summed = reduceSum(mul(gather(table, inputIds), unsqueeze(attentionMask, [2])), [1]);
  // A row with no unmasked token (never made by genir's batches) gets 0, not NaN.
  const tokens = maximum(reduceSum(attentionMask, [1], true), 1);
  const docidPart = mul(div(summed, tokens), scale);
  const textPart = expand(table.graph.zeros([1, textVocab], table.dtype), [rows, textVocab]);
  return concat([textPart, docidPart], 1);
}

/** Graph inputs shared by the teacher-forced graphs. */
interface TeacherForcedInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  decoderInputIds: Tensor;
  labels: Tensor;
  encoderBuckets: Tensor;
  decoderBuckets: Tensor;
  causalBias: Tensor;
}

function teacherForcedInputs(g: Graph): TeacherForcedInputs {
  return {
    inputIds: g.input('input_ids', 'int64', ['batch', 'src']),
    attentionMask: g.input('attention_mask', 'float32', ['batch', 'src']),
    decoderInputIds: g.input('decoder_input_ids', 'int64', ['batch', 'tgt']),
    labels: g.input('labels', 'int64', ['batch', 'tgt']),
    encoderBuckets: g.input('encoder_position_buckets', 'int64', ['src', 'src']),
    decoderBuckets: g.input('decoder_position_buckets', 'int64', ['tgt', 'tgt']),
    causalBias: g.input('decoder_causal_bias', 'float32', ['tgt', 'tgt']),
  };
}

/** Forward pass of the whole model under teacher forcing: logits [batch*tgt, vocab] and the encoder's states [batch*src, d]. */
function teacherForced(b: T5Builder, inputs: TeacherForcedInputs): { logits: Tensor; memory: Tensor } {
  const keyBias = b.maskBias(inputs.attentionMask);
  const memory = b.encoder(inputs.inputIds, keyBias, inputs.encoderBuckets);
  const crossKV = Array.from({ length: b.config.numDecoderLayers }, (_, i) => b.crossKeyValues(memory, i));
  const selfBias = add(b.positionBias(inputs.decoderBuckets, 'decoder'), inputs.causalBias);
  const { hidden } = b.decoder(inputs.decoderInputIds, 'tgt', selfBias, crossKV, keyBias);
  const logits = b.withLexicalBias(b.logits(hidden), b.lexicalBias(inputs.inputIds, inputs.attentionMask), 'batch', 'tgt');
  return { logits, memory };
}

/**
 * The training step: outputs `loss` (mean cross-entropy over target tokens whose label is
 * not -100) and `grad.<name>` for every parameter. Inputs: those of teacherForcedInputs
 * plus `dropout_seed` (uint32 scalar) when the config has dropout.
 */
export function buildTrainingGraph(config: T5Config, loss: TrainingLossOptions = {}): Graph {
  const { g, params, grads } = lossAndGradientsGraph(config, 't5-train', loss);
  params.forEach((param, i) => g.output(`grad.${param.name}`, grads[i]));
  return g;
}

/** How the training graphs' loss is computed (the forward pass is the model's). */
export interface TrainingLossOptions {
  /** Label smoothing ε of the token cross-entropy (default 0: none). */
  labelSmoothing?: number;
}

function lossAndGradientsGraph(
  config: T5Config,
  name: string,
  lossOptions: TrainingLossOptions,
): { g: Graph; params: Tensor[]; grads: Tensor[] } {
  const g = new Graph(name);
  const inputs = teacherForcedInputs(g);
  const seed = config.dropoutRate > 0 ? g.input('dropout_seed', 'uint32', []) : undefined;
  const b = new T5Builder(g, config, seed);
  const { logits } = teacherForced(b, inputs);
  const loss = crossEntropy(logits, reshape(inputs.labels, [-1]), { ignoreIndex: -100, labelSmoothing: lossOptions.labelSmoothing });
  g.output('loss', loss);
  const params = t5ParameterSpecs(config).map((spec) => b.param(spec.name));
  return { g, params, grads: gradients(loss, params) };
}

/**
 * The training step with global-norm clipping and the AdamW update inside the graph (the
 * alternative to the TypeScript optimizer loop; docs/training.md says which is faster): the
 * loss-and-gradients graph with engine/optim/adamw-graph.ts's update appended (its inputs and
 * outputs are listed there).
 */
export function buildFusedAdamWTrainingGraph(config: T5Config, adam: GraphAdamWOptions, loss: TrainingLossOptions = {}): Graph {
  const { g, params, grads } = lossAndGradientsGraph(config, 't5-train-adamw', loss);
  appendAdamWUpdate(g, params, grads, adam);
  return g;
}

/**
 * The teacher-forced forward pass without dropout, for checking a model against another
 * implementation: `logits` [batch, tgt, vocab] and `encoder_hidden` [batch, src, d_model]
 * (inputs as teacherForcedInputs; `labels` is not read).
 */
export function buildTeacherForcedLogitsGraph(config: T5Config): Graph {
  const g = new Graph('t5-logits');
  const inputs = teacherForcedInputs(g);
  const { logits, memory } = teacherForced(new T5Builder(g, config), inputs);
  g.output('logits', reshape(logits, ['batch', 'tgt', totalVocabSize(config)]));
  g.output('encoder_hidden', reshape(memory, ['batch', 'src', config.dModel]));
  return g;
}

/**
 * Teacher-forced scoring (no dropout): `sequence_log_prob` [batch], the summed log-probability
 * of each row's labels (positions labelled -100 add nothing); also `loss` as in training.
 */
export function buildScoringGraph(config: T5Config): Graph {
  const g = new Graph('t5-score');
  const inputs = teacherForcedInputs(g);
  const b = new T5Builder(g, config);
  const logits = reshape(teacherForced(b, inputs).logits, ['batch', 'tgt', totalVocabSize(config)]);
  g.output('sequence_log_prob', sequenceLogProb(logits, inputs.labels, -100));
  return g;
}

/**
 * The encoder for generation: `encoder_hidden` [batch, src, d] and, for each decoder block
 * i, the cross-attention keys and values `cross_k.i` / `cross_v.i` [batch, heads, src, d_kv]
 * that every decoder step reuses; with a lexical head also `lexical_bias` [batch, vocab],
 * which every decoder step adds to its logits.
 */
export function buildEncoderGraph(config: T5Config, options: InferenceGraphOptions = {}): Graph {
  const fuse = options.fuseForInference ?? false;
  const g = new Graph(`${fuse ? 't5-encoder-fused' : 't5-encoder'}${options.quantize ? `-${options.quantize}` : ''}`);
  const inputIds = g.input('input_ids', 'int64', ['batch', 'src']);
  const attentionMask = g.input('attention_mask', 'float32', ['batch', 'src']);
  const buckets = g.input('encoder_position_buckets', 'int64', ['src', 'src']);
  const b = new T5Builder(g, config, undefined, fuse, options.quantize);
  const memory =
    fuse && (options.fusedKernels ?? true)
      ? b.fusedEncoder(inputIds, cast(attentionMask, 'int32'), buckets)
      : b.encoder(inputIds, b.maskBias(attentionMask), buckets);
  g.output('encoder_hidden', reshape(memory, ['batch', 'src', config.dModel]));
  const lexicalBias = b.lexicalBias(inputIds, attentionMask);
  if (lexicalBias !== undefined) g.output('lexical_bias', lexicalBias);
  const layers = Array.from({ length: config.numDecoderLayers }, (_, i) => i);
  if (fuse) {
    // Every decoder layer's cross keys and values in one Gemm over the encoder states.
    const names = layers.flatMap((i) => ['k', 'v'].map((p) => `decoder.block.${i}.layer.1.EncDecAttention.${p}.weight`));
    const projected = b.linears(memory, names).map((t) => b.splitHeads(t, 'src'));
    for (const i of layers) {
      g.output(`cross_k.${i}`, projected[2 * i]);
      g.output(`cross_v.${i}`, projected[2 * i + 1]);
    }
    return g;
  }
  for (const i of layers) {
    const [k, v] = b.crossKeyValues(memory, i);
    g.output(`cross_k.${i}`, k);
    g.output(`cross_v.${i}`, v);
  }
  return g;
}

/** Options of the inference graphs (encoder, decoder step). */
export interface InferenceGraphOptions {
  /** Fuse projections that share an input (weights must then be baked in with `inferenceParams`). */
  fuseForInference?: boolean;
  /** Weights quantized this way (needs `fuseForInference`); float32 when undefined. */
  quantize?: WeightQuantization;
  /**
   * With `fuseForInference`: attention (with its cache) and each residual add with the norm
   * after it as ORT's com.microsoft fused kernels, MultiHeadAttention and
   * SkipSimplifiedLayerNormalization (default true). False builds them from standard ONNX ops
   * as the graphs exported before 2026-12-07 were; they have the same inputs, outputs and
   * weights, so model directories of either kind load.
   */
  fusedKernels?: boolean;
  /**
   * Decoder step only: the log-probabilities of the columns named by an `output_columns` input
   * (`column_log_probs` [batch, columns]) and the new position's cache entries (`new_k.i` /
   * `new_v.i` [batch, heads, 1, d_kv]) instead of the whole vocabulary and the whole cache.
   * Same values; onnxruntime-node copies every output into a new JavaScript buffer (even into
   * a preallocated one), and at search's batch sizes those copies and their garbage collection
   * cost a fifth of the CPU (docs/benchmarks.md). Graphs exported before 2026-12-07 (session
   * 10) have the whole outputs; both kinds load.
   */
  compactOutputs?: boolean;
}

/** The decoder step's name for the batch dim of its source inputs (cross keys/values, mask, lexical bias). */
export const DECODER_STEP_SOURCES_DIM = 'sources';

/**
 * One decoder step for a batch of hypotheses: the next-token `log_probs` [batch, vocab] and
 * the self-attention cache `present_k.i` / `present_v.i` [batch, heads, past+1, d_kv] (with
 * `compactOutputs`: `column_log_probs` [batch, columns] of the `output_columns` input's token
 * ids, and the new position `new_k.i` / `new_v.i` [batch, heads, 1, d_kv]).
 * Inputs: `decoder_input_ids` [batch, 1] (the last token of each hypothesis), the cache
 * `past_k.i` / `past_v.i` [batch, heads, past, d_kv] (past may be 0), the encoder's
 * `cross_k.i` / `cross_v.i` [sources, heads, src, d_kv], `attention_mask` [sources, src] and
 * `decoder_position_buckets` [1, past+1] (buckets of the new position against every key).
 * With a lexical head, also the encoder's `lexical_bias` [sources, vocab], added to the logits.
 * The hypotheses come grouped by the source they decode, in equal consecutive groups
 * (batch = sources × rows per source): one row per hypothesis, a single source that every
 * hypothesis shares (beam search over one query), or the several queries of a batched beam
 * search with the same number of live hypotheses each. Each source's keys and values are then
 * read once per group instead of being copied once per hypothesis.
 */
export function buildDecoderStepGraph(config: T5Config, options: InferenceGraphOptions = {}): Graph {
  const g = new Graph(`t5-decoder-step${options.fuseForInference ? '-fused' : ''}${options.quantize ? `-${options.quantize}` : ''}`);
  const sources = DECODER_STEP_SOURCES_DIM;
  const ids = g.input('decoder_input_ids', 'int64', ['batch', 1]);
  const attentionMask = g.input('attention_mask', 'float32', [sources, 'src']);
  const buckets = g.input('decoder_position_buckets', 'int64', [1, 'past+1']);
  const headShape = (batch: Dim, len: string) => [batch, config.numHeads, len, config.dKv];
  const past: [Tensor, Tensor][] = [];
  const crossKV: [Tensor, Tensor][] = [];
  for (let i = 0; i < config.numDecoderLayers; i++) {
    past.push([
      g.input(`past_k.${i}`, 'float32', headShape('batch', 'past')),
      g.input(`past_v.${i}`, 'float32', headShape('batch', 'past')),
    ]);
    crossKV.push([
      g.input(`cross_k.${i}`, 'float32', headShape(sources, 'src')),
      g.input(`cross_v.${i}`, 'float32', headShape(sources, 'src')),
    ]);
  }
  const fuse = options.fuseForInference ?? false;
  const b = new T5Builder(g, config, undefined, fuse, options.quantize);
  const selfBias = b.positionBias(buckets, 'decoder');
  const { hidden, present } =
    fuse && (options.fusedKernels ?? true)
      ? b.fusedDecoder(ids, 1, selfBias, crossKV, cast(attentionMask, 'int32'), past)
      : b.decoder(ids, 1, selfBias, crossKV, b.maskBias(attentionMask), past);
  let logits = b.logits(hidden);
  if (config.lexicalHead) {
    const vocab = totalVocabSize(config);
    const bias = g.input('lexical_bias', 'float32', [sources, vocab]);
    logits = reshape(add(reshape(logits, [sources, -1, vocab]), unsqueeze(bias, [1])), [-1, vocab]);
  }
  if (options.compactOutputs) {
    const columns = g.input('output_columns', 'int64', ['columns']);
    g.output('column_log_probs', gather(logSoftmax(logits, -1), columns, 1));
    const newest = (t: Tensor) => reshape(slice(t, 2, -1), [-1, config.numHeads, 1, config.dKv]);
    present.forEach(([k, v], i) => {
      g.output(`new_k.${i}`, newest(k));
      g.output(`new_v.${i}`, newest(v));
    });
    return g;
  }
  g.output('log_probs', logSoftmax(logits, -1));
  present.forEach(([k, v], i) => {
    g.output(`present_k.${i}`, k);
    g.output(`present_v.${i}`, v);
  });
  return g;
}
