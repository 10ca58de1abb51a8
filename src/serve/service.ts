/**
 * The search behind `genir serve`: a model directory loaded once (ONNX inference graphs, docid
 * trie, titles), the corpus it was trained on (document store and a BM25 index over it, built at
 * start or loaded from `--index`), and a micro-batcher in front of constrained beam search.
 */
import { availableParallelism } from 'node:os';
import { Bm25Index } from '../bm25/bm25-index.js';
import { collapseRun } from '../data/collapse.js';
import type { RunEntry } from '../data/types.js';
import { sortRanking } from '../data/ranking.js';
import type { DocidTable } from '../docids/table.js';
import { loadModelDirectory, readModelManifest } from '../retriever/directory.js';
import type { BeamTraceStep } from '../search/beam.js';
import { docidText, DocumentStore, guessLanguage, loadModelDocuments } from '../search/documents.js';
import { checkCoverage, DEFAULT_BM25_DEPTH, DEFAULT_RRF_K, fuseLists, modelCorpusIndex } from '../search/hybrid.js';
import type { WeightQuantization } from '../model/t5-graph.js';
import { GenerativeSearcher, type SearchHit } from '../search/searcher.js';
import { snippet } from '../search/snippet.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { UserError, warn } from '../util/errors.js';
import { MicroBatcher, type MicroBatcherOptions } from './batcher.js';
import { GenirWorkers } from './genir-workers.js';

export type SearchMode = 'genir' | 'bm25' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['genir', 'bm25', 'hybrid'];

export interface SearchServiceOptions {
  /** Model directory (genir train sft --out). */
  model: string;
  /** Where the model's dataset lives (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets). */
  dataDir?: string;
  /** A saved BM25 index of the model's corpus instead of building one. */
  index?: string;
  /** ONNX Runtime threads in all (default: every core), split evenly between the search workers. */
  threads?: number;
  /**
   * Search workers: worker threads that each run one beam-search batch at a time with their own
   * ONNX sessions (default defaultWorkers()); 0 searches on the main thread, one batch at a time.
   */
  workers?: number;
  /** Inference graphs with quantized weights (built from the model's weights at load); float32 when undefined. */
  quantize?: WeightQuantization;
  /** Micro-batching and the queue bound; `maxBatch` defaults to defaultMaxBatch(workers). */
  batching: Pick<MicroBatcherOptions, 'maxQueue' | 'windowMs'> & Partial<Pick<MicroBatcherOptions, 'maxBatch'>>;
  /** Metrics hooks. */
  onBatch?: (size: number) => void;
  onQueueDepth?: (depth: number) => void;
  onRunning?: (batches: number) => void;
}

/**
 * Search workers by default: two on a machine of two cores or more (docs/serving.md, "Search
 * workers", measured 2 × 1 thread against 1 × 2 on the 2-core machine), else none.
 */
export function defaultWorkers(cores = availableParallelism()): number {
  return cores >= 2 ? 2 : 0;
}

/**
 * Queries per batch by default: 8 with search workers, 16 without. With two workers and 32
 * clients, batches of up to 8 gave a lower p99 than batches of up to 16 (docs/serving.md,
 * "Search workers": 396–397 ms against 464–497 ms), whose workers alternated uneven batches
 * (10 queries on average); on the main thread alone, 16 is the measured best (docs/benchmarks.md).
 */
export function defaultMaxBatch(workers: number): number {
  return workers > 0 ? 8 : 16;
}

export interface SearchRequest {
  query: string;
  k: number;
  beam: number;
  mode: SearchMode;
  /** The query's language (cross-lingual models); guessed from its script when absent. */
  lang?: string;
  /** GenIR: return the beam's steps. */
  trace?: boolean;
}

export interface HitView {
  rank: number;
  /** The document id (docid key). */
  doc_id: string;
  /** The docid the model generates, written out. */
  docid: string;
  title: string | null;
  snippet: string | null;
  /** log p (genir), BM25 score (bm25) or RRF score (hybrid). */
  score: number;
  genir_rank?: number | null;
  bm25_rank?: number | null;
}

export interface TracedPrefixView {
  docid: string;
  score: number;
  /** Finished docids: the document. */
  doc_id?: string;
}

export interface BeamStepView {
  step: number;
  kept: TracedPrefixView[];
  finished: TracedPrefixView[];
  pruned: TracedPrefixView[];
  pruned_count: number;
}

export interface SearchResponse {
  query: string;
  mode: SearchMode;
  k: number;
  beam: number;
  /** The query language used (cross-lingual models), and whether it was given, guessed or the default. */
  language: { code: string; source: 'given' | 'detected' | 'default' } | null;
  took_ms: number;
  hits: HitView[];
  beam_trace?: BeamStepView[];
}

export interface DocumentView {
  doc_id: string;
  docid: string;
  title: string | null;
  text: string | null;
  lang: string | null;
  /** Other documents under the same docid (translations of a pooled XQuAD paragraph). */
  versions: { id: string; lang: string | null; title: string }[];
}

export interface ServiceInfo {
  model: string;
  docids: string;
  documents: number;
  languages: string[];
  text: boolean;
}

interface GenirJob {
  text: string;
  beam: number;
  k: number;
  trace: BeamTraceStep[] | undefined;
}

/** What the service shows of the model: docids, tokenizer, titles. */
interface ModelParts {
  docids: DocidTable;
  tokenizer: SubwordTokenizer;
  titles: ReadonlyMap<string, string> | undefined;
}

/** Where the beam searches run: the main thread or search workers. */
interface GenirBackend {
  run(jobs: GenirJob[]): Promise<SearchHit[][]>;
  release(): Promise<void>;
  /** Batches that may be in flight at once. */
  concurrency: number;
  /** Threads that run batches: the search workers, or 1 for the main thread. */
  searchThreads: number;
}

function inThread(generative: GenerativeSearcher): GenirBackend {
  return {
    concurrency: 1,
    searchThreads: 1,
    run: (jobs) =>
      generative.search(
        jobs.map((job) => job.text),
        {
          beam: jobs[0].beam,
          k: Math.max(...jobs.map((job) => job.k)),
          batchQueries: jobs.length,
          progress: false,
          trace: jobs.map((job) => job.trace),
        },
      ),
    release: () => generative.release(),
  };
}

function onWorkers(workers: GenirWorkers): GenirBackend {
  return {
    concurrency: workers.count,
    searchThreads: workers.count,
    run: async (jobs) => {
      const result = await workers.run({
        texts: jobs.map((job) => job.text),
        beam: jobs[0].beam,
        k: Math.max(...jobs.map((job) => job.k)),
        trace: jobs.map((job) => job.trace !== undefined),
      });
      jobs.forEach((job, i) => job.trace?.push(...(result.traces[i] ?? [])));
      return result.hits;
    },
    release: () => workers.close(),
  };
}

export class SearchService {
  private readonly batcher: MicroBatcher<GenirJob, SearchHit[]>;
  readonly languages: string[];
  private readonly keyOf: ((docId: string) => string) | ReadonlyMap<string, string>;

  private constructor(
    readonly options: SearchServiceOptions,
    private readonly model: ModelParts,
    private readonly backend: GenirBackend,
    readonly bm25Index: Bm25Index,
    keyOf: ReadonlyMap<string, string> | undefined,
    /** Undefined when the corpus text could not be loaded (an --index without the dataset): titles only. */
    readonly documents: DocumentStore | undefined,
  ) {
    const dataset = readModelManifest(options.model).dataset;
    this.languages = Array.isArray(dataset.languages) ? dataset.languages.filter((l): l is string => typeof l === 'string') : [];
    this.keyOf = keyOf ?? ((docId: string) => docId);
    this.batcher = new MicroBatcher(
      (jobs) => this.runGenir(jobs),
      (job) => String(job.beam),
      {
        ...options.batching,
        maxBatch: options.batching.maxBatch ?? defaultMaxBatch(options.workers ?? defaultWorkers()),
        concurrency: backend.concurrency,
        onBatch: options.onBatch,
        onQueueDepth: options.onQueueDepth,
        onRunning: options.onRunning,
      },
    );
  }

  static async open(options: SearchServiceOptions): Promise<SearchService> {
    const manifest = readModelManifest(options.model);
    const workerCount = options.workers ?? defaultWorkers();
    if (!Number.isInteger(workerCount) || workerCount < 0)
      throw new RangeError(`SearchService: workers must be an integer ≥ 0, got ${workerCount}`);
    let model: ModelParts;
    let backend: GenirBackend;
    if (workerCount === 0) {
      const generative = await GenerativeSearcher.open(options.model, {
        threads: options.threads,
        spinning: false,
        quantize: options.quantize,
      });
      model = generative;
      backend = inThread(generative);
    } else {
      // The main thread needs the docids, tokenizer and titles only; the weights stay with the workers.
      const loaded = await loadModelDirectory(options.model);
      await loaded.model.release();
      model = { docids: loaded.docids, tokenizer: loaded.tokenizer, titles: loaded.docs };
      const threads = Math.max(1, Math.floor((options.threads ?? availableParallelism()) / workerCount));
      backend = onWorkers(await GenirWorkers.start(workerCount, { model: options.model, threads, quantize: options.quantize }));
    }
    try {
      let index: Bm25Index;
      let keyOf: Map<string, string> | undefined;
      let documents: DocumentStore | undefined;
      if (options.index !== undefined) {
        index = await Bm25Index.load(options.index);
        try {
          documents = await loadModelDocuments(options.model, options.dataDir);
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          warn(`no document text for snippets (${err.message}); results show titles only`);
        }
      } else {
        const corpus = await modelCorpusIndex(options.model, manifest.dataset, options.dataDir);
        index = corpus.index;
        keyOf = corpus.keyOf;
        documents = new DocumentStore(corpus.docs, corpus.keyOf);
      }
      checkCoverage(index, keyOf, model, options.index ?? `the BM25 index of ${options.model}'s corpus`);
      return new SearchService(options, model, backend, index, keyOf, documents);
    } catch (err) {
      await backend.release();
      throw err;
    }
  }

  /** Jobs waiting for a beam-search batch. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Beam-search batches running now. */
  get batchesRunning(): number {
    return this.batcher.inFlight;
  }

  /** Threads that run batches: the search workers, or 1 for the main thread. */
  get searchThreads(): number {
    return this.backend.searchThreads;
  }

  /** Batches that may run at once: one per search worker, 1 without workers. */
  get concurrency(): number {
    return this.backend.concurrency;
  }

  info(): ServiceInfo {
    const docids = this.model.docids;
    return {
      model: this.options.model,
      docids: docids.scheme,
      documents: docids.size,
      languages: this.languages,
      text: this.documents !== undefined,
    };
  }

  private async runGenir(jobs: GenirJob[]): Promise<SearchHit[][]> {
    const hits = await this.backend.run(jobs);
    return hits.map((list, i) => list.slice(0, jobs[i].k));
  }

  private docidOf(key: string): string {
    const table = this.model.docids;
    const sequence = table.sequenceOf(key);
    return sequence === undefined ? '' : docidText(table, this.model.tokenizer, sequence);
  }

  private language(request: SearchRequest): SearchResponse['language'] {
    if (request.lang !== undefined) return { code: request.lang, source: 'given' };
    if (this.languages.length === 0) return null;
    const detected = guessLanguage(request.query, this.languages);
    if (detected !== undefined) return { code: detected, source: 'detected' };
    return { code: this.languages.includes('en') ? 'en' : this.languages[0], source: 'default' };
  }

  /** One search; `signal` gives the query up while it still waits for a batch. */
  async search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    const started = performance.now();
    if (request.lang !== undefined && this.languages.length > 0 && !this.languages.includes(request.lang)) {
      throw new UserError(`lang '${request.lang}' is not a language of this model (${this.languages.join(', ')})`);
    }
    const language = this.language(request);
    const lang = language?.code;
    const trace: BeamTraceStep[] | undefined = request.trace && request.mode !== 'bm25' ? [] : undefined;
    let hits: HitView[];
    if (request.mode === 'bm25') {
      hits = (await this.bm25(request.query, lang, request.k)).map((entry, i) =>
        this.view(i + 1, entry.docId, entry.score, request.query, lang),
      );
    } else {
      // Hybrid fuses GenIR's whole beam, as HybridSearcher does.
      const genirK = request.mode === 'hybrid' ? request.beam : request.k;
      const genir = await this.batcher.submit({ text: request.query, beam: request.beam, k: genirK, trace }, signal);
      if (request.mode === 'genir') {
        hits = genir.map((hit) => this.view(hit.rank, hit.docId, hit.score, request.query, lang));
      } else {
        const genirList: RunEntry[] = genir.map((hit) => ({ docId: hit.docId, score: hit.score }));
        const bm25List = await this.bm25(request.query, lang, DEFAULT_BM25_DEPTH);
        const rankOf = (list: RunEntry[]) => new Map(sortRanking(list).map((entry, i) => [entry.docId, i + 1]));
        const [genirRanks, bm25Ranks] = [rankOf(genirList), rankOf(bm25List)];
        hits = fuseLists([genirList, bm25List], { method: 'rrf', k: DEFAULT_RRF_K }, request.k).map((entry, i) => ({
          ...this.view(i + 1, entry.docId, entry.score, request.query, lang),
          genir_rank: genirRanks.get(entry.docId) ?? null,
          bm25_rank: bm25Ranks.get(entry.docId) ?? null,
        }));
      }
    }
    const response: SearchResponse = {
      query: request.query,
      mode: request.mode,
      k: request.k,
      beam: request.beam,
      language,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
      hits,
    };
    if (trace !== undefined) response.beam_trace = this.traceView(trace);
    return response;
  }

  private async bm25(query: string, lang: string | undefined, depth: number): Promise<RunEntry[]> {
    // One query on this thread (threads: 1): a worker pool's round trip costs more than the search.
    const hits = await this.bm25Index.searchBatch([{ text: query, lang }], depth, { threads: 1 });
    return collapseRun(this.bm25Index.toRun([{ id: 'q' }], hits), this.keyOf).get('q') ?? [];
  }

  private view(rank: number, key: string, score: number, query: string, lang: string | undefined): HitView {
    const doc = this.documents?.get(key, lang);
    return {
      rank,
      doc_id: key,
      docid: this.docidOf(key),
      title: doc?.title || this.model.titles?.get(key) || null,
      snippet: doc === undefined ? null : snippet(doc.text, query),
      score,
    };
  }

  private traceView(steps: readonly BeamTraceStep[]): BeamStepView[] {
    const table = this.model.docids;
    const text = (tokens: readonly number[]) => docidText(table, this.model.tokenizer, tokens);
    return steps.map((step, i) => ({
      step: i + 1,
      kept: step.kept.map((p) => ({ docid: text(p.tokens), score: p.score })),
      finished: step.finished.map((p) => ({ docid: text(p.tokens), score: p.score, doc_id: table.keys[p.doc] })),
      pruned: step.pruned.map((p) => ({ docid: text(p.tokens), score: p.score })),
      pruned_count: step.prunedCount,
    }));
  }

  /** A document by its id (docid key), in `lang` when it has a translation in it. */
  document(id: string, lang?: string): DocumentView | undefined {
    if (this.model.docids.indexOf(id) < 0) return undefined;
    const doc = this.documents?.get(id, lang);
    return {
      doc_id: id,
      docid: this.docidOf(id),
      title: doc?.title || this.model.titles?.get(id) || null,
      text: doc?.text ?? null,
      lang: doc?.lang ?? null,
      versions: (doc?.versions ?? []).map((v) => ({ id: v.id, lang: v.lang ?? null, title: v.title })),
    };
  }

  /** Starts every queued search without waiting for more to batch with (shutdown). */
  closeBatchWindow(): void {
    this.batcher.closeWindow();
  }

  /** Runs queued searches at once, waits for them and the running ones, then releases the ONNX sessions. */
  async close(): Promise<void> {
    this.batcher.closeWindow();
    await this.batcher.drained();
    await this.backend.release();
  }
}
