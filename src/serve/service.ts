/**
 * The search behind `genir serve`: a model directory loaded once (ONNX inference graphs, docid
 * trie, titles), the corpus it was trained on (document store and a BM25 index over it, built at
 * start or loaded from `--index`), and a micro-batcher in front of constrained beam search.
 */
import { Bm25Index } from '../bm25/bm25-index.js';
import type { RunEntry } from '../data/types.js';
import { sortRanking } from '../data/ranking.js';
import { readModelManifest } from '../retriever/directory.js';
import type { BeamTraceStep } from '../search/beam.js';
import { docidText, DocumentStore, guessLanguage, loadModelDocuments } from '../search/documents.js';
import { checkCoverage, DEFAULT_BM25_DEPTH, DEFAULT_RRF_K, fuseLists, HybridSearcher, modelCorpusIndex } from '../search/hybrid.js';
import type { WeightQuantization } from '../model/t5-graph.js';
import { GenerativeSearcher, type SearchHit } from '../search/searcher.js';
import { snippet } from '../search/snippet.js';
import { UserError, warn } from '../util/errors.js';
import { MicroBatcher, type MicroBatcherOptions } from './batcher.js';

export type SearchMode = 'genir' | 'bm25' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['genir', 'bm25', 'hybrid'];

export interface SearchServiceOptions {
  /** Model directory (genir train sft --out). */
  model: string;
  /** Where the model's dataset lives (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets). */
  dataDir?: string;
  /** A saved BM25 index of the model's corpus instead of building one. */
  index?: string;
  /** ONNX Runtime threads (default: every core). */
  threads?: number;
  /** Inference graphs with quantized weights (built from the model's weights at load); float32 when undefined. */
  quantize?: WeightQuantization;
  /** Micro-batching and the queue bound. */
  batching: Pick<MicroBatcherOptions, 'maxQueue' | 'windowMs' | 'maxBatch'>;
  /** Metrics hooks. */
  onBatch?: (size: number) => void;
  onQueueDepth?: (depth: number) => void;
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

export class SearchService {
  private readonly batcher: MicroBatcher<GenirJob, SearchHit[]>;
  readonly languages: string[];

  private constructor(
    readonly options: SearchServiceOptions,
    readonly hybrid: HybridSearcher,
    /** Undefined when the corpus text could not be loaded (an --index without the dataset): titles only. */
    readonly documents: DocumentStore | undefined,
  ) {
    const dataset = readModelManifest(options.model).dataset;
    this.languages = Array.isArray(dataset.languages) ? dataset.languages.filter((l): l is string => typeof l === 'string') : [];
    this.batcher = new MicroBatcher(
      (jobs) => this.runGenir(jobs),
      (job) => String(job.beam),
      { ...options.batching, onBatch: options.onBatch, onQueueDepth: options.onQueueDepth },
    );
  }

  static async open(options: SearchServiceOptions): Promise<SearchService> {
    const manifest = readModelManifest(options.model);
    const generative = await GenerativeSearcher.open(options.model, {
      threads: options.threads,
      spinning: false,
      quantize: options.quantize,
    });
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
      checkCoverage(index, keyOf, generative, options.index ?? `the BM25 index of ${options.model}'s corpus`);
      return new SearchService(options, new HybridSearcher({ generative, bm25: index, keyOf }), documents);
    } catch (err) {
      await generative.release();
      throw err;
    }
  }

  get generative(): GenerativeSearcher {
    return this.hybrid.generative;
  }

  /** Jobs waiting for a beam-search batch. */
  get queueDepth(): number {
    return this.batcher.depth;
  }

  info(): ServiceInfo {
    const docids = this.generative.docids;
    return {
      model: this.options.model,
      docids: docids.scheme,
      documents: docids.size,
      languages: this.languages,
      text: this.documents !== undefined,
    };
  }

  private async runGenir(jobs: GenirJob[]): Promise<SearchHit[][]> {
    const k = Math.max(...jobs.map((job) => job.k));
    const hits = await this.generative.search(
      jobs.map((job) => job.text),
      { beam: jobs[0].beam, k, batchQueries: jobs.length, progress: false, trace: jobs.map((job) => job.trace) },
    );
    return hits.map((list, i) => list.slice(0, jobs[i].k));
  }

  private docidOf(key: string): string {
    const table = this.generative.docids;
    const sequence = table.sequenceOf(key);
    return sequence === undefined ? '' : docidText(table, this.generative.tokenizer, sequence);
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
    const run = await this.hybrid.bm25Run([{ id: 'q', text: query, lang }], depth, 1);
    return run.get('q') ?? [];
  }

  private view(rank: number, key: string, score: number, query: string, lang: string | undefined): HitView {
    const doc = this.documents?.get(key, lang);
    return {
      rank,
      doc_id: key,
      docid: this.docidOf(key),
      title: doc?.title || this.generative.titles?.get(key) || null,
      snippet: doc === undefined ? null : snippet(doc.text, query),
      score,
    };
  }

  private traceView(steps: readonly BeamTraceStep[]): BeamStepView[] {
    const table = this.generative.docids;
    const text = (tokens: readonly number[]) => docidText(table, this.generative.tokenizer, tokens);
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
    if (this.generative.docids.indexOf(id) < 0) return undefined;
    const doc = this.documents?.get(id, lang);
    return {
      doc_id: id,
      docid: this.docidOf(id),
      title: doc?.title || this.generative.titles?.get(id) || null,
      text: doc?.text ?? null,
      lang: doc?.lang ?? null,
      versions: (doc?.versions ?? []).map((v) => ({ id: v.id, lang: v.lang ?? null, title: v.title })),
    };
  }

  /** Waits for queued and running searches, then releases the ONNX sessions. */
  async close(): Promise<void> {
    await this.batcher.drained();
    await this.hybrid.release();
  }
}
