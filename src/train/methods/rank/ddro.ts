/**
 * `genir train ddro` as a library call with DDRO's defaults (β 0.4, BM25 negatives, two
 * epochs, warm-up + cosine, clip 0.5); it runs pipeline.ts. The learning rate differs from
 * DDRO's 1e-6: that was for a pre-trained T5-base; genir's models are small and trained
 * from scratch with SFT at 1e-3 (docs/ddro.md).
 */
import { DDRO_DEFAULTS } from './defaults.js';
import { definedOnly, runRankTraining, type CommonRankOptions, type RankTrainingResult } from './pipeline.js';

export { DDRO_DEFAULTS };

export interface DdroOptions extends CommonRankOptions {
  beta?: number;
  /** Weight of an SFT term (token cross-entropy on the positives) added to the DPO loss (default 0). */
  sftWeight?: number;
  /** Weight of the DPO term (default 1); 0 with sftWeight > 0 is the equal-compute control (plain cross-entropy on the same batches). */
  rankWeight?: number;
}

export function runDdro(options: DdroOptions): Promise<RankTrainingResult> {
  return runRankTraining({
    ...definedOnly(options),
    from: options.from,
    out: options.out,
    method: 'ddro',
    negatives: options.negatives ?? DDRO_DEFAULTS.negatives,
    objective: {
      rank: { kind: 'dpo', beta: options.beta ?? DDRO_DEFAULTS.beta },
      generationWeight: options.sftWeight ?? 0,
      ...(options.rankWeight !== undefined ? { rankWeight: options.rankWeight } : {}),
    },
  });
}
