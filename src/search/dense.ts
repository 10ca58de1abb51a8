/**
 * Dense retrieval: exact inner-product top-k over every document vector, as one ORT graph
 * per batch of queries (Gemm of the queries against the baked document matrix, then TopK),
 * and the searcher that turns query text into ranked documents with a dense model directory.
 */
import { Graph, Session, exportModel, gemm, topK } from '../engine/index.js';
import type { Query, Run } from '../data/types.js';
import { loadDenseModelDirectory, type DenseManifest } from '../retriever/dense-directory.js';
import type { DenseModel } from '../model/dense.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { passageText } from '../model/dense.js';
import { UserError } from '../util/errors.js';

export interface TopKResult {
  /** [queries, k] row-major: document rows, best first (ties: lower row first). */
  indices: Int32Array;
  /** [queries, k]: their inner products. */
  scores: Float32Array;
  k: number;
}

/** The reference: top-k by inner product with a plain loop over every document (ties: lower row first). */
export function bruteForceTopK(
  queries: Float32Array,
  queryCount: number,
  docs: Float32Array,
  docCount: number,
  dim: number,
  k: number,
): TopKResult {
  const kept = Math.min(k, docCount);
  const indices = new Int32Array(queryCount * kept);
  const scores = new Float32Array(queryCount * kept);
  const bestScores = new Float64Array(kept);
  const bestRows = new Int32Array(kept);
  for (let q = 0; q < queryCount; q++) {
    let filled = 0;
    for (let d = 0; d < docCount; d++) {
      let score = 0;
      for (let j = 0; j < dim; j++) score += queries[q * dim + j] * docs[d * dim + j];
      score = Math.fround(score);
      if (filled === kept && score <= bestScores[kept - 1]) continue;
      // Insertion into the sorted list; a later row never passes an equal score.
      let at = filled === kept ? kept - 1 : filled++;
      while (at > 0 && bestScores[at - 1] < score) {
        bestScores[at] = bestScores[at - 1];
        bestRows[at] = bestRows[at - 1];
        at--;
      }
      bestScores[at] = score;
      bestRows[at] = d;
    }
    indices.set(bestRows.subarray(0, kept), q * kept);
    scores.set(bestScores.subarray(0, kept), q * kept);
  }
  return { indices, scores, k: kept };
}

export interface ExactIndexOptions {
  threads?: number;
  spinning?: boolean;
}

/**
 * Exact maximum-inner-product search over a fixed set of vectors on ONNX Runtime: the
 * document matrix is a graph initializer, so ORT pre-packs it once; a batch of queries costs
 * one matrix product and one TopK. One session per k.
 */
export class ExactIndex {
  private readonly sessions = new Map<number, Promise<Session>>();

  constructor(
    readonly vectors: Float32Array,
    readonly count: number,
    readonly dim: number,
    private readonly options: ExactIndexOptions = {},
  ) {
    if (vectors.length !== count * dim) throw new RangeError(`ExactIndex: ${vectors.length} values for ${count} × ${dim}`);
    if (count < 1) throw new RangeError('ExactIndex: no vectors');
  }

  private session(k: number): Promise<Session> {
    let session = this.sessions.get(k);
    if (session === undefined) {
      const g = new Graph('exact-top-k');
      const queries = g.input('queries', 'float32', ['queries', this.dim]);
      const docs = g.param('docs', [this.count, this.dim]);
      const { values, indices } = topK(gemm(queries, docs, { transB: true }), k);
      g.output('scores', values);
      g.output('indices', indices);
      session = Session.create(exportModel(g, { params: { docs: this.vectors } }), {
        threads: this.options.threads,
        spinning: this.options.spinning,
      });
      this.sessions.set(k, session);
    }
    return session;
  }

  /** The k (at most count) best documents of each query [queryCount, dim]. */
  async search(queries: Float32Array, queryCount: number, k: number): Promise<TopKResult> {
    if (queries.length !== queryCount * this.dim)
      throw new RangeError(`ExactIndex.search: ${queries.length} values for ${queryCount} × ${this.dim}`);
    const kept = Math.min(k, this.count);
    if (queryCount === 0) return { indices: new Int32Array(0), scores: new Float32Array(0), k: kept };
    const session = await this.session(kept);
    const result = await session.run({ queries: { data: queries, dims: [queryCount, this.dim] } });
    return { indices: Int32Array.from(result.indices.data as BigInt64Array, Number), scores: result.scores.data as Float32Array, k: kept };
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}

export interface DenseHit {
  rank: number;
  docId: string;
  title?: string;
  /** Inner product of the unit query and document vectors (cosine similarity). */
  score: number;
}

export interface DenseSearchOptions {
  k?: number;
  /** Queries encoded and searched per batch (default 256). */
  batchQueries?: number;
  onProgress?: (done: number) => void;
}

/** A dense model and the vectors of the documents it searches. */
export class DenseSearcher {
  private constructor(
    readonly model: DenseModel,
    readonly tokenizer: SubwordTokenizer,
    readonly ids: readonly string[],
    readonly titles: readonly string[],
    readonly index: ExactIndex,
    readonly manifest?: DenseManifest,
  ) {}

  /** Opens a dense model directory (weights baked into the encoder: it is not trained further). */
  static async open(dir: string, options: ExactIndexOptions = {}): Promise<DenseSearcher> {
    const loaded = await loadDenseModelDirectory(dir, { threads: options.threads, spinning: options.spinning, bakeInferenceWeights: true });
    const index = new ExactIndex(loaded.vectors, loaded.ids.length, loaded.dim, options);
    return new DenseSearcher(loaded.model, loaded.tokenizer, loaded.ids, loaded.titles, index, loaded.manifest);
  }

  /** A searcher over given documents with a model in memory (they are encoded here). */
  static async fromDocuments(
    model: DenseModel,
    tokenizer: SubwordTokenizer,
    docs: readonly { id: string; title?: string; text: string }[],
    options: ExactIndexOptions = {},
  ): Promise<DenseSearcher> {
    if (docs.length === 0) throw new UserError('dense search: no documents to index');
    const vectors = await model.encode(docs.map((doc) => model.passageTokens(tokenizer, passageText(doc))));
    const index = new ExactIndex(vectors, docs.length, model.config.dModel, options);
    return new DenseSearcher(
      model,
      tokenizer,
      docs.map((d) => d.id),
      docs.map((d) => d.title ?? ''),
      index,
    );
  }

  /** The same model over other documents (encoded now): dense retrieval works on any corpus. */
  async reindex(docs: readonly { id: string; title?: string; text: string }[], options: ExactIndexOptions = {}): Promise<DenseSearcher> {
    return DenseSearcher.fromDocuments(this.model, this.tokenizer, docs, options);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Unit query vectors [texts.length, d]. */
  async encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    return this.model.encode(texts.map((text) => this.model.queryTokens(this.tokenizer, text)));
  }

  /** The top-k documents of each query. */
  async search(texts: readonly string[], options: DenseSearchOptions = {}): Promise<DenseHit[][]> {
    const k = options.k ?? 10;
    const batch = options.batchQueries ?? 256;
    const out: DenseHit[][] = [];
    for (let start = 0; start < texts.length; start += batch) {
      const chunk = texts.slice(start, start + batch);
      const vectors = await this.encodeQueries(chunk);
      const { indices, scores, k: kept } = await this.index.search(vectors, chunk.length, k);
      chunk.forEach((_, q) => {
        out.push(
          Array.from({ length: kept }, (_, r) => {
            const row = indices[q * kept + r];
            return { rank: r + 1, docId: this.ids[row], title: this.titles[row] || undefined, score: scores[q * kept + r] };
          }),
        );
      });
      options.onProgress?.(out.length);
    }
    return out;
  }

  /** A TREC run of `queries`. */
  async searchRun(queries: readonly Query[], options: DenseSearchOptions = {}): Promise<Run> {
    const hits = await this.search(
      queries.map((q) => q.text),
      options,
    );
    return new Map(queries.map((query, i) => [query.id, hits[i].map((hit) => ({ docId: hit.docId, score: hit.score }))]));
  }

  async release(): Promise<void> {
    await this.index.release();
    await this.model.release();
  }
}
