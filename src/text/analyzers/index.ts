import { UserError } from '../../util/errors.js';
import { EnglishAnalyzer } from './english.js';
import { MultilingualAnalyzer } from './multilingual.js';
import { ANALYZER_NAMES, type Analyzer, type AnalyzerName, type AnalyzerSpec } from './types.js';

export type { Analyzer, AnalyzerName, AnalyzerSpec } from './types.js';
export { ANALYZER_NAMES } from './types.js';
export { EnglishAnalyzer, LUCENE_ENGLISH_STOP_WORDS, stripPossessive, javaLowerCase, luceneCompatiblePorter } from './english.js';
export { MultilingualAnalyzer, snowballAlgorithmFor } from './multilingual.js';
export { standardTokenize, segmentWords, MAX_TOKEN_LENGTH, type TokenizeOptions } from './standard-tokenizer.js';

export function isAnalyzerName(name: string): name is AnalyzerName {
  return (ANALYZER_NAMES as readonly string[]).includes(name);
}

/**
 * An analyzer by name: `english` (Lucene's EnglishAnalyzer as Anserini uses it) or
 * `multilingual` (ICU word segmentation, lowercase, Snowball stemming for `lang`).
 */
export function getAnalyzer(name: string, lang = 'en'): Analyzer {
  if (name === 'english') return new EnglishAnalyzer();
  if (name === 'multilingual') return new MultilingualAnalyzer(lang);
  throw new UserError(`unknown analyzer '${name}' (expected one of: ${ANALYZER_NAMES.join(', ')})`);
}

/** Rebuilds the analyzer a BM25 index was built with. */
export function analyzerFromSpec(spec: AnalyzerSpec): Analyzer {
  return getAnalyzer(spec.name, spec.lang);
}
