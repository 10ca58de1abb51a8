/**
 * Rank training's defaults, defined once: the pipeline, `genir train ddro|ltrgr` and the recipes
 * read them from here. The methods differ in their objective and its scale (ddro.ts, ltrgr.ts
 * say why); the rest of a run is shared.
 */

/** DDRO: β 0.4, BM25 negatives, two epochs (the learning rate is discussed in ddro.ts). */
export const DDRO_DEFAULTS = { beta: 0.4, lr: 1e-5, epochs: 2, batchSize: 64, negativesPerGroup: 8, negatives: 'bm25' } as const;

/** LTRGR, on log π(docid|q) in nats (ltrgr.ts). */
export const LTRGR_DEFAULTS = {
  margin: 2,
  generationWeight: 8,
  temperature: 1,
  lr: 1e-4,
  epochs: 3,
  batchSize: 16,
  listSize: 8,
  negatives: 'model',
} as const;

/** The settings DDRO and LTRGR share. */
export const RANK_DEFAULTS = {
  maxSourceTokens: 128,
  clipNorm: 0.5,
  weightDecay: 0.01,
  seed: 0,
  patience: 4,
  devSplit: 'dev',
  devQueries: 500,
  /** Beam width of the dev search. */
  beam: 20,
} as const;

export const METHOD_DEFAULTS = { ddro: DDRO_DEFAULTS, ltrgr: LTRGR_DEFAULTS } as const;
