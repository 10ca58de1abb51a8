/**
 * `genir train ltrgr` as a library call with LTRGR's defaults; it runs
 * src/train/methods/rank/pipeline.ts (triples, training loop, dev evaluation, model directory).
 *
 * LTRGR's numbers live on MINDER's score scale (margin 300, λ = 1000, scores summed over many
 * n-gram identifiers). Here S = log π(docid|q) in nats, so:
 *   margin 2: the positive should be e² ≈ 7.4 times as likely as each negative;
 *   λ = 8: the generation loss is the mean token cross-entropy of the positives, whose pull
 *     on one positive's S is λ / (tokens per docid) per query; with docids of about 8
 *     tokens (PQ: M codes + EOS), λ = 8 makes it equal to one violated pair's (the hinge
 *     has slope 1, each pair weighs ½ and a query has two pairs), as LTRGR's λ and margin
 *     keep its two terms of one order.
 */
import { LTRGR_DEFAULTS } from './defaults.js';
import { definedOnly, runRankTraining, type CommonRankOptions, type RankTrainingResult } from './pipeline.js';

/** margin: LTRGR's hinge; listwise: softmax over a list; margin-mse: RIPOR's MarginMSE on a teacher run's margins. */
export type LtrgrLoss = 'margin' | 'listwise' | 'margin-mse';

export { LTRGR_DEFAULTS };

export interface LtrgrOptions extends CommonRankOptions {
  loss?: LtrgrLoss;
  margin?: number;
  /** λ, the generation loss weight. */
  generationWeight?: number;
  /** List-wise softmax temperature τ. */
  temperature?: number;
}

export function runLtrgr(options: LtrgrOptions): Promise<RankTrainingResult> {
  const loss = options.loss ?? 'margin';
  const generationWeight = options.generationWeight ?? LTRGR_DEFAULTS.generationWeight;
  return runRankTraining({
    ...definedOnly(options),
    from: options.from,
    out: options.out,
    method: 'ltrgr',
    negatives: options.negatives ?? LTRGR_DEFAULTS.negatives,
    objective: {
      rank:
        loss === 'margin'
          ? { kind: 'margin', margin: options.margin ?? LTRGR_DEFAULTS.margin }
          : loss === 'margin-mse'
            ? { kind: 'margin-mse' }
            : { kind: 'listwise', temperature: options.temperature ?? LTRGR_DEFAULTS.temperature },
      generationWeight,
    },
  });
}
