/**
 * Training triples (query, positive docid, negative docid) for DDRO and LTRGR, mined once,
 * scored once by the frozen SFT model, written to disk and reused.
 *
 * The file is JSON lines: a header line
 *   {"format":"genir-triples","version":1,"description":{…},"groups":G,"triples":T,"createdAt":…}
 * then one group per line: a training query with one positive and its negatives,
 *   {"query":id,"text":…,"lang":…,"positive":key,"reference":logp,"modelPositiveRank":r|null,
 *    "negatives":[{"key":…,"source":"bm25"|"model","rank":r,"reference":logp},…]}
 * Each negative is one triple. `reference` is log πref(d|q) under the SFT model (teacher-forced,
 * summed over the docid's tokens and EOS). The description says how the file was made
 * (dataset, model and docids checksums, sampling settings); the cache key is its hash.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Document } from '../../../data/types.js';
import type { DocidTable } from '../../../docids/table.js';
import type { T5Model } from '../../../model/t5.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { writeFileAtomic } from '../../../util/atomic.js';
import { UserError } from '../../../util/errors.js';
import { progressBar } from '../../../util/progress.js';
import { cacheKey } from '../../../util/cache.js';
import { GroupedScorer } from '../../../model/grouped.js';
import { DDRO_BANDS, DDRO_DEPTH, type NegativeBand, type RankedNegative } from './bands.js';
import { mineBm25Negatives, type TrainingQuery } from './bm25.js';
import { mineModelNegatives } from './model.js';

export const TRIPLES_FORMAT = 'genir-triples';
export const TRIPLES_FORMAT_VERSION = 1;

export type NegativeSource = 'bm25' | 'model';
export type NegativeMethod = 'bm25' | 'model' | 'both';
export const NEGATIVE_METHODS: readonly NegativeMethod[] = ['bm25', 'model', 'both'];

export interface TripleNegative {
  key: string;
  source: NegativeSource;
  /** 1-based rank in the ranking it was drawn from (BM25's, or the model's beam). */
  rank: number;
  /** log πref(negative | query). */
  reference: number;
}

export interface TripleGroup {
  query: string;
  text: string;
  lang?: string;
  positive: string;
  /** log πref(positive | query). */
  reference: number;
  /** Rank of the first relevant document in the SFT model's beam (model negatives only; null: not in the beam). */
  modelPositiveRank?: number | null;
  negatives: TripleNegative[];
}

export interface TriplesHeader {
  format: typeof TRIPLES_FORMAT;
  version: number;
  description: Record<string, unknown>;
  groups: number;
  triples: number;
  createdAt: string;
}

export interface Triples {
  header: TriplesHeader;
  groups: TripleGroup[];
}

export function countTriples(groups: readonly TripleGroup[]): number {
  return groups.reduce((sum, g) => sum + g.negatives.length, 0);
}

/** Writes the triples atomically (temp file + rename). */
export async function writeTriples(
  path: string,
  description: Record<string, unknown>,
  groups: readonly TripleGroup[],
): Promise<TriplesHeader> {
  const header: TriplesHeader = {
    format: TRIPLES_FORMAT,
    version: TRIPLES_FORMAT_VERSION,
    description,
    groups: groups.length,
    triples: countTriples(groups),
    createdAt: new Date().toISOString(),
  };
  const lines = [JSON.stringify(header), ...groups.map((g) => JSON.stringify(g))];
  await writeFileAtomic(path, `${lines.join('\n')}\n`);
  return header;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Reads and checks a triples file; any problem is a UserError naming the file and line. */
export function readTriples(path: string): Triples {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: cannot read the triples file`);
  }
  const lines = text.split('\n');
  const parse = (index: number): unknown => {
    try {
      return JSON.parse(lines[index]);
    } catch {
      throw new UserError(`${path}:${index + 1}: not valid JSON`);
    }
  };
  const header = parse(0) as Partial<TriplesHeader> | null;
  if (typeof header !== 'object' || header === null || header.format !== TRIPLES_FORMAT)
    throw new UserError(`${path}:1: not a genir triples file`);
  if (header.version !== TRIPLES_FORMAT_VERSION) {
    throw new UserError(
      `${path}:1: triples format version ${String(header.version)}; this genir reads version ${TRIPLES_FORMAT_VERSION} (delete the file to mine the triples again)`,
    );
  }
  const groups: TripleGroup[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const g = parse(i) as Partial<TripleGroup> | null;
    const bad = (what: string) => new UserError(`${path}:${i + 1}: ${what}`);
    if (typeof g !== 'object' || g === null) throw bad('expected a group object');
    if (typeof g.query !== 'string' || typeof g.text !== 'string' || typeof g.positive !== 'string')
      throw bad('a group needs string query, text and positive');
    if (!isFiniteNumber(g.reference)) throw bad('the positive needs a finite reference log-probability');
    if (!Array.isArray(g.negatives)) throw bad('negatives must be an array');
    for (const n of g.negatives as Partial<TripleNegative>[]) {
      if (
        typeof n?.key !== 'string' ||
        (n.source !== 'bm25' && n.source !== 'model') ||
        !isFiniteNumber(n.rank) ||
        !isFiniteNumber(n.reference)
      ) {
        throw bad('each negative needs key, source (bm25|model), rank and a finite reference');
      }
    }
    groups.push(g as TripleGroup);
  }
  if (groups.length !== header.groups)
    throw new UserError(`${path}: header says ${String(header.groups)} groups, the file holds ${groups.length} (truncated?)`);
  return { header: header as TriplesHeader, groups };
}

export interface TripleSources {
  /** The corpus the negatives come from; documents sharing a key are one docid. */
  docs: readonly Document[];
  keyOf: (doc: Document) => string;
  queries: readonly TrainingQuery[];
  /** The frozen SFT model: reference scores, and model-mined negatives. */
  model: T5Model;
  tokenizer: SubwordTokenizer;
  docids: DocidTable;
}

export interface TripleOptions {
  negatives: NegativeMethod;
  seed: number;
  /** BM25 ranking depth (1000) and bands (DDRO's 10/10/12). */
  depth?: number;
  bands?: readonly NegativeBand[];
  k1?: number;
  b?: number;
  /** Model negatives per query (default 32 with `model`, 16 with `both`). */
  modelCount?: number;
  /** Beam width for model negatives (default modelCount + 8). */
  beam?: number;
  maxSourceTokens?: number;
  threads?: number;
  progress?: boolean;
  log?: (line: string) => void;
}

/** The settings that decide the triples, for the cache key and the file's description. */
export function tripleSettings(options: TripleOptions) {
  const model = options.negatives !== 'bm25';
  const bm25 = options.negatives !== 'model';
  return {
    negatives: options.negatives,
    seed: options.seed,
    bm25: bm25
      ? { depth: options.depth ?? DDRO_DEPTH, bands: options.bands ?? DDRO_BANDS, k1: options.k1 ?? 0.9, b: options.b ?? 0.4 }
      : null,
    model: model ? { count: options.modelCount ?? (options.negatives === 'model' ? 32 : 16), beam: options.beam ?? null } : null,
    maxSourceTokens: options.maxSourceTokens ?? 128,
  };
}

/** Mines negatives for every (training query, relevant docid) and scores all of them with the reference model. */
export async function buildTriples(sources: TripleSources, options: TripleOptions): Promise<TripleGroup[]> {
  const log = options.log ?? (() => undefined);
  const settings = tripleSettings(options);
  const { docids, tokenizer } = sources;
  const queries = sources.queries.filter((q) => q.keys.some((key) => docids.indexOf(key) >= 0));
  const perQuery: { key: string; source: NegativeSource; rank: number }[][] = queries.map(() => []);
  const modelRanks: (number | null)[] = queries.map(() => null);
  if (settings.bm25) {
    const started = performance.now();
    const mined = await mineBm25Negatives(sources.docs, sources.keyOf, queries, {
      ...settings.bm25,
      seed: options.seed,
      threads: options.threads,
    });
    mined.forEach((negatives, i) => perQuery[i].push(...negatives.map((n: RankedNegative) => ({ ...n, source: 'bm25' as const }))));
    log(
      `negatives: BM25 ${mined.reduce((s, n) => s + n.length, 0)} for ${queries.length} queries (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  if (settings.model) {
    const started = performance.now();
    const mined = await mineModelNegatives(sources.model, tokenizer, docids, queries, {
      count: settings.model.count,
      beam: settings.model.beam ?? undefined,
      maxSourceTokens: settings.maxSourceTokens,
      threads: options.threads,
      progress: options.progress,
    });
    mined.forEach((m, i) => {
      modelRanks[i] = m.positiveRank;
      const seen = new Set(perQuery[i].map((n) => n.key));
      for (const n of m.negatives) if (!seen.has(n.key)) perQuery[i].push({ ...n, source: 'model' });
    });
    log(
      `negatives: model ${mined.reduce((s, m) => s + m.negatives.length, 0)} for ${queries.length} queries (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  const groups: Omit<TripleGroup, 'reference' | 'negatives'>[] = [];
  const groupNegatives: { key: string; source: NegativeSource; rank: number }[][] = [];
  queries.forEach((query, i) => {
    for (const positive of query.keys) {
      if (docids.indexOf(positive) < 0) continue;
      groups.push({
        query: query.id,
        text: query.text,
        ...(query.lang ? { lang: query.lang } : {}),
        positive,
        ...(settings.model ? { modelPositiveRank: modelRanks[i] } : {}),
      });
      groupNegatives.push(perQuery[i].filter((n) => docids.indexOf(n.key) >= 0));
    }
  });
  const started = performance.now();
  const scorer = await GroupedScorer.create(sources.model, { threads: options.threads });
  const target = (key: string) => {
    const sequence = docids.sequence(docids.indexOf(key));
    return sequence.subarray(0, sequence.length - 1);
  };
  const sourceIds = new Map<string, Int32Array>();
  const scoring = groups.map((g, i) => {
    let ids = sourceIds.get(g.text);
    if (ids === undefined) {
      ids = tokenizer.encode(g.text).subarray(0, settings.maxSourceTokens);
      sourceIds.set(g.text, ids);
    }
    return { source: ids, targets: [target(g.positive), ...groupNegatives[i].map((n) => target(n.key))] };
  });
  const bar = progressBar({ label: 'reference scores', total: groups.length, unit: 'q', enabled: options.progress });
  let scores: number[][];
  let reported = 0;
  try {
    scores = await scorer.score(
      scoring,
      { padId: tokenizer.padId, eosId: tokenizer.eosId, decoderStartId: sources.model.config.decoderStartTokenId },
      (done) => {
        bar.tick(done - reported);
        reported = done;
      },
    );
  } finally {
    bar.stop();
    await scorer.release();
  }
  log(
    `negatives: reference log-probabilities of ${scoring.reduce((s, g) => s + g.targets.length, 0)} rows (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  return groups.map((g, i) => ({
    ...g,
    reference: scores[i][0],
    negatives: groupNegatives[i].map((n, j) => ({ ...n, reference: scores[i][j + 1] })),
  }));
}

export interface CachedTriples extends Triples {
  path: string;
  /** True when the triples were read from an existing file. */
  hit: boolean;
}

/**
 * The triples for `description` from `<cacheDir>/triples/<hash>.jsonl`, or built with
 * `build` and written there (once; later runs with the same description reuse the file).
 */
export async function cachedTriples(
  cacheDir: string,
  description: Record<string, unknown>,
  build: () => Promise<TripleGroup[]>,
): Promise<CachedTriples> {
  const folder = join(cacheDir, 'triples');
  const path = join(folder, `${cacheKey(description)}.jsonl`);
  if (existsSync(path)) return { ...readTriples(path), path, hit: true };
  const groups = await build();
  mkdirSync(folder, { recursive: true });
  const header = await writeTriples(path, description, groups);
  return { header, groups, path, hit: false };
}
