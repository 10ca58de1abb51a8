/**
 * Hybrid retrieval: a generative retriever and BM25 over the same corpus, fused per query.
 *
 * Fusions (pure functions over ranked lists, one list per system):
 *   rrf     reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
 *           score(d) = Σ_s w_s / (k + rank_s(d)), k = 60 by default, weights 1;
 *   interp  normalised score interpolation: score(d) = Σ_s w_s · norm_s(d), each system's
 *           scores normalised per query (min-max or z-score). With two systems the weights
 *           are α for GenIR (docid log-probabilities) and 1 − α for BM25; α is chosen on a
 *           dev split by a grid search (`tuneAlpha`).
 *
 * Missing documents. Each list is a system's top n (GenIR: its beam; BM25: a fixed depth),
 * not its whole ranking, so a document missing from one list gets that system's floor, a
 * value just below the list's last entry, as if the system had ranked it n + 1st:
 *   rrf     w / (k + n + 1), the contribution of rank n + 1;
 *   interp  one mean rank-step below the last normalised score: last − (first − last) / (n − 1)
 *           (−1 / (n − 1) under min-max).
 * Being strictly below every listed document keeps each system's own order at the ends of the
 * α grid, where the other system's weight is 0 and its documents are left out too: α = 0 is
 * exactly BM25's run, α = 1 exactly GenIR's. A floor tied
 * with the last entry would shuffle that entry among all unlisted documents, which matters for
 * short lists (a cross-script query matches a handful of documents).
 * An empty list (BM25 finds no query term in the corpus) contributes nothing to any document.
 * A list whose scores are all equal (one entry, say) carries no spread to normalise: its
 * documents get 1 and every other document 0, under either normalisation.
 *
 * Ranks and ties follow trec_eval's order (score descending, then document id descending),
 * within each list and in the fused list, so a fused run scores the same once written.
 */
import { Bm25Index } from '../bm25/bm25-index.js';
import type { Bm25Params, SearchQuery } from '../bm25/types.js';
import { collapseRun } from '../data/collapse.js';
import type { Document, Qrels, Query, Run, RunEntry } from '../data/types.js';
import { evaluateRun, parseMetric } from '../eval/metrics.js';
import { compareTrecOrder, sortRanking } from '../data/ranking.js';
import { MANIFEST_FILE, readModelManifest } from '../retriever/directory.js';
import { getAnalyzer } from '../text/analyzers/index.js';
import { loadSftCorpus } from '../data/training-corpus.js';
import { UserError, warn } from '../util/errors.js';
import { DEFAULT_BEAM } from './beam.js';
import { GenerativeSearcher, type OpenSearcherOptions, type SearchOptions } from './searcher.js';

export type ScoreNormalization = 'minmax' | 'zscore';
export const SCORE_NORMALIZATIONS: readonly ScoreNormalization[] = ['minmax', 'zscore'];
export type FusionMethod = 'rrf' | 'interp';
export const FUSION_METHODS: readonly FusionMethod[] = ['rrf', 'interp'];

/** RRF's rank offset: Cormack et al.'s k = 60. */
export const DEFAULT_RRF_K = 60;
/** BM25 documents fused per query by default. */
export const DEFAULT_BM25_DEPTH = 1000;
/** The α grid of `tuneAlpha`: 0, 0.05, …, 1. */
export const DEFAULT_ALPHA_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

export type FusionSpec =
  | { method: 'rrf'; /** Rank offset (default 60). */ k?: number; /** One per list (default 1 each). */ weights?: readonly number[] }
  | { method: 'interp'; /** One per list. */ weights: readonly number[]; /** Default minmax. */ normalization?: ScoreNormalization };

/** The two-system interpolation: α on GenIR's list (first), 1 − α on BM25's (second). */
export function interpolation(alpha: number, normalization: ScoreNormalization = 'minmax'): FusionSpec {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`interpolation: alpha must be in [0, 1], got ${alpha}`);
  return { method: 'interp', weights: [alpha, 1 - alpha], normalization };
}

/** One list's normalised scores (in its trec_eval order) and the floor a missing document gets (see the module comment). */
export interface NormalizedList {
  entries: readonly RunEntry[];
  scores: Float64Array;
  floor: number;
}

/** Best-first entries with later duplicates of a document dropped (a list ranks each document once). */
function rankedUnique(entries: readonly RunEntry[]): RunEntry[] {
  const seen = new Set<string>();
  const out: RunEntry[] = [];
  for (const entry of sortRanking(entries)) {
    if (!Number.isFinite(entry.score))
      throw new RangeError(`fusion: document '${entry.docId}' has score ${entry.score}; scores must be finite`);
    if (seen.has(entry.docId)) continue;
    seen.add(entry.docId);
    out.push(entry);
  }
  return out;
}

/** Normalises one list's scores per query; see the module comment for the floor and equal scores. */
export function normalizeScores(entries: readonly RunEntry[], normalization: ScoreNormalization): NormalizedList {
  const ranked = rankedUnique(entries);
  const n = ranked.length;
  const scores = new Float64Array(n);
  if (n === 0) return { entries: ranked, scores, floor: 0 };
  const max = ranked[0].score;
  const min = ranked[n - 1].score;
  if (max === min) return { entries: ranked, scores: scores.fill(1), floor: 0 };
  if (normalization === 'minmax') {
    for (let i = 0; i < n; i++) scores[i] = (ranked[i].score - min) / (max - min);
  } else {
    let mean = 0;
    for (const entry of ranked) mean += entry.score;
    mean /= n;
    let squares = 0;
    for (const entry of ranked) squares += (entry.score - mean) ** 2;
    // Population standard deviation: the list is all there is of this query's scores.
    const std = Math.sqrt(squares / n);
    for (let i = 0; i < n; i++) scores[i] = (ranked[i].score - mean) / std;
  }
  // Distinct first and last scores imply n ≥ 2.
  const last = scores[n - 1];
  return { entries: ranked, scores, floor: last - (scores[0] - last) / (n - 1) };
}

function checkWeights(weights: readonly number[] | undefined, lists: number, method: FusionMethod): readonly number[] {
  const resolved = weights ?? new Array<number>(lists).fill(1);
  if (resolved.length !== lists) throw new RangeError(`${method} fusion: ${resolved.length} weights for ${lists} lists`);
  for (const w of resolved)
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`${method} fusion: weights must be finite and non-negative, got ${w}`);
  return resolved;
}

/**
 * Sums per-list contributions: `contribution(list, position)` for documents in the list,
 * `floor(list)` for the others. Returns every document of a list with a positive weight, in
 * trec_eval order: a list weighted 0 adds neither score nor documents, so α = 0 is BM25's run
 * itself rather than BM25's run padded with GenIR's documents in id order.
 */
function combine(
  ranked: readonly (readonly RunEntry[])[],
  weights: readonly number[],
  contribution: (list: number, position: number) => number,
  floor: (list: number) => number,
): RunEntry[] {
  const fused = new Map<string, number>();
  let floors = 0;
  for (let l = 0; l < ranked.length; l++) if (weights[l] > 0) floors += floor(l);
  // Start every document at the sum of all floors, then swap in the lists' real contributions.
  for (let l = 0; l < ranked.length; l++) {
    if (weights[l] === 0) continue;
    const list = ranked[l];
    const listFloor = floor(l);
    for (let i = 0; i < list.length; i++) {
      const docId = list[i].docId;
      fused.set(docId, (fused.get(docId) ?? floors) + contribution(l, i) - listFloor);
    }
  }
  return [...fused].map(([docId, score]) => ({ docId, score })).sort(compareTrecOrder);
}

export interface RrfOptions {
  /** Rank offset (default 60). */
  k?: number;
  /** One weight per list (default 1 each). */
  weights?: readonly number[];
}

/** Reciprocal-rank fusion of ranked lists (each best first, any order accepted); every document of any list, best first. */
export function reciprocalRankFusion(lists: readonly (readonly RunEntry[])[], options: RrfOptions = {}): RunEntry[] {
  const k = options.k ?? DEFAULT_RRF_K;
  if (!(Number.isFinite(k) && k >= 0)) throw new RangeError(`rrf fusion: k must be a finite non-negative number, got ${k}`);
  const weights = checkWeights(options.weights, lists.length, 'rrf');
  const ranked = lists.map(rankedUnique);
  return combine(
    ranked,
    weights,
    (l, i) => weights[l] / (k + i + 1),
    (l) => (ranked[l].length === 0 ? 0 : weights[l] / (k + ranked[l].length + 1)),
  );
}

export interface InterpolationOptions {
  /** One weight per list. */
  weights: readonly number[];
  /** Default minmax. */
  normalization?: ScoreNormalization;
}

/** Weighted sum of per-query normalised scores; every document of any list, best first. */
export function interpolationFusion(lists: readonly (readonly RunEntry[])[], options: InterpolationOptions): RunEntry[] {
  const weights = checkWeights(options.weights, lists.length, 'interp');
  const normalized = lists.map((list) => normalizeScores(list, options.normalization ?? 'minmax'));
  return combine(
    normalized.map((n) => n.entries),
    weights,
    (l, i) => weights[l] * normalized[l].scores[i],
    (l) => weights[l] * normalized[l].floor,
  );
}

/** Fuses one query's lists; `depth` keeps the best that many (default: all). */
export function fuseLists(lists: readonly (readonly RunEntry[])[], spec: FusionSpec, depth?: number): RunEntry[] {
  const fused = spec.method === 'rrf' ? reciprocalRankFusion(lists, spec) : interpolationFusion(lists, spec);
  return depth === undefined ? fused : fused.slice(0, depth);
}

/** Fuses runs query by query; a query missing from a run has an empty list there. */
export function fuseRuns(runs: readonly Run[], spec: FusionSpec, depth?: number): Run {
  const queryIds = new Set<string>();
  for (const run of runs) for (const id of run.keys()) queryIds.add(id);
  const fused: Run = new Map();
  for (const id of queryIds)
    fused.set(
      id,
      fuseLists(
        runs.map((run) => run.get(id) ?? []),
        spec,
        depth,
      ),
    );
  return fused;
}

export interface AlphaTuning {
  alpha: number;
  /** The metric's mean at the chosen α. */
  value: number;
  metric: string;
  normalization: ScoreNormalization;
  grid: { alpha: number; value: number }[];
}

export interface TuneAlphaOptions {
  normalization?: ScoreNormalization;
  /** Default 0, 0.05, …, 1. */
  grid?: readonly number[];
  /** Metric to maximise (default RR@10). */
  metric?: string;
  /** Fused documents kept per query (default 100). */
  depth?: number;
  judgedOnly?: boolean;
}

/** The candidate whose fused run has the best mean metric; ties go to the earlier candidate. */
function bestFusion(
  runs: readonly Run[],
  qrels: Qrels,
  candidates: readonly FusionSpec[],
  options: { metric: string; depth?: number; judgedOnly?: boolean },
): { best: number; values: number[] } {
  if (candidates.length === 0) throw new RangeError('fusion tuning: no candidate weights');
  const values = candidates.map(
    (spec) =>
      evaluateRun(fuseRuns(runs, spec, options.depth ?? 100), qrels, [options.metric], { judgedOnly: options.judgedOnly }).mean[
        options.metric
      ],
  );
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return { best, values };
}

/**
 * Grid search of the interpolation weight α (GenIR's share) on judged queries, usually a dev
 * split: the α with the best mean metric; ties go to the smaller α (more weight on BM25).
 */
export function tuneAlpha(genir: Run, bm25: Run, qrels: Qrels, options: TuneAlphaOptions = {}): AlphaTuning {
  const metric = options.metric ?? 'RR@10';
  parseMetric(metric);
  const normalization = options.normalization ?? 'minmax';
  const grid = options.grid ?? DEFAULT_ALPHA_GRID;
  if (grid.length === 0) throw new RangeError('tuneAlpha: empty grid');
  const { best, values } = bestFusion(
    [genir, bm25],
    qrels,
    grid.map((alpha) => interpolation(alpha, normalization)),
    { metric, depth: options.depth, judgedOnly: options.judgedOnly },
  );
  return { alpha: grid[best], value: values[best], metric, normalization, grid: grid.map((alpha, i) => ({ alpha, value: values[i] })) };
}

/**
 * Every weight vector for `lists` runs whose weights are multiples of 1 / `steps` and sum to 1,
 * the first weight ascending, then the second, and so on (for two lists: α = 0, 1/steps, …, 1 on
 * the first).
 */
export function simplexGrid(lists: number, steps: number): number[][] {
  if (!Number.isInteger(lists) || lists < 1) throw new RangeError(`simplexGrid: lists must be a positive integer, got ${lists}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`simplexGrid: steps must be a positive integer, got ${steps}`);
  const grid: number[][] = [];
  const counts: number[] = [];
  const fill = (list: number, left: number): void => {
    if (list === lists - 1) {
      grid.push([...counts, left].map((c) => c / steps));
      return;
    }
    for (let c = 0; c <= left; c++) {
      counts.push(c);
      fill(list + 1, left - c);
      counts.pop();
    }
  };
  fill(0, steps);
  return grid;
}

export interface FusionTuningOptions {
  /** Default interp. */
  method?: FusionMethod;
  /** interp only; default minmax. */
  normalization?: ScoreNormalization;
  /** rrf only; default 60. */
  rrfK?: number;
  /** Grid resolution: weights are multiples of 1 / steps (default 20). */
  steps?: number;
  /** Metric to maximise (default RR@10). */
  metric?: string;
  /** Fused documents kept per query (default 100). */
  depth?: number;
  judgedOnly?: boolean;
}

export interface FusionTuning {
  spec: FusionSpec;
  weights: readonly number[];
  /** The metric's mean with those weights. */
  value: number;
  metric: string;
  /** Weight vectors tried. */
  tried: number;
}

/**
 * Weights of any number of runs (generative, BM25, dense, …) chosen on judged queries by a grid
 * search over the simplex (`simplexGrid`); ties go to the earlier vector of the grid.
 */
export function tuneFusionWeights(runs: readonly Run[], qrels: Qrels, options: FusionTuningOptions = {}): FusionTuning {
  const metric = options.metric ?? 'RR@10';
  parseMetric(metric);
  const method = options.method ?? 'interp';
  const grid = simplexGrid(runs.length, options.steps ?? 20);
  const specOf = (weights: readonly number[]): FusionSpec =>
    method === 'rrf'
      ? { method, weights, ...(options.rrfK === undefined ? {} : { k: options.rrfK }) }
      : { method, weights, normalization: options.normalization ?? 'minmax' };
  const { best, values } = bestFusion(runs, qrels, grid.map(specOf), { metric, depth: options.depth, judgedOnly: options.judgedOnly });
  return { spec: specOf(grid[best]), weights: grid[best], value: values[best], metric, tried: grid.length };
}

export interface HybridSearcherParts {
  generative: GenerativeSearcher;
  /** A BM25 index over the generative model's corpus. */
  bm25: Bm25Index;
  /**
   * BM25 document id → the model's docid key, for corpora where several documents share a
   * docid (pooled XQuAD translations share their relevance id); default: the id itself.
   * The best-ranked document of each key stands for it.
   */
  keyOf?: ReadonlyMap<string, string> | ((docId: string) => string);
  bm25Params?: Partial<Bm25Params>;
}

export interface HybridSearchOptions extends Omit<SearchOptions, 'k'> {
  /** Default: RRF with k = 60. */
  fusion?: FusionSpec;
  /** Fused documents returned per query (default 10). GenIR contributes its whole beam. */
  k?: number;
  /** BM25 documents fused per query (default 1000). */
  bm25Depth?: number;
  /** BM25 search threads for batches (default: every core). */
  bm25Threads?: number;
}

export interface HybridHit {
  /** 1-based. */
  rank: number;
  docId: string;
  title: string | undefined;
  /** Fused score. */
  score: number;
  /** 1-based rank in GenIR's beam and in BM25's list; null where the document is missing. */
  genirRank: number | null;
  bm25Rank: number | null;
}

/** Component runs beside the fused one, for evaluation, α tuning and significance tests. */
export interface HybridRuns {
  hybrid: Run;
  genir: Run;
  bm25: Run;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`hybrid search: ${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * GenIR and BM25 over the same corpus, fused per query. GenIR ranks by docid log-probability
 * over its beam; BM25 returns its top `bm25Depth` documents, mapped to docid keys.
 */
export class HybridSearcher {
  readonly generative: GenerativeSearcher;
  readonly bm25: Bm25Index;
  readonly bm25Params: Partial<Bm25Params>;
  private readonly keyOf: (docId: string) => string;

  constructor(parts: HybridSearcherParts) {
    this.generative = parts.generative;
    this.bm25 = parts.bm25;
    this.bm25Params = parts.bm25Params ?? {};
    const keyOf = parts.keyOf;
    this.keyOf = keyOf === undefined ? (docId) => docId : typeof keyOf === 'function' ? keyOf : (docId) => keyOf.get(docId) ?? docId;
  }

  /**
   * A model directory with a BM25 index over its corpus: `options.index` (a file written by
   * `genir bm25 --index-out`, whose document ids must be the model's docid keys), else an index
   * built from the dataset the model was trained on (its manifest names it; found in `dataDir`).
   */
  static async open(dir: string, options: OpenHybridOptions = {}): Promise<HybridSearcher> {
    const manifest = readModelManifest(dir);
    const generative = await GenerativeSearcher.open(dir, options);
    try {
      const { index, keyOf } =
        options.index !== undefined
          ? { index: await Bm25Index.load(options.index), keyOf: undefined }
          : await modelCorpusIndex(dir, manifest.dataset, options.dataDir);
      checkCoverage(index, keyOf, generative, options.index ?? `the BM25 index of ${dir}'s corpus`);
      return new HybridSearcher({ generative, bm25: index, keyOf, bm25Params: options.bm25Params });
    } catch (err) {
      await generative.release();
      throw err;
    }
  }

  async release(): Promise<void> {
    await this.generative.release();
  }

  /** Component and fused runs over `queries` (a query's `lang` picks the BM25 analyzer's language). */
  async searchRuns(queries: readonly Query[], options: HybridSearchOptions = {}): Promise<HybridRuns> {
    const k = positiveInteger(options.k ?? 10, 'k');
    const bm25Depth = positiveInteger(options.bm25Depth ?? DEFAULT_BM25_DEPTH, 'bm25Depth');
    const fusion = options.fusion ?? { method: 'rrf' };
    const beam = options.beam ?? DEFAULT_BEAM;
    const genir = await this.generative.searchRun(queries, { ...options, beam, k: beam });
    const bm25 = await this.bm25Run(queries, bm25Depth, options.bm25Threads);
    return { hybrid: fuseRuns([genir, bm25], fusion, k), genir, bm25 };
  }

  /** BM25's top `depth` documents per query, as docid keys (the best-ranked document of each key). */
  async bm25Run(queries: readonly Query[], depth = DEFAULT_BM25_DEPTH, threads?: number): Promise<Run> {
    positiveInteger(depth, 'bm25Depth');
    const searchQueries: SearchQuery[] = queries.map((q) => ({ text: q.text, lang: q.lang }));
    const hits = await this.bm25.searchBatch(searchQueries, depth, { params: this.bm25Params, threads });
    return collapseRun(this.bm25.toRun(queries, hits), this.keyOf);
  }

  /** Fused documents for each query, best first, with each system's rank. */
  async search(queries: readonly (string | SearchQuery)[], options: HybridSearchOptions = {}): Promise<HybridHit[][]> {
    const asQueries: Query[] = queries.map((q, i) =>
      typeof q === 'string' ? { id: String(i), text: q } : { id: String(i), text: q.text, lang: q.lang },
    );
    const runs = await this.searchRuns(asQueries, options);
    return asQueries.map((query) => {
      const rankOf = (run: Run) => new Map(sortRanking(run.get(query.id) ?? []).map((entry, i) => [entry.docId, i + 1]));
      const genirRanks = rankOf(runs.genir);
      const bm25Ranks = rankOf(runs.bm25);
      return (runs.hybrid.get(query.id) ?? []).map((entry, i) => ({
        rank: i + 1,
        docId: entry.docId,
        title: this.generative.titles?.get(entry.docId),
        score: entry.score,
        genirRank: genirRanks.get(entry.docId) ?? null,
        bm25Rank: bm25Ranks.get(entry.docId) ?? null,
      }));
    });
  }
}

export interface OpenHybridOptions extends OpenSearcherOptions {
  /** Where the model's dataset lives (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets). */
  dataDir?: string;
  /** A saved BM25 index over the model's corpus, instead of building one from the dataset. */
  index?: string;
  bm25Params?: Partial<Bm25Params>;
}

/**
 * BM25 over the documents the model was trained on (the SFT corpus: for XQuAD, the manifest's
 * languages), with the analyzer `genir bm25` picks: english for English-only data, else
 * multilingual, each document analysed in its own language.
 */
export async function modelCorpusIndex(
  dir: string,
  dataset: Record<string, unknown>,
  dataDir: string | undefined,
): Promise<{ index: Bm25Index; keyOf: Map<string, string>; docs: Document[] }> {
  const id = dataset.id;
  if (typeof id !== 'string')
    throw new UserError(`${dir}/${MANIFEST_FILE}: names no dataset to build a BM25 index from; give --index <file>`);
  const languages = Array.isArray(dataset.languages) ? dataset.languages.filter((l): l is string => typeof l === 'string') : [];
  const corpus = await loadSftCorpus({ dataset: id, dataDir, lang: languages.length > 0 ? languages.join(',') : undefined });
  const english = languages.length === 0 || (languages.length === 1 && languages[0] === 'en');
  const analyzer = english ? getAnalyzer('english', 'en') : getAnalyzer('multilingual', languages.includes('en') ? 'en' : languages[0]);
  const index = await Bm25Index.build(corpus.docs, { analyzer });
  return { index, keyOf: new Map(corpus.docs.map((doc) => [doc.id, corpus.keyOf(doc)])), docs: corpus.docs };
}

/**
 * BM25 over another corpus than the model's would fuse documents the model cannot know: none
 * shared is a user error naming `label`, some missing a warning.
 */
export function checkCoverage(
  index: Bm25Index,
  keyOf: ReadonlyMap<string, string> | undefined,
  generative: Pick<GenerativeSearcher, 'docids'>,
  label: string,
): void {
  let known = 0;
  for (const docId of index.data.docIds) if (generative.docids.indexOf(keyOf?.get(docId) ?? docId) >= 0) known++;
  const total = index.documentCount;
  if (known === 0) throw new UserError(`${label}: none of its ${total} documents is a docid of the model (an index of another corpus?)`);
  if (known < total) warn(`${label}: ${total - known} of its ${total} documents are not docids of the model; GenIR cannot retrieve them`);
}
