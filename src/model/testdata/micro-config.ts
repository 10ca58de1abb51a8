/**
 * The T5 configuration tests build models of: 16 dimensions, 4 heads, no dropout, so that a
 * model is created, run and saved in milliseconds. `overrides` sets what a test needs besides
 * (layers, feed-forward size, position buckets, a lexical head).
 */
import { t5Config, type T5Config } from '../config.js';

export function microT5Config(vocabSize: number, docidVocabSize: number, overrides: Partial<T5Config> = {}): T5Config {
  return t5Config('tiny', {
    vocabSize,
    docidVocabSize,
    dModel: 16,
    dKv: 4,
    numHeads: 4,
    dFf: 32,
    numLayers: 1,
    numDecoderLayers: 1,
    dropoutRate: 0,
    ...overrides,
  });
}
