import { createRequire } from 'node:module';
import { StemCache } from './english.js';
import { standardTokenize } from './standard-tokenizer.js';
import type { Analyzer, AnalyzerSpec } from './types.js';

/** ISO 639-1 code → Snowball algorithm in the `snowball-stemmers` package. */
const SNOWBALL_BY_LANG: ReadonlyMap<string, string> = new Map([
  ['ar', 'arabic'],
  ['ca', 'catalan'],
  ['cs', 'czech'],
  ['da', 'danish'],
  ['de', 'german'],
  ['en', 'english'],
  ['es', 'spanish'],
  ['eu', 'basque'],
  ['fi', 'finnish'],
  ['fr', 'french'],
  ['ga', 'irish'],
  ['hu', 'hungarian'],
  ['hy', 'armenian'],
  ['it', 'italian'],
  ['nb', 'norwegian'],
  ['nl', 'dutch'],
  ['no', 'norwegian'],
  ['pt', 'portuguese'],
  ['ro', 'romanian'],
  ['ru', 'russian'],
  ['sl', 'slovene'],
  ['sv', 'swedish'],
  ['ta', 'tamil'],
  ['tr', 'turkish'],
]);

type SnowballModule = typeof import('snowball-stemmers').default;
let snowballModule: SnowballModule | undefined;

/**
 * snowball-stemmers is one 23,000-line CommonJS file; it is loaded on first use so that
 * English-only processes (and every BM25 search worker over an English index) skip it.
 */
function snowball(): SnowballModule {
  snowballModule ??= createRequire(import.meta.url)('snowball-stemmers') as SnowballModule;
  return snowballModule;
}

/** Languages whose lowercasing differs from the default (dotted/dotless i). */
const LOCALE_LOWERCASE = new Set(['tr', 'az', 'lt']);

/** The language part of a tag such as `de-CH`, lowercased. */
function baseLanguage(lang: string): string {
  return lang.toLowerCase().split(/[-_]/)[0];
}

/** The Snowball algorithm used for `lang`, or undefined when none is available (el, hi, th, vi, zh, …). */
export function snowballAlgorithmFor(lang: string): string | undefined {
  return SNOWBALL_BY_LANG.get(baseLanguage(lang));
}

interface LanguagePipeline {
  locale: string;
  lowercase: (token: string) => string;
  stems: StemCache | undefined;
}

/**
 * Any-language analyzer: Unicode word segmentation with the language's locale (so Thai,
 * Chinese and Japanese are split into dictionary words by ICU), lowercasing, and the
 * language's Snowball stemmer where `snowball-stemmers` has one. No stop words.
 */
export class MultilingualAnalyzer implements Analyzer {
  readonly spec: AnalyzerSpec;
  private readonly pipelines = new Map<string, LanguagePipeline>();

  constructor(lang = 'en') {
    this.spec = { name: 'multilingual', lang: baseLanguage(lang) };
  }

  analyze(text: string, lang: string = this.spec.lang): string[] {
    const pipeline = this.pipeline(lang);
    const tokens = standardTokenize(text, [], { locale: pipeline.locale, splitHan: false });
    const stems = pipeline.stems;
    for (let i = 0; i < tokens.length; i++) {
      const lower = pipeline.lowercase(tokens[i]);
      tokens[i] = stems === undefined ? lower : stems.get(lower);
    }
    return tokens;
  }

  private pipeline(lang: string): LanguagePipeline {
    const base = baseLanguage(lang);
    let pipeline = this.pipelines.get(base);
    if (pipeline === undefined) {
      const algorithm = SNOWBALL_BY_LANG.get(base);
      const stemmer = algorithm === undefined ? undefined : snowball().newStemmer(algorithm);
      pipeline = {
        locale: base,
        lowercase: LOCALE_LOWERCASE.has(base) ? (token) => token.toLocaleLowerCase(base) : (token) => token.toLowerCase(),
        stems: stemmer === undefined ? undefined : new StemCache((word) => stemmer.stem(word)),
      };
      this.pipelines.set(base, pipeline);
    }
    return pipeline;
  }
}
