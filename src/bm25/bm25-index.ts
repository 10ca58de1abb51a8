import type { Query, Run, RunEntry } from '../data/types.js';
import { buildIndexFromDocuments, type BuildFromStreamOptions, type IndexableDocument } from './builder.js';
import { loadIndex, saveIndex } from './format.js';
import { searchBatch, SearchPool, type SearchBatchOptions } from './pool.js';
import { Bm25Searcher, type PruningMode } from './searcher.js';
import type { Bm25Params, IndexData, SearchHits, SearchQuery } from './types.js';

/**
 * A BM25 index with Lucene's scoring: build it from documents, save and load it, search
 * one query or a batch (over worker threads).
 */
export class Bm25Index {
  private defaultSearcher: Bm25Searcher | undefined;

  constructor(readonly data: IndexData) {}

  static async build(
    docs: AsyncIterable<IndexableDocument> | Iterable<IndexableDocument>,
    options: BuildFromStreamOptions,
  ): Promise<Bm25Index> {
    return new Bm25Index(await buildIndexFromDocuments(docs, options));
  }

  static async load(path: string): Promise<Bm25Index> {
    return new Bm25Index(await loadIndex(path));
  }

  /** Writes the index atomically in genir's versioned binary format. */
  async save(path: string): Promise<void> {
    await saveIndex(this.data, path);
  }

  get documentCount(): number {
    return this.data.docIds.length;
  }

  get vocabularySize(): number {
    return this.data.terms.length;
  }

  /** A searcher with its own scratch memory; use one per thread. `options.pruning`: see Bm25Searcher. */
  searcher(params: Partial<Bm25Params> = {}, options: { pruning?: PruningMode } = {}): Bm25Searcher {
    return new Bm25Searcher(this.data, params, undefined, options);
  }

  /** The top k documents for one query with the default parameters (k1 = 0.9, b = 0.4). */
  search(query: string | SearchQuery, k = 1000): RunEntry[] {
    this.defaultSearcher ??= new Bm25Searcher(this.data);
    return this.defaultSearcher.searchEntries(query, k);
  }

  /** Top-k hits of every query, in order; large batches move to worker threads (see searchBatch). */
  searchBatch(queries: readonly SearchQuery[], k = 1000, options: SearchBatchOptions = {}): Promise<SearchHits[]> {
    return searchBatch(this.data, queries, k, options);
  }

  /** Starts worker threads over this index for repeated batches; close the pool when done. */
  startPool(params: Partial<Bm25Params> = {}, threads?: number, options: { pruning?: PruningMode } = {}): Promise<SearchPool> {
    return SearchPool.start(this.data, params, threads, options);
  }

  /** Hits as run entries (document ids and scores, best first). */
  toEntries(hits: SearchHits): RunEntry[] {
    const entries = new Array<RunEntry>(hits.docs.length);
    for (let i = 0; i < hits.docs.length; i++) entries[i] = { docId: this.data.docIds[hits.docs[i]], score: hits.scores[i] };
    return entries;
  }

  /** A run from queries and their hits (as searchBatch returns them). */
  toRun(queries: readonly Pick<Query, 'id'>[], hits: readonly SearchHits[]): Run {
    const run: Run = new Map();
    for (let i = 0; i < queries.length; i++) run.set(queries[i].id, this.toEntries(hits[i]));
    return run;
  }
}
