/**
 * Graphs for training on whole docid sequences (DDRO's pairwise step, LTRGR's rank losses):
 * the encoder runs once per query, and the decoder over every target row (a query's
 * positive and its negatives) with that query's encoder output picked by a Gather.
 *
 * Dim names: `queries` and `src` on the encoder side, `batch` (target rows) and `tgt` on the
 * decoder side. The cross-attention keys and values are projected once per query and then
 * gathered per row (`row_query`), so neither the encoder nor the K/V projections repeat for
 * a query's negatives. Teacher forcing, no dropout (TRL's DPO trainer disables dropout too).
 */
import { Graph, type Tensor, add, crossEntropy, gradients, mul, neg, reduceSum } from '../../../engine/index.js';
import { t5ParameterSpecs, type T5Config } from '../../../model/config.js';
import { GroupedT5Builder, groupedInputs, groupedLogits, groupedSequenceLogProb } from '../../../model/grouped.js';
import { dpoLoss, generationLoss, type RowPairs } from './loss.js';
import { listwiseLoss, marginMseLoss, marginRankLoss, prefixMarginMseLoss, prefixMarginRankLoss } from './ltrgr-loss.js';

/** The rank term of the objective. */
export type RankObjective =
  /** DDRO / DPO: −log σ(β·[(π⁺ − ref⁺) − (π⁻ − ref⁻)]) per (positive, negative) pair. */
  | { kind: 'dpo'; beta: number }
  /**
   * LTRGR: max(0, S⁻ − S⁺ + margin) per pair. With `prefixLengths` (RIPOR's prefix-oriented
   * loss) the margin loss also applies to the docids' prefixes of those lengths, with the
   * margin scaled by prefix length / longest docid (see prefixMarginRankLoss).
   */
  | { kind: 'margin'; margin: number; prefixLengths?: readonly number[] }
  /**
   * RIPOR's relevance-based loss (MarginMSE): (S⁺ − S⁻ − t)² per pair, t the teacher's margin
   * in nats; with `prefixLengths` also on the prefixes, t scaled by the prefix's share.
   */
  | { kind: 'margin-mse'; prefixLengths?: readonly number[] }
  /** Softmax cross-entropy of the positive over its group (ListNet with a one-hot target). */
  | { kind: 'listwise'; temperature: number };

export interface PreferenceObjective {
  rank: RankObjective;
  /** Weight of the generation (token cross-entropy) loss on the positives: LTRGR's λ, DDRO's optional SFT mix; 0 leaves it out. */
  generationWeight: number;
  /**
   * Weight of the rank term (default 1). 0 with a generation weight > 0 is the equal-compute
   * control: the same batches and optimizer, trained on the positives' cross-entropy alone (the
   * rank loss is still computed and logged, but sends no gradient).
   */
  rankWeight?: number;
}

/** Whether the rank term also scores docid prefixes (RIPOR's prefix-oriented form). */
export function hasPrefixes(
  rank: RankObjective,
): rank is Extract<RankObjective, { prefixLengths?: readonly number[] }> & { prefixLengths: readonly number[] } {
  return (rank.kind === 'margin' || rank.kind === 'margin-mse') && rank.prefixLengths !== undefined && rank.prefixLengths.length > 0;
}

/**
 * The training step of a preference objective. Inputs: those of the scoring graph, plus
 *   dpo, margin   `pair_positive`, `pair_negative` int64 [pairs] (row indices), `pair_weight` float [pairs]
 *   margin-mse    the pair inputs and `pair_target` float [pairs] (the teacher's margins, in nats)
 *   prefix margin `prefix_mask` float [prefixes, tgt] (1 on each prefix's positions), `prefix_margin` float [prefixes]
 *   prefix margin-mse `prefix_mask`, `prefix_scale` float [prefixes] (each prefix's share of the docid)
 *   dpo           `reference_log_prob` float [batch] (the frozen SFT model's scores)
 *   listwise      `group_bias` float [groups, group] (0, or MASKED for a padded row),
 *                 `query_weight` float [groups]; rows are grouped group-major, positive first
 *   generation    `positive_rows` int64 [groups], `generation_tokens` float scalar (when its weight > 0)
 * A group is one query with its rows; normally groups = queries (one encoder row per group).
 * Outputs: `loss`, `rank_loss`, `generation_loss` (when used), `sequence_log_prob` [batch]
 * and `grad.<name>` for every parameter.
 */
export function buildPreferenceTrainingGraph(config: T5Config, objective: PreferenceObjective): Graph {
  const g = new Graph(`t5-${objective.rank.kind}-train`);
  const b = new GroupedT5Builder(g, config);
  const inputs = groupedInputs(g);
  const prefixes = hasPrefixes(objective.rank);
  let scores: Tensor;
  let tokenLogProbs: Tensor | undefined;
  if (prefixes) {
    tokenLogProbs = neg(crossEntropy(groupedLogits(b, inputs), inputs.labels, { ignoreIndex: -100, reduction: 'none' }));
    scores = reduceSum(tokenLogProbs, [-1]);
  } else {
    scores = groupedSequenceLogProb(b, inputs);
  }
  g.output('sequence_log_prob', scores);
  const pairs = (): RowPairs => ({
    positive: g.input('pair_positive', 'int64', ['pairs']),
    negative: g.input('pair_negative', 'int64', ['pairs']),
    weight: g.input('pair_weight', 'float32', ['pairs']),
  });
  let rankLoss: Tensor;
  const rank = objective.rank;
  switch (rank.kind) {
    case 'dpo':
      rankLoss = dpoLoss(scores, g.input('reference_log_prob', 'float32', ['batch']), pairs(), rank.beta);
      break;
    case 'margin':
      rankLoss =
        tokenLogProbs === undefined
          ? marginRankLoss(scores, pairs(), rank.margin)
          : prefixMarginRankLoss(
              tokenLogProbs,
              g.input('prefix_mask', 'float32', ['prefixes', 'tgt']),
              pairs(),
              g.input('prefix_margin', 'float32', ['prefixes']),
            );
      break;
    case 'margin-mse': {
      const targets = g.input('pair_target', 'float32', ['pairs']);
      rankLoss =
        tokenLogProbs === undefined
          ? marginMseLoss(scores, pairs(), targets)
          : prefixMarginMseLoss(
              tokenLogProbs,
              g.input('prefix_mask', 'float32', ['prefixes', 'tgt']),
              pairs(),
              targets,
              g.input('prefix_scale', 'float32', ['prefixes']),
            );
      break;
    }
    case 'listwise':
      rankLoss = listwiseLoss(
        scores,
        g.input('group_bias', 'float32', ['groups', 'group']),
        g.input('query_weight', 'float32', ['groups']),
        rank.temperature,
      );
      break;
  }
  g.output('rank_loss', rankLoss);
  const rankWeight = objective.rankWeight ?? 1;
  if (rankWeight === 0 && objective.generationWeight <= 0)
    throw new Error('preference objective: rank weight 0 needs a generation weight > 0');
  let loss = rankWeight === 1 ? rankLoss : mul(rankLoss, rankWeight);
  if (objective.generationWeight > 0) {
    const generation = generationLoss(scores, g.input('positive_rows', 'int64', ['groups']), g.input('generation_tokens', 'float32', []));
    g.output('generation_loss', generation);
    const weighted = mul(generation, objective.generationWeight);
    loss = rankWeight === 0 ? weighted : add(loss, weighted);
  }
  g.output('loss', loss);
  const params = t5ParameterSpecs(config).map((spec) => b.param(spec.name));
  gradients(loss, params).forEach((grad, i) => g.output(`grad.${params[i].name}`, grad));
  return g;
}
