/**
 * `genir train ddro` as a library call with DDRO's defaults (β 0.4, BM25 negatives, two
 * epochs, warm-up + cosine, clip 0.5); it runs pipeline.ts. The learning rate differs from
 * DDRO's 1e-6: that was for a pre-trained T5-base; genir's models are small and trained
 * from scratch with SFT at 1e-3 (docs/ddro.md).
 */
import { definedOnly, runRankTraining, type CommonRankOptions, type RankTrainingResult } from './pipeline.js';

export const DDRO_DEFAULTS = { beta: 0.4, lr: 1e-5, epochs: 2, batchSize: 64, negativesPerGroup: 8 } as const;

export interface DdroOptions extends CommonRankOptions {
  beta?: number;
  /** Weight of an SFT term (token cross-entropy on the positives) added to the DPO loss (default 0). */
  sftWeight?: number;
}

export function runDdro(options: DdroOptions): Promise<RankTrainingResult> {
  return runRankTraining({
    lr: DDRO_DEFAULTS.lr,
    epochs: DDRO_DEFAULTS.epochs,
    batchSize: DDRO_DEFAULTS.batchSize,
    negativesPerGroup: DDRO_DEFAULTS.negativesPerGroup,
    ...definedOnly(options),
    from: options.from,
    out: options.out,
    method: 'ddro',
    negatives: options.negatives ?? 'bm25',
    objective: { rank: { kind: 'dpo', beta: options.beta ?? DDRO_DEFAULTS.beta }, generationWeight: options.sftWeight ?? 0 },
  });
}
