/**
 * `genir train dense`'s defaults, defined once: the pipeline and the command's option
 * defaults read them from here. docs/results.md ("Dense dual encoder") has the runs behind them.
 */
import { DEFAULT_DENSE_SETTINGS } from '../../../model/dense.js';
import type { EmbeddingInit } from './embedding-init.js';

export const DENSE_DEFAULTS = {
  vocabSize: 8000,
  lr: 3e-3,
  batchSize: 64,
  epochs: 10,
  temperature: DEFAULT_DENSE_SETTINGS.temperature,
  hardNegatives: 1,
  negativeDepth: 30,
  bm25Depth: 200,
  ictPerDoc: 1,
  cropsPerDoc: 1,
  maxQueryTokens: DEFAULT_DENSE_SETTINGS.maxQueryTokens,
  maxPassageTokens: DEFAULT_DENSE_SETTINGS.maxPassageTokens,
  // LSA rows: at 150 updates on squad-dev, test RR@10 0.4339 against 0.1260 from random rows (and untrained, 0.157 against 0.035).
  embeddingInit: 'lsa' as EmbeddingInit,
  seed: 0,
} as const;
