/**
 * `genir train ltrgr` and `genir train ddro` as library calls with their methods' defaults;
 * both run src/train/ddro/pipeline.ts (triples, training loop, dev evaluation, model directory).
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
import type { RankTrainingOptions, RankTrainingResult } from '../ddro/pipeline.js';
import { runRankTraining } from '../ddro/pipeline.js';

export type LtrgrLoss = 'margin' | 'listwise';

export const LTRGR_DEFAULTS = { margin: 2, generationWeight: 8, temperature: 1, lr: 1e-4, epochs: 3, batchSize: 16, listSize: 8 } as const;
export const DDRO_DEFAULTS = { beta: 0.4, lr: 1e-4, epochs: 2, batchSize: 64, negativesPerGroup: 8 } as const;

type CommonOptions = Omit<RankTrainingOptions, 'method' | 'objective' | 'negatives'> & { negatives?: RankTrainingOptions['negatives'] };

export interface LtrgrOptions extends CommonOptions {
  loss?: LtrgrLoss;
  margin?: number;
  /** λ, the generation loss weight. */
  generationWeight?: number;
  /** List-wise softmax temperature τ. */
  temperature?: number;
}

export interface DdroOptions extends CommonOptions {
  beta?: number;
  /** Weight of an SFT (token cross-entropy on the positives) term added to the DPO loss (default 0). */
  sftWeight?: number;
}

export function runLtrgr(options: LtrgrOptions): Promise<RankTrainingResult> {
  const loss = options.loss ?? 'margin';
  const generationWeight = options.generationWeight ?? LTRGR_DEFAULTS.generationWeight;
  return runRankTraining({
    lr: LTRGR_DEFAULTS.lr,
    epochs: LTRGR_DEFAULTS.epochs,
    batchSize: LTRGR_DEFAULTS.batchSize,
    listSize: LTRGR_DEFAULTS.listSize,
    ...options,
    method: 'ltrgr',
    negatives: options.negatives ?? 'model',
    objective: {
      rank: loss === 'margin' ? { kind: 'margin', margin: options.margin ?? LTRGR_DEFAULTS.margin } : { kind: 'listwise', temperature: options.temperature ?? LTRGR_DEFAULTS.temperature },
      generationWeight,
    },
  });
}

export function runDdro(options: DdroOptions): Promise<RankTrainingResult> {
  return runRankTraining({
    lr: DDRO_DEFAULTS.lr,
    epochs: DDRO_DEFAULTS.epochs,
    batchSize: DDRO_DEFAULTS.batchSize,
    negativesPerGroup: DDRO_DEFAULTS.negativesPerGroup,
    ...options,
    method: 'ddro',
    negatives: options.negatives ?? 'bm25',
    objective: { rank: { kind: 'dpo', beta: options.beta ?? DDRO_DEFAULTS.beta }, generationWeight: options.sftWeight ?? 0 },
  });
}
