/**
 * The dense retriever's training step as one graph: both encoder passes (queries and
 * passages, with their own lengths), the InfoNCE loss and the gradient of every parameter.
 */
import { Graph, type Tensor, gradients } from '../engine/index.js';
import type { T5Config } from './config.js';
import { DenseBuilder, LOGIT_SCALE_PARAM, encoderParameterSpecs } from './dense-graph.js';
import { infoNceLoss } from './dense-loss.js';

/** The softmax temperature of the contrastive loss: a fixed value, or learned from an initial value. */
export type DenseTemperature = { kind: 'fixed'; value: number } | { kind: 'learned'; initial: number };

/**
 * The training step: InfoNCE of each query against every passage of the batch (its positive,
 * the other queries' positives and the hard negatives). Inputs: `query_ids`, `query_mask`
 * [queries, qlen], `query_position_buckets` [qlen, qlen]; `doc_ids`, `doc_mask` [docs, dlen],
 * `doc_position_buckets` [dlen, dlen]; `targets` int64 [queries] (the positive's row among
 * the passages); `candidate_bias` [queries, docs] (0, or MASKED for a passage that is
 * relevant to the query but is not its target, so a false negative is not pushed away); and
 * `dropout_seed` when the config has dropout. Outputs: `loss`, `accuracy` (share of queries
 * whose positive scores highest) and `grad.<name>` for every parameter: the encoder's, then
 * the logit scale when the temperature is learned.
 */
export function buildDenseTrainingGraph(config: T5Config, temperature: DenseTemperature): Graph {
  const g = new Graph('dense-train');
  const queryIds = g.input('query_ids', 'int64', ['queries', 'qlen']);
  const queryMask = g.input('query_mask', 'float32', ['queries', 'qlen']);
  const queryBuckets = g.input('query_position_buckets', 'int64', ['qlen', 'qlen']);
  const docIds = g.input('doc_ids', 'int64', ['docs', 'dlen']);
  const docMask = g.input('doc_mask', 'float32', ['docs', 'dlen']);
  const docBuckets = g.input('doc_position_buckets', 'int64', ['dlen', 'dlen']);
  const targets = g.input('targets', 'int64', ['queries']);
  const bias = g.input('candidate_bias', 'float32', ['queries', 'docs']);
  const seed = config.dropoutRate > 0 ? g.input('dropout_seed', 'uint32', []) : undefined;
  const b = new DenseBuilder(g, config, seed);
  const queries = b.encode(queryIds, queryMask, queryBuckets, 'queries', 'qlen');
  const passages = b.encode(docIds, docMask, docBuckets, 'docs', 'dlen');
  const params: Tensor[] = encoderParameterSpecs(config).map((spec) => b.param(spec.name));
  let result;
  if (temperature.kind === 'learned') {
    const logScale = g.param(LOGIT_SCALE_PARAM, [1]);
    params.push(logScale);
    result = infoNceLoss(queries, passages, targets, bias, { logScale });
  } else {
    result = infoNceLoss(queries, passages, targets, bias, { scale: 1 / temperature.value });
  }
  g.output('loss', result.loss);
  g.output('accuracy', result.accuracy);
  gradients(result.loss, params).forEach((grad, i) => g.output(`grad.${params[i].name}`, grad));
  return g;
}
