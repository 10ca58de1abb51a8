/**
 * Teacher-forced scoring of grouped rows: the encoder runs once per query and the decoder over
 * every target row of that query (its candidates), with the query's encoder output picked by a
 * Gather. Used to score candidate docids (reference log-probabilities, model-mined negatives)
 * and, by the rank-training graphs (src/train/methods/rank), to train on whole docids.
 *
 * Dim names: `queries` and `src` on the encoder side, `batch` (target rows) and `tgt` on the
 * decoder side.
 */
import {
  Graph,
  Session,
  exportModel,
  type Dim,
  type HostTensor,
  type Tensor,
  add,
  gather,
  reshape,
  sequenceLogProb,
  transpose,
} from '../engine/index.js';
import type { BatchTokens } from './batch.js';
import { totalVocabSize, type T5Config } from './config.js';
import { makePreferenceBatch, type PreferenceBatch, type PreferenceGroup } from './grouped-batch.js';
import { PositionInputs, type T5Model } from './t5.js';
import { T5Builder } from './t5-graph.js';

/** A T5Builder whose encoder-side attention reshapes use the `queries` dim instead of `batch`. */
export class GroupedT5Builder extends T5Builder {
  override splitHeads(x: Tensor, len: Dim): Tensor {
    const rows: Dim = len === 'src' ? 'queries' : 'batch';
    return transpose(reshape(x, [rows, len, this.config.numHeads, this.config.dKv]), [0, 2, 1, 3]);
  }
}

export interface GroupedInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  rowQuery: Tensor;
  decoderInputIds: Tensor;
  labels: Tensor;
  encoderBuckets: Tensor;
  decoderBuckets: Tensor;
  causalBias: Tensor;
}

export function groupedInputs(g: Graph): GroupedInputs {
  return {
    inputIds: g.input('input_ids', 'int64', ['queries', 'src']),
    attentionMask: g.input('attention_mask', 'float32', ['queries', 'src']),
    rowQuery: g.input('row_query', 'int64', ['batch']),
    decoderInputIds: g.input('decoder_input_ids', 'int64', ['batch', 'tgt']),
    labels: g.input('labels', 'int64', ['batch', 'tgt']),
    encoderBuckets: g.input('encoder_position_buckets', 'int64', ['src', 'src']),
    decoderBuckets: g.input('decoder_position_buckets', 'int64', ['tgt', 'tgt']),
    causalBias: g.input('decoder_causal_bias', 'float32', ['tgt', 'tgt']),
  };
}

/** Summed label log-probability of every target row, [batch], with one encoder pass per query. */
export function groupedSequenceLogProb(b: GroupedT5Builder, inputs: GroupedInputs): Tensor {
  return sequenceLogProb(groupedLogits(b, inputs), inputs.labels, -100);
}

/** Decoder logits [batch, tgt, vocab] of every target row, with one encoder pass per query. */
export function groupedLogits(b: GroupedT5Builder, inputs: GroupedInputs): Tensor {
  const keyBias = b.maskBias(inputs.attentionMask);
  const memory = b.encoder(inputs.inputIds, keyBias, inputs.encoderBuckets);
  const crossKV = Array.from({ length: b.config.numDecoderLayers }, (_, i): [Tensor, Tensor] => {
    const [k, v] = b.crossKeyValues(memory, i);
    return [gather(k, inputs.rowQuery), gather(v, inputs.rowQuery)];
  });
  const crossBias = gather(keyBias, inputs.rowQuery);
  const selfBias = add(b.positionBias(inputs.decoderBuckets, 'decoder'), inputs.causalBias);
  const { hidden } = b.decoder(inputs.decoderInputIds, 'tgt', selfBias, crossKV, crossBias);
  const queryBias = b.lexicalBias(inputs.inputIds, inputs.attentionMask, 'queries');
  const logits = b.withLexicalBias(
    b.logits(hidden),
    queryBias === undefined ? undefined : gather(queryBias, inputs.rowQuery),
    'batch',
    'tgt',
  );
  return reshape(logits, ['batch', 'tgt', totalVocabSize(b.config)]);
}

/**
 * Teacher-forced scoring of grouped rows: `sequence_log_prob` [batch]. Equals the model's
 * scoring graph on the same (query, target) pairs, with the encoder run once per query.
 */
export function buildGroupedScoringGraph(config: T5Config): Graph {
  const g = new Graph('t5-grouped-score');
  const b = new GroupedT5Builder(g, config);
  g.output('sequence_log_prob', groupedSequenceLogProb(b, groupedInputs(g)));
  return g;
}

export function groupedFeeds(batch: PreferenceBatch, positions: PositionInputs): Record<string, HostTensor> {
  return {
    input_ids: { data: batch.inputIds, dims: [batch.queries, batch.sourceLength] },
    attention_mask: { data: batch.attentionMask, dims: [batch.queries, batch.sourceLength] },
    row_query: { data: batch.rowQuery, dims: [batch.rows] },
    decoder_input_ids: { data: batch.decoderInputIds, dims: [batch.rows, batch.targetLength] },
    labels: { data: batch.labels, dims: [batch.rows, batch.targetLength] },
    encoder_position_buckets: positions.encoder(batch.sourceLength),
    decoder_position_buckets: positions.decoder(batch.targetLength),
    decoder_causal_bias: positions.causal(batch.targetLength),
  };
}

export interface GroupedScorerOptions {
  threads?: number;
  /** Target rows per graph run (default 512); groups are never split across runs. */
  rowsPerRun?: number;
}

/**
 * Teacher-forced log-probabilities of many (query, docid) rows, grouped by query so the
 * encoder runs once per query. The weights are baked into the graph at creation (a frozen
 * model, e.g. the SFT reference).
 */
export class GroupedScorer {
  private readonly positions: PositionInputs;

  private constructor(
    readonly config: T5Config,
    private readonly session: Session,
    private readonly options: GroupedScorerOptions,
  ) {
    this.positions = new PositionInputs(config);
  }

  static async create(model: T5Model, options: GroupedScorerOptions = {}): Promise<GroupedScorer> {
    const session = await Session.create(exportModel(buildGroupedScoringGraph(model.config), { params: model.weights() }), {
      threads: options.threads,
    });
    return new GroupedScorer(model.config, session, options);
  }

  /** Summed log-probability of every target of every group (targets without EOS; EOS is scored too). */
  async score(
    groups: readonly Pick<PreferenceGroup, 'source' | 'targets'>[],
    tokens: BatchTokens,
    onProgress?: (groupsDone: number) => void,
  ): Promise<number[][]> {
    const rowsPerRun = this.options.rowsPerRun ?? 512;
    const out: number[][] = [];
    // Groups of similar size run together so little is padded.
    const order = groups
      .map((_, i) => i)
      .sort((a, b) => groups[a].targets.length - groups[b].targets.length || groups[a].source.length - groups[b].source.length);
    const results = new Array<number[]>(groups.length);
    let start = 0;
    while (start < order.length) {
      let end = start + 1;
      let largest = groups[order[start]].targets.length;
      while (end < order.length) {
        const size = Math.max(largest, groups[order[end]].targets.length);
        if (size * (end - start + 1) > rowsPerRun) break;
        largest = size;
        end++;
      }
      const chunk = order.slice(start, end).map((i) => ({ source: groups[i].source, targets: groups[i].targets, pairs: [] }));
      const batch = makePreferenceBatch(chunk, tokens);
      const result = await this.session.run(groupedFeeds(batch, this.positions));
      const scores = result.sequence_log_prob.data as Float32Array;
      order.slice(start, end).forEach((groupIndex, q) => {
        results[groupIndex] = Array.from({ length: groups[groupIndex].targets.length }, (_, j) => scores[q * batch.groupSize + j]);
      });
      onProgress?.(end);
      start = end;
    }
    out.push(...results);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
