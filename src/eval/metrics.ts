/**
 * Retrieval metrics with trec_eval's semantics under ir-measures' names.
 *
 * What "trec_eval semantics" means here, point by point (docs/metrics.md has the long form):
 * - each query is ranked as trec_eval ranks it, whatever the order of its entries: score
 *   descending, ties by document id descending (byte order), trec_eval's comp_sim_docno;
 * - a document is relevant when its grade is >= the relevance level (default 1); documents
 *   the qrels do not mention, and qrels entries with a negative grade, are not relevant;
 * - nDCG uses the raw grade as gain, 1/log2(rank + 1) as discount and the ideal ranking of
 *   all judged documents of the query (ndcg_cut / ndcg);
 * - the mean is over every query in the qrels, a query the run lacks scoring 0 on every
 *   metric (trec_eval -c, and what ir-measures does); a query with no relevant document
 *   scores 0 and counts; run queries the qrels lack are ignored;
 * - a run listing the same document twice for a query is refused, as trec_eval refuses it.
 */
import type { Qrels, Run, RunEntry } from '../data/types.js';
import { UserError } from '../util/errors.js';
import { compareTrecOrder } from '../data/ranking.js';

/** The metrics genir's results tables report for a retriever, in this order (`genir eval`'s default). */
export const GENIR_METRICS = ['R@1', 'R@5', 'R@10', 'RR@10', 'nDCG@10'] as const;

export type MetricMeasure = 'nDCG' | 'RR' | 'R' | 'P' | 'AP' | 'Success';

export interface MetricSpec {
  /** The name as the user wrote it; result records are keyed by it. */
  readonly name: string;
  readonly measure: MetricMeasure;
  /** Rank cutoff k; undefined means the whole ranking. */
  readonly cutoff: number | undefined;
  /** Minimum grade that counts as relevant (ir-measures `rel`, trec_eval -l). */
  readonly rel: number;
  /** Drop retrieved documents without a judgment before scoring (ir-measures `judged_only`, trec_eval -J). */
  readonly judgedOnly: boolean;
}

export interface EvalResult {
  /** Query id → metric name → value, for every query averaged over. */
  perQuery: Map<string, Record<string, number>>;
  /** Metric name → mean over `queries` queries (NaN when `queries` is 0). */
  mean: Record<string, number>;
  queries: number;
}

export interface EvaluateOptions {
  /** Score every metric as if `judged_only=True` were given (trec_eval -J). */
  judgedOnly?: boolean;
  /**
   * Which queries the mean is over. `qrels` (default): every judged query, missing ones
   * scoring 0, as `trec_eval -c` and ir-measures. `run`: only judged queries the run has,
   * as pytrec_eval's per-query output averaged by BEIR; for scoring a batch of queries.
   */
  averageOver?: 'qrels' | 'run';
}

const MEASURE_ALIASES: ReadonlyMap<string, MetricMeasure> = new Map([
  ['ndcg', 'nDCG'],
  ['rr', 'RR'],
  ['mrr', 'RR'],
  ['r', 'R'],
  ['recall', 'R'],
  ['p', 'P'],
  ['precision', 'P'],
  ['ap', 'AP'],
  ['map', 'AP'],
  ['success', 'Success'],
]);

/** trec_eval's measure names (with `.k` or `_k` cutoffs) and the ir-measures measure each is. */
const TREC_EVAL_NAMES: ReadonlyMap<string, { measure: MetricMeasure; cutoff: 'required' | 'none' }> = new Map([
  ['ndcg_cut', { measure: 'nDCG', cutoff: 'required' }],
  ['ndcg', { measure: 'nDCG', cutoff: 'none' }],
  ['recip_rank', { measure: 'RR', cutoff: 'none' }],
  ['recall', { measure: 'R', cutoff: 'required' }],
  ['p', { measure: 'P', cutoff: 'required' }],
  ['map', { measure: 'AP', cutoff: 'none' }],
  ['map_cut', { measure: 'AP', cutoff: 'required' }],
  ['success', { measure: 'Success', cutoff: 'required' }],
]);

const CUTOFF_REQUIRED: ReadonlySet<MetricMeasure> = new Set(['R', 'P', 'Success']);

const VALID_FORMS =
  'valid forms: nDCG@k, nDCG, RR@k, RR, MRR@k, R@k, P@k, AP, MAP, AP@k, Success@k; ' +
  'parameters as ir-measures writes them, e.g. P(rel=2)@10, AP(judged_only=True); ' +
  'trec_eval names also work (ndcg_cut.10, ndcg, recip_rank, recall.100, P.10, map, map_cut.10, success.10)';

const IR_MEASURES_FORM = /^([A-Za-z]+)(?:\(([^()]*)\))?(?:@(\d+))?$/;
const TREC_EVAL_FORM = /^([A-Za-z_]+?)(?:[._](\d+))?$/;

/** Parses an ir-measures metric name such as `nDCG@10`, `MRR@10` or `P(rel=2)@5`. */
export function parseMetric(name: string): MetricSpec {
  const text = name.trim();
  const irMatch = IR_MEASURES_FORM.exec(text);
  const measure = irMatch ? MEASURE_ALIASES.get(irMatch[1].toLowerCase()) : undefined;
  if (irMatch && measure !== undefined) {
    const cutoff = irMatch[3] === undefined ? undefined : parseCutoff(name, irMatch[3]);
    if (cutoff === undefined && CUTOFF_REQUIRED.has(measure)) {
      throw new UserError(`metric '${name}': ${measure} needs a cutoff, e.g. ${measure}@10`);
    }
    const params = parseParams(name, measure, irMatch[2]);
    return { name, measure, cutoff, rel: params.rel, judgedOnly: params.judgedOnly };
  }
  const trecMatch = TREC_EVAL_FORM.exec(text);
  const trecName = trecMatch ? TREC_EVAL_NAMES.get(trecMatch[1].toLowerCase()) : undefined;
  if (trecMatch && trecName !== undefined) {
    const hasCutoff = trecMatch[2] !== undefined;
    if (hasCutoff === (trecName.cutoff === 'required')) {
      const cutoff = hasCutoff ? parseCutoff(name, trecMatch[2]) : undefined;
      return { name, measure: trecName.measure, cutoff, rel: 1, judgedOnly: false };
    }
  }
  throw new UserError(`unknown metric '${name}'; ${VALID_FORMS}`);
}

/** Splits `nDCG@10,P(rel=2,judged_only=True)@5` on the commas outside parentheses. */
export function splitMetricList(list: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    const ch = list[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (i === list.length || (ch === ',' && depth === 0)) {
      const item = list.slice(start, i).trim();
      if (item !== '') names.push(item);
      start = i + 1;
    }
  }
  return names;
}

function parseCutoff(name: string, digits: string): number {
  const cutoff = Number(digits);
  if (!Number.isSafeInteger(cutoff) || cutoff < 1) throw new UserError(`metric '${name}': the cutoff must be a positive integer`);
  return cutoff;
}

function parseParams(name: string, measure: MetricMeasure, list: string | undefined): { rel: number; judgedOnly: boolean } {
  let rel = 1;
  let judgedOnly = false;
  if (list === undefined || list.trim() === '') return { rel, judgedOnly };
  for (const part of list.split(',')) {
    const [key, value, ...rest] = part.split('=').map((s) => s.trim());
    if (value === undefined || rest.length > 0) throw new UserError(`metric '${name}': parameters are written key=value, e.g. P(rel=2)@10`);
    if (key === 'rel') {
      if (measure === 'nDCG') throw new UserError(`metric '${name}': nDCG takes no rel parameter; its gains are the grades themselves`);
      if (!/^\d+$/.test(value)) throw new UserError(`metric '${name}': rel must be a non-negative integer`);
      rel = Number(value);
    } else if (key === 'judged_only') {
      if (value !== 'True' && value !== 'False') throw new UserError(`metric '${name}': judged_only must be True or False`);
      judgedOnly = value === 'True';
    } else {
      throw new UserError(`metric '${name}': unknown parameter '${key}' (known: rel, judged_only)`);
    }
  }
  return { rel, judgedOnly };
}

/** log2(rank + 1) by rank, grown on demand; trec_eval divides each gain by it. */
let log2Table = new Float64Array(0);

function log2Discount(rank: number): number {
  if (rank >= log2Table.length) {
    const grown = new Float64Array(Math.max(rank + 1, 2 * log2Table.length, 1024));
    for (let r = 0; r < grown.length; r++) grown[r] = Math.log2(r + 1);
    log2Table = grown;
  }
  return log2Table[rank];
}

const EMPTY_JUDGMENTS: ReadonlyMap<string, number> = new Map();

/**
 * The judged documents of one ranking (grade >= 0; trec_eval treats negative grades as
 * "in the pool but unjudged"), in trec_eval order, with their ranks. Every metric here
 * depends only on these: documents the qrels do not mention are non-relevant, and they
 * matter only through the ranks they push the judged ones down to.
 */
interface JudgedRanking {
  /** Grades in rank order. */
  grades: Float64Array;
  /** 1-based rank among all retrieved documents. */
  ranks: Float64Array;
  /** Number of retrieved documents. */
  retrieved: number;
}

/**
 * Scores one query's ranking. `judgments` is the query's qrels (document → grade);
 * undefined means the query has none. Writes one value per spec into `out` (or a
 * new record) under `spec.name`. Throws UserError on a repeated document or a NaN score.
 */
export function evaluateQuery(
  queryId: string,
  entries: readonly RunEntry[],
  judgments: ReadonlyMap<string, number> | undefined,
  specs: readonly MetricSpec[],
  options: { judgedOnly?: boolean } = {},
  out: Record<string, number> = {},
): Record<string, number> {
  const qrels = judgments ?? EMPTY_JUDGMENTS;
  const ranking = rankJudged(queryId, entries, qrels);
  let idealGains: Float64Array | undefined;
  const relevantCounts = new Map<number, number>();

  for (const spec of specs) {
    const judgedOnly = spec.judgedOnly || options.judgedOnly === true;
    const { grades, ranks } = ranking;
    const found = grades.length;
    // With judged_only the unjudged documents are dropped, so the m-th judged document has rank m + 1.
    const rankOf = judgedOnly ? (m: number) => m + 1 : (m: number) => ranks[m];
    const retrieved = judgedOnly ? found : ranking.retrieved;
    const depth = spec.cutoff ?? Infinity;
    let value = 0;
    switch (spec.measure) {
      case 'nDCG': {
        idealGains ??= positiveGradesDescending(qrels);
        const ideal = idealDcg(idealGains, spec.cutoff);
        if (ideal === 0) break;
        let dcg = 0;
        for (let m = 0; m < found; m++) {
          const rank = rankOf(m);
          if (rank > depth) break;
          if (grades[m] > 0) dcg += grades[m] / log2Discount(rank);
        }
        value = dcg / ideal;
        break;
      }
      case 'RR': {
        for (let m = 0; m < found; m++) {
          const rank = rankOf(m);
          if (rank > depth) break;
          if (grades[m] >= spec.rel) {
            value = 1 / rank;
            break;
          }
        }
        break;
      }
      case 'P': {
        // trec_eval divides by k even when fewer than k documents were retrieved.
        const divisor = spec.cutoff ?? retrieved;
        if (divisor > 0) value = countRelevant(ranking, judgedOnly, depth, spec.rel) / divisor;
        break;
      }
      case 'R': {
        const relevant = relevantCount(qrels, spec.rel, relevantCounts);
        if (relevant > 0) value = countRelevant(ranking, judgedOnly, depth, spec.rel) / relevant;
        break;
      }
      case 'AP': {
        const relevant = relevantCount(qrels, spec.rel, relevantCounts);
        if (relevant === 0) break;
        let relevantSoFar = 0;
        let sum = 0;
        for (let m = 0; m < found; m++) {
          const rank = rankOf(m);
          if (rank > depth) break;
          if (grades[m] >= spec.rel) {
            relevantSoFar++;
            sum += relevantSoFar / rank;
          }
        }
        value = sum / relevant;
        break;
      }
      case 'Success': {
        value = countRelevant(ranking, judgedOnly, depth, spec.rel) > 0 ? 1 : 0;
        break;
      }
    }
    out[spec.name] = value;
  }
  return out;
}

/**
 * Finds the judged documents of a ranking and their ranks without sorting the whole
 * ranking: the judged ones (usually a handful) are sorted, and every other document
 * only adds one to the ranks of the judged documents it precedes (binary search).
 */
function rankJudged(queryId: string, entries: readonly RunEntry[], qrels: ReadonlyMap<string, number>): JudgedRanking {
  const seen = new Set<string>();
  const judged: RunEntry[] = [];
  const judgedGrades = new Map<RunEntry, number>();
  for (const entry of entries) {
    if (Number.isNaN(entry.score)) throw new UserError(`run query '${queryId}': document '${entry.docId}' has score NaN`);
    const size = seen.size;
    seen.add(entry.docId);
    if (seen.size === size) {
      throw new UserError(`run query '${queryId}' lists document '${entry.docId}' twice (trec_eval refuses such runs too)`);
    }
    const grade = qrels.get(entry.docId);
    if (grade !== undefined && grade >= 0) {
      judged.push(entry);
      judgedGrades.set(entry, grade);
    }
  }
  const count = judged.length;
  const grades = new Float64Array(count);
  const ranks = new Float64Array(count);
  if (count === 0) return { grades, ranks, retrieved: entries.length };
  judged.sort(compareTrecOrder);

  // precededBy[m]: unjudged documents that rank before judged[m] but after judged[m - 1].
  const precededBy = new Float64Array(count);
  const lastScore = judged[count - 1].score;
  for (const entry of entries) {
    if (entry.score < lastScore || judgedGrades.has(entry)) continue;
    let low = 0;
    let high = count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareTrecOrder(entry, judged[mid]) < 0) high = mid;
      else low = mid + 1;
    }
    if (low < count) precededBy[low]++;
  }
  let unjudgedBefore = 0;
  for (let m = 0; m < count; m++) {
    unjudgedBefore += precededBy[m];
    grades[m] = judgedGrades.get(judged[m]) ?? 0;
    ranks[m] = m + 1 + unjudgedBefore;
  }
  return { grades, ranks, retrieved: entries.length };
}

function countRelevant(ranking: JudgedRanking, judgedOnly: boolean, depth: number, rel: number): number {
  const { grades, ranks } = ranking;
  let count = 0;
  for (let m = 0; m < grades.length; m++) {
    if ((judgedOnly ? m + 1 : ranks[m]) > depth) break;
    if (grades[m] >= rel) count++;
  }
  return count;
}

function relevantCount(qrels: ReadonlyMap<string, number>, rel: number, cache: Map<number, number>): number {
  let count = cache.get(rel);
  if (count === undefined) {
    count = 0;
    for (const grade of qrels.values()) if (grade >= rel) count++;
    cache.set(rel, count);
  }
  return count;
}

function positiveGradesDescending(qrels: ReadonlyMap<string, number>): Float64Array {
  const gains: number[] = [];
  for (const grade of qrels.values()) if (grade > 0) gains.push(grade);
  return Float64Array.from(gains).sort().reverse();
}

/** DCG of the ideal ranking: every judged document, highest grade first (trec_eval's rel_levels walk). */
function idealDcg(idealGains: Float64Array, cutoff: number | undefined): number {
  const depth = cutoff === undefined ? idealGains.length : Math.min(cutoff, idealGains.length);
  let ideal = 0;
  for (let i = 0; i < depth; i++) ideal += idealGains[i] / log2Discount(i + 1);
  return ideal;
}

/** Parses every name, refusing unknown ones before any work is done. */
export function parseMetrics(names: readonly string[]): MetricSpec[] {
  if (names.length === 0) throw new UserError(`no metrics given; ${VALID_FORMS}`);
  return names.map(parseMetric);
}

/**
 * Scores a run against qrels with trec_eval -c semantics (see the header of this file).
 * `metrics` are ir-measures names; the records in the result are keyed by them as written.
 */
export function evaluateRun(run: Run, qrels: Qrels, metrics: string[], options: EvaluateOptions = {}): EvalResult {
  const specs = parseMetrics(metrics);
  const perQuery = new Map<string, Record<string, number>>();
  const sums = new Float64Array(specs.length);
  const queryOptions = { judgedOnly: options.judgedOnly ?? false };
  const averageOverRun = options.averageOver === 'run';
  const queryIds = averageOverRun ? run.keys() : qrels.keys();

  for (const queryId of queryIds) {
    const judgments = qrels.get(queryId);
    if (judgments === undefined) continue;
    const values = evaluateQuery(queryId, run.get(queryId) ?? [], judgments, specs, queryOptions);
    for (let m = 0; m < specs.length; m++) sums[m] += values[specs[m].name];
    perQuery.set(queryId, values);
  }

  const queries = perQuery.size;
  const mean: Record<string, number> = {};
  for (let m = 0; m < specs.length; m++) mean[specs[m].name] = queries === 0 ? Number.NaN : sums[m] / queries;
  return { perQuery, mean, queries };
}
