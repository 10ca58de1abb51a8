/**
 * The dense dual encoder as ONNX graphs: genir's T5 encoder (the same blocks as the
 * seq2seq model, from T5Builder) followed by mean pooling over the real tokens and L2
 * normalisation. Queries and passages share every weight; a marker token at the start of
 * the input tells them apart (see dense.ts).
 *
 * The training graph encodes a batch of queries and a batch of passages of different
 * lengths in one run, so it names the rows and lengths of each pass separately
 * (`queries`/`qlen`, `docs`/`dlen`); the inference graph uses `batch`/`src`.
 */
import { type Dim, Graph, type Tensor, add, div, maximum, mul, reduceSum, reshape, rsqrt, transpose, unsqueeze } from '../engine/index.js';
import { t5ParameterSpecs, type ParameterSpec, type T5Config } from './config.js';
import { T5Builder } from './t5-graph.js';

/** The name of the learned log inverse temperature (CLIP's logit scale). */
export const LOGIT_SCALE_PARAM = 'dense.logit_scale';

/** Added to the squared norm before the reciprocal square root: keeps an all-zero vector finite. */
const NORM_EPSILON = 1e-12;

/** The parameters an encoder-only model has: the shared embedding and the encoder stack, HF T5 names and order. */
export function encoderParameterSpecs(config: T5Config): ParameterSpec[] {
  return t5ParameterSpecs(config).filter((spec) => spec.name === 'shared.weight' || spec.name.startsWith('encoder.'));
}

/** A T5Builder whose attention reshapes use the rows and length names of the pass being built. */
export class DenseBuilder extends T5Builder {
  private rows: Dim = 'batch';
  private length: Dim = 'src';

  /** Encodes one pass (ids and 1/0 mask [rows, len], buckets [len, len]) to unit vectors [rows, d_model]. */
  encode(ids: Tensor, mask: Tensor, buckets: Tensor, rows: Dim, length: Dim): Tensor {
    this.rows = rows;
    this.length = length;
    const hidden = this.encoder(ids, this.maskBias(mask), buckets);
    return meanPoolNormalize(hidden, mask, this.config.dModel);
  }

  override splitHeads(x: Tensor): Tensor {
    return transpose(reshape(x, [this.rows, this.length, this.config.numHeads, this.config.dKv]), [0, 2, 1, 3]);
  }
}

/**
 * Mean of the hidden states [rows*len, d] over the positions whose mask [rows, len] is 1,
 * scaled to unit length: [rows, d]. A row without any real token stays (close to) zero.
 */
export function meanPoolNormalize(hidden: Tensor, mask: Tensor, dModel: number): Tensor {
  const states = reshape(hidden, [mask.shape[0], mask.shape[1], dModel]);
  const summed = reduceSum(mul(states, unsqueeze(mask, [2])), [1]);
  const mean = div(summed, maximum(reduceSum(mask, [1], true), 1));
  return mul(mean, rsqrt(add(reduceSum(mul(mean, mean), [1], true), NORM_EPSILON)));
}

/** Inference: `input_ids`, `attention_mask` [batch, src], `encoder_position_buckets` [src, src] → `embedding` [batch, d_model], unit length. */
export function buildDenseEncoderGraph(config: T5Config, options: { fuseForInference?: boolean } = {}): Graph {
  const fuse = options.fuseForInference ?? false;
  const g = new Graph(fuse ? 'dense-encoder-fused' : 'dense-encoder');
  const ids = g.input('input_ids', 'int64', ['batch', 'src']);
  const mask = g.input('attention_mask', 'float32', ['batch', 'src']);
  const buckets = g.input('encoder_position_buckets', 'int64', ['src', 'src']);
  const b = new DenseBuilder(g, config, undefined, fuse);
  g.output('embedding', b.encode(ids, mask, buckets, 'batch', 'src'));
  return g;
}
