/**
 * Trie-constrained beam search over docids, batched over queries.
 *
 * Every query is encoded once; each decoder step then runs all live hypotheses of all
 * queries as one batch (rows grouped by query). Only the trie children of a hypothesis are
 * candidates, so the scan per row touches those log-probabilities and nothing else of the
 * vocabulary. A candidate that ends in EOS is a whole docid (a trie leaf) and goes to the
 * query's finished list; the others compete for the `beam` live slots. Finished hypotheses
 * never take a live slot, so with `beam` at least the number of documents every docid
 * prefix survives and the search is exhaustive.
 *
 * Scores are the model's own log-probabilities, summed: the mask picks candidates but does
 * not renormalise (as DDRO's and NCI's constrained decoding through Hugging Face's prefix
 * processor, applied after log-softmax), so a document's score equals the teacher-forced
 * log-probability of its docid. `renormalize: true` instead scores under the distribution
 * restricted to the allowed tokens (each step's allowed log-probs minus their logsumexp);
 * the scores of all documents then sum to one in probability.
 *
 * Because log-probabilities are ≤ 0, a live hypothesis already below the k-th finished
 * score can never enter the top k; it is dropped, and a query ends when none is left.
 */
import type { DocidTable } from '../docids/table.js';
import type { HostTensor } from '../engine/index.js';
import type { DocidTrie } from '../docids/trie.js';
import { totalVocabSize } from '../model/config.js';
import { encoderInputs, expandEncoded, isIdentity, selectRows, StepWorkspace, type DecoderCache } from '../model/generation.js';
import type { DocidDecoder } from './decoder.js';

export interface BeamSearchOptions {
  /** Live hypotheses kept per query at each step (default 10). */
  beam?: number;
  /** Documents returned per query (default: beam); at most beam. */
  k?: number;
  /** Score under the distribution renormalised over the allowed tokens (default false: raw log-probs). */
  renormalize?: boolean;
  /** Filled with counters of the work done, when given. */
  stats?: BeamSearchStats;
  /**
   * Per query (by index): an array to append one `BeamTraceStep` per decoder step to, for a
   * view of the search; undefined entries are not traced (and cost nothing).
   */
  trace?: readonly (BeamTraceStep[] | undefined)[];
}

/** A docid prefix at one step of a traced search: its tokens (output ids, EOS included when finished) and score. */
export interface TracedPrefix {
  tokens: number[];
  score: number;
}

/** What one decoder step did to one query's hypotheses. */
export interface BeamTraceStep {
  /** Prefixes kept as live hypotheses for the next step, best first. */
  kept: TracedPrefix[];
  /** Whole docids (ending in EOS) offered to the finished list at this step, best first. */
  finished: (TracedPrefix & { doc: number })[];
  /** The best candidates that were not kept (at most `beam` of them), best first. */
  pruned: TracedPrefix[];
  /** How many candidates were not kept in all (pruned lists only the best). */
  prunedCount: number;
}

export interface BeamSearchStats {
  /** Decoder calls (one per generated position). */
  decoderSteps: number;
  /** Hypotheses run through the decoder, summed over steps. */
  decodedRows: number;
}

/** One retrieved document: its index in the docid table and its docid's log-probability. */
export interface RankedDocid {
  doc: number;
  logProb: number;
}

export const DEFAULT_BEAM = 10;

/** Resolves and checks beam and k. */
export function beamSettings(options: Pick<BeamSearchOptions, 'beam' | 'k'>): { beam: number; k: number } {
  const beam = options.beam ?? DEFAULT_BEAM;
  const k = options.k ?? beam;
  if (!Number.isInteger(beam) || beam < 1) throw new RangeError(`beam search: beam must be a positive integer, got ${beam}`);
  if (!Number.isInteger(k) || k < 1 || k > beam) throw new RangeError(`beam search: k must be an integer in [1, beam = ${beam}], got ${k}`);
  return { beam, k };
}

/** The best `capacity` finished documents of one query, best first (ties: lower document index first). */
class FinishedList {
  readonly docs: Int32Array;
  readonly scores: Float64Array;
  size = 0;
  /** Scores below this cannot enter the list: the worst kept score once full, −∞ before. */
  threshold = -Infinity;

  constructor(private readonly capacity: number) {
    this.docs = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  offer(doc: number, score: number): void {
    const { docs, scores, capacity } = this;
    let i = this.size;
    if (i === capacity) {
      const worst = scores[i - 1];
      if (score < worst || (score === worst && doc > docs[i - 1])) return;
      i -= 1;
    } else {
      this.size += 1;
    }
    while (i > 0 && (scores[i - 1] < score || (scores[i - 1] === score && docs[i - 1] > doc))) {
      scores[i] = scores[i - 1];
      docs[i] = docs[i - 1];
      i -= 1;
    }
    scores[i] = score;
    docs[i] = doc;
    if (this.size === capacity) this.threshold = scores[capacity - 1];
  }

  ranked(): RankedDocid[] {
    return Array.from({ length: this.size }, (_, i) => ({ doc: this.docs[i], logProb: this.scores[i] }));
  }
}

/**
 * The best `capacity` live candidates of one query as a binary min-heap (root = worst).
 * Order: score, then enumeration order (earlier wins a tie), so results are deterministic.
 */
class CandidateHeap {
  readonly score: Float64Array;
  readonly order: Int32Array;
  readonly row: Int32Array;
  readonly token: Int32Array;
  readonly child: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.score = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.row = new Int32Array(capacity);
    this.token = new Int32Array(capacity);
    this.child = new Int32Array(capacity);
  }

  /** Whether slot a is worse than slot b. */
  private worse(a: number, b: number): boolean {
    return this.score[a] < this.score[b] || (this.score[a] === this.score[b] && this.order[a] > this.order[b]);
  }

  private swap(a: number, b: number): void {
    const { score, order, row, token, child } = this;
    let t = score[a];
    score[a] = score[b];
    score[b] = t;
    t = order[a];
    order[a] = order[b];
    order[b] = t;
    t = row[a];
    row[a] = row[b];
    row[b] = t;
    t = token[a];
    token[a] = token[b];
    token[b] = t;
    t = child[a];
    child[a] = child[b];
    child[b] = t;
  }

  /** Whether a candidate with this score would be kept (ties lose: they come later in order). */
  admits(score: number): boolean {
    return this.size < this.capacity || score > this.score[0];
  }

  /** Adds a candidate the heap admits, evicting the worst when full. */
  push(score: number, order: number, row: number, token: number, child: number): void {
    let i: number;
    if (this.size < this.capacity) {
      i = this.size++;
      this.set(i, score, order, row, token, child);
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    this.set(0, score, order, row, token, child);
    this.siftDown(0);
  }

  private set(i: number, score: number, order: number, row: number, token: number, child: number): void {
    this.score[i] = score;
    this.order[i] = order;
    this.row[i] = row;
    this.token[i] = token;
    this.child[i] = child;
  }

  private siftDown(start: number): void {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) return;
      let worst = left;
      if (left + 1 < this.size && this.worse(left + 1, left)) worst = left + 1;
      if (!this.worse(worst, i)) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  /** Moves the worst candidate to slot `size - 1` and shrinks the heap past it. */
  popWorstToEnd(): number {
    const last = --this.size;
    this.swap(0, last);
    this.siftDown(0);
    return last;
  }
}

/** log Σ exp(logProbs[offset + columnOf[t]]) over the tokens t. */
function logSumExp(logProbs: Float32Array, offset: number, tokens: Int32Array, columnOf: Int32Array): number {
  let max = -Infinity;
  for (let j = 0; j < tokens.length; j++) max = Math.max(max, logProbs[offset + columnOf[tokens[j]]]);
  if (max === -Infinity) return max;
  let sum = 0;
  for (let j = 0; j < tokens.length; j++) sum += Math.exp(logProbs[offset + columnOf[tokens[j]]] - max);
  return max + Math.log(sum);
}

/** Whether EOS is the only token allowed after `node`. */
function onlyEosAfter(trie: DocidTrie, node: number, eos: number): boolean {
  const children = trie.childrenOf(node);
  return children.length === 1 && children[0] === eos;
}

/**
 * The encoder rows a decoder step reads, given each live row's query (rows grouped by query):
 * one per live query when every live query has equally many rows (the step graph reads each
 * query's cross-attention keys once for its group), else one per row.
 */
function stepSources(rowQuery: Int32Array, rows: number): Int32Array {
  const firsts: number[] = [];
  for (let row = 0; row < rows; row++) if (row === 0 || rowQuery[row] !== rowQuery[row - 1]) firsts.push(row);
  const groupSize = rows / firsts.length;
  if (!firsts.every((first, i) => first === i * groupSize)) return rowQuery.slice(0, rows);
  return Int32Array.from(firsts, (first) => rowQuery[first]);
}

function equalRows(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface TraceCandidate {
  row: number;
  token: number;
  score: number;
  /** The document a finished candidate completed, −1 for the others. */
  finishedAt: number;
}

/** One query's step for the trace: kept rows are `next … next + kept` of the next-step arrays. */
function traceStep(
  candidates: readonly TraceCandidate[],
  rowPrefix: readonly number[][],
  parents: Int32Array,
  tokens: Int32Array,
  next: number,
  kept: number,
  beam: number,
  eos: number,
): BeamTraceStep {
  const keptKeys = new Set<string>();
  const keptPrefixes: TracedPrefix[] = [];
  for (let i = next; i < next + kept; i++) keptKeys.add(`${parents[i]}:${tokens[i]}`);
  const finishedPrefixes: BeamTraceStep['finished'] = [];
  const pruned: TracedPrefix[] = [];
  for (const candidate of candidates) {
    const prefix = { tokens: [...rowPrefix[candidate.row], candidate.token], score: candidate.score };
    if (candidate.finishedAt >= 0) {
      if (candidate.token !== eos) prefix.tokens.push(eos);
      finishedPrefixes.push({ ...prefix, doc: candidate.finishedAt });
    } else if (keptKeys.has(`${candidate.row}:${candidate.token}`)) keptPrefixes.push(prefix);
    else pruned.push(prefix);
  }
  const best = (a: TracedPrefix, b: TracedPrefix) => b.score - a.score;
  pruned.sort(best);
  return {
    kept: keptPrefixes.sort(best),
    finished: finishedPrefixes.sort(best),
    pruned: pruned.slice(0, beam),
    prunedCount: pruned.length,
  };
}

/**
 * Top-k documents for each source (token ids without EOS; EOS is appended), best first,
 * with their docid log-probabilities. Ties in score go to the lower document index.
 */
export async function constrainedBeamSearch(
  decoder: DocidDecoder,
  table: DocidTable,
  sources: readonly ArrayLike<number>[],
  options: BeamSearchOptions = {},
): Promise<RankedDocid[][]> {
  const { beam, k } = beamSettings(options);
  const renormalize = options.renormalize ?? false;
  const config = decoder.config;
  const vocab = totalVocabSize(config);
  if (vocab < table.outputVocabSize) {
    throw new Error(`beam search: the model's output vocabulary (${vocab}) is smaller than the docids' (${table.outputVocabSize})`);
  }
  const eos = table.layout.eosId;
  if (eos !== config.eosTokenId) throw new Error(`beam search: docid EOS ${eos} differs from the model's EOS ${config.eosTokenId}`);
  const queries = sources.length;
  if (queries === 0) return [];
  const trie = table.trie;

  const { inputIds, mask, srcLength } = encoderInputs(sources, config.padTokenId, eos);
  const encoded = await decoder.encode(inputIds, mask, queries, srcLength);
  const finished = Array.from({ length: queries }, () => new FinishedList(k));
  const heap = new CandidateHeap(beam);

  // Live hypotheses, grouped by query; a trie node names the whole prefix, so no token history is kept.
  const capacity = queries * beam;
  let rowQuery = new Int32Array(capacity);
  let rowNode = new Int32Array(capacity);
  let rowScore = new Float64Array(capacity);
  let nextQuery = new Int32Array(capacity);
  let nextNode = new Int32Array(capacity);
  let nextScore = new Float64Array(capacity);
  const nextParent = new Int32Array(capacity);
  const nextToken = new Int32Array(capacity);
  for (let q = 0; q < queries; q++) rowQuery[q] = q;
  let rows = queries;
  let tokens = new BigInt64Array(queries).fill(BigInt(config.decoderStartTokenId));
  // Traced queries only: each live row's prefix tokens, and the current step's candidates.
  const traced = options.trace !== undefined && options.trace.some((steps) => steps !== undefined);
  let rowPrefix: number[][] = traced ? Array.from({ length: queries }, () => []) : [];
  const candidates: TraceCandidate[] = [];
  let cache: DecoderCache = decoder.emptyCache(queries);
  let expanded = encoded;
  let expandedFrom: Int32Array = Int32Array.from({ length: queries }, (_, q) => q);
  const workspace = acquireWorkspace(vocab);
  try {
    return await search(workspace);
  } finally {
    releaseWorkspace(workspace);
  }

  async function search(workspace: StepWorkspace): Promise<RankedDocid[][]> {
    const identity = workspace.identityColumns();

    while (rows > 0) {
      // Only the live rows' trie children are read: the step is asked for those columns alone.
      workspace.clearColumns();
      for (let row = 0; row < rows; row++) {
        const children = trie.childrenOf(rowNode[row]);
        for (let j = 0; j < children.length; j++) workspace.addColumn(children[j]);
      }
      const step = await decoder.decoderStep(expanded, cache, tokens, workspace);
      const columnOf = step.columns?.of ?? identity;
      const width = step.columns?.count ?? vocab;
      if (options.stats) {
        options.stats.decoderSteps += 1;
        options.stats.decodedRows += rows;
      }
      const logProbs = step.logProbs;
      let next = 0;
      for (let first = 0; first < rows;) {
        const q = rowQuery[first];
        let end = first + 1;
        while (end < rows && rowQuery[end] === q) end++;
        const done = finished[q];
        const steps = traced ? options.trace?.[q] : undefined;
        if (steps !== undefined) candidates.length = 0;
        let order = 0;
        for (let row = first; row < end; row++) {
          const node = rowNode[row];
          const children = trie.childrenOf(node);
          const offset = row * width;
          const base = renormalize ? rowScore[row] - logSumExp(logProbs, offset, children, columnOf) : rowScore[row];
          for (let j = 0; j < children.length; j++, order++) {
            const token = children[j];
            const score = base + logProbs[offset + columnOf[token]];
            if (steps !== undefined) candidates.push({ row, token, score, finishedAt: -1 });
            if (score < done.threshold) continue;
            if (token === eos) {
              const doc = trie.docAt(trie.step(node, token));
              done.offer(doc, score);
              if (steps !== undefined) candidates[candidates.length - 1].finishedAt = doc;
              continue;
            }
            if (!heap.admits(score)) continue;
            const child = trie.step(node, token);
            if (renormalize && onlyEosAfter(trie, child, eos)) {
              // EOS would get log-probability 0 under renormalisation: finish without decoding it.
              const doc = trie.docAt(trie.step(child, eos));
              done.offer(doc, score);
              if (steps !== undefined) candidates[candidates.length - 1].finishedAt = doc;
              continue;
            }
            heap.push(score, order, row, token, child);
          }
        }
        // Worst first into the slots from the back, dropping what the finished list has overtaken.
        let kept = heap.size;
        while (kept > 0 && heap.score[0] < done.threshold) {
          heap.popWorstToEnd();
          kept -= 1;
        }
        while (heap.size > 0) {
          const slot = heap.popWorstToEnd();
          const at = next + slot;
          nextQuery[at] = q;
          nextNode[at] = heap.child[slot];
          nextScore[at] = heap.score[slot];
          nextParent[at] = heap.row[slot];
          nextToken[at] = heap.token[slot];
        }
        if (steps !== undefined) steps.push(traceStep(candidates, rowPrefix, nextParent, nextToken, next, kept, beam, eos));
        next += kept;
        first = end;
      }
      if (next === 0) break;
      if (traced) {
        const prefixes: number[][] = new Array(next);
        for (let i = 0; i < next; i++)
          prefixes[i] = options.trace?.[nextQuery[i]] === undefined ? [] : [...rowPrefix[nextParent[i]], nextToken[i]];
        rowPrefix = prefixes;
      }

      if (next === rows && isIdentity(nextParent, next)) cache = step.cache;
      else if (step.extend !== undefined) cache = step.extend(nextParent, next);
      else {
        const reorder = (t: HostTensor) => selectRows(t, nextParent, next);
        cache = { length: step.cache.length, keys: step.cache.keys.map(reorder), values: step.cache.values.map(reorder) };
      }
      const sources = stepSources(nextQuery, next);
      if (!equalRows(sources, expandedFrom)) {
        expanded = expandEncoded(encoded, sources);
        expandedFrom = sources;
      }
      tokens = new BigInt64Array(next);
      for (let i = 0; i < next; i++) tokens[i] = BigInt(nextToken[i]);
      [rowQuery, nextQuery] = [nextQuery, rowQuery];
      [rowNode, nextNode] = [nextNode, rowNode];
      [rowScore, nextScore] = [nextScore, rowScore];
      rows = next;
    }
    return finished.map((list) => list.ranked());
  }
}

/**
 * Workspaces of finished searches, kept for the next ones: their buffers then reach their
 * largest size once per process instead of being allocated (and collected) for every batch of
 * queries. Concurrent searches each take their own.
 */
const idleWorkspaces: StepWorkspace[] = [];
const MAX_IDLE_WORKSPACES = 4;

function acquireWorkspace(vocab: number): StepWorkspace {
  const at = idleWorkspaces.findIndex((w) => w.vocab === vocab);
  return at >= 0 ? idleWorkspaces.splice(at, 1)[0] : new StepWorkspace(vocab);
}

function releaseWorkspace(workspace: StepWorkspace): void {
  if (idleWorkspaces.length < MAX_IDLE_WORKSPACES) idleWorkspaces.push(workspace);
}
