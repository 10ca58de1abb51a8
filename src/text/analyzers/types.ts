/** The analyzers BM25 can index and search with. */
export type AnalyzerName = 'english' | 'multilingual';

export const ANALYZER_NAMES: readonly AnalyzerName[] = ['english', 'multilingual'];

/** What identifies an analyzer's behaviour; stored in a BM25 index so search analyzes queries the same way. */
export interface AnalyzerSpec {
  name: AnalyzerName;
  /** Default language (ISO 639-1) for the multilingual analyzer; `en` for english. */
  lang: string;
}

/** Turns text into index terms. */
export interface Analyzer {
  readonly spec: AnalyzerSpec;
  /**
   * The terms of `text` in order, duplicates kept. `lang` overrides the default language
   * (the multilingual analyzer picks its segmenter locale and stemmer by it; english ignores it).
   */
  analyze(text: string, lang?: string): string[];
}
