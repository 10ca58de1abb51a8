/**
 * Text in, ranked documents out: a trained generative retriever (model, tokenizer, docids,
 * titles) behind constrained beam search. Used by `genir search` and `genir eval --model`.
 */
import { readFileSync } from 'node:fs';
import type { Query, Run } from '../data/types.js';
import type { DocidTable } from '../docids/table.js';
import type { T5Config } from '../model/config.js';
import type { T5Model } from '../model/t5.js';
import { loadModelDirectory, type LoadModelDirectoryOptions, type ModelManifest } from '../retriever/directory.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { progressBar } from '../util/progress.js';
import { beamSettings, constrainedBeamSearch, type BeamSearchStats, type BeamTraceStep } from './beam.js';
import { T5InferenceModel, type DocidDecoder, type InferenceOptions } from './decoder.js';

/** Query tokens kept by default: the SFT pipeline's default source length. */
export const DEFAULT_MAX_QUERY_TOKENS = 128;

/**
 * The longest query accepted, in characters. The model reads only the first 128 tokens of a
 * query (a few hundred characters), so nothing longer can change the ranking; a limit also
 * keeps absurd command lines out (onnxruntime's telemetry crashed on ~29 KB ones).
 */
export const MAX_QUERY_CHARS = 4096;

export interface SearchOptions {
  /** Live hypotheses per query (default 10). */
  beam?: number;
  /** Documents per query (default: beam, at most beam). */
  k?: number;
  /** Score under the allowed-token renormalisation instead of raw log-probs (see beam.ts). */
  renormalize?: boolean;
  /** Queries decoded together in one beam search (default 16). */
  batchQueries?: number;
  /** Query tokens kept, from the start (default 128). */
  maxQueryTokens?: number;
  /** Report progress on stderr (default: when there is more than one batch; a bar on a terminal, log lines otherwise). */
  progress?: boolean;
  stats?: BeamSearchStats;
  /** Per text (by index): an array that receives the beam's steps (see BeamSearchOptions.trace). */
  trace?: readonly (BeamTraceStep[] | undefined)[];
}

export interface SearchHit {
  /** 1-based. */
  rank: number;
  /** The docid key: a document id (or a relevance id for grouped docids). */
  docId: string;
  title: string | undefined;
  /** Log-probability of the docid given the query. */
  score: number;
  /** Index in the docid table. */
  doc: number;
}

export interface GenerativeSearcherParts {
  decoder: DocidDecoder & { release?: () => Promise<void> };
  tokenizer: SubwordTokenizer;
  docids: DocidTable;
  /** Docid key → title, for display. */
  titles?: ReadonlyMap<string, string>;
  /** The model directory's manifest (what the model was trained on), when opened from one. */
  manifest?: ModelManifest;
}

export interface OpenSearcherOptions extends InferenceOptions {
  /** Model directory checks: 'sha256' (default) or 'size'. */
  verify?: LoadModelDirectoryOptions['verify'];
}

export class GenerativeSearcher {
  readonly decoder: GenerativeSearcherParts['decoder'];
  readonly tokenizer: SubwordTokenizer;
  readonly docids: DocidTable;
  readonly titles: ReadonlyMap<string, string> | undefined;
  readonly manifest: ModelManifest | undefined;

  constructor(parts: GenerativeSearcherParts) {
    this.decoder = parts.decoder;
    this.tokenizer = parts.tokenizer;
    this.docids = parts.docids;
    this.titles = parts.titles;
    this.manifest = parts.manifest;
  }

  /**
   * Opens a model directory (src/retriever/directory.ts). Decodes with its ONNX inference graphs
   * when it has them, else with graphs exported from its weights.
   */
  static async open(dir: string, options: OpenSearcherOptions = {}): Promise<GenerativeSearcher> {
    const loaded = await loadModelDirectory(dir, { threads: options.threads, verify: options.verify, device: options.device });
    const inference = { threads: options.threads, spinning: options.spinning, device: options.device, quantize: options.quantize };
    // The directory's exported graphs are float32; quantized ones are built from its weights.
    const decoder =
      loaded.onnx && options.quantize === undefined
        ? await T5InferenceModel.fromOnnxFiles(
            loaded.model.config,
            readFileSync(loaded.onnx.encoder),
            readFileSync(loaded.onnx.decoderStep),
            inference,
            loaded.onnx,
          )
        : await T5InferenceModel.fromModel(loaded.model, inference);
    return new GenerativeSearcher({
      decoder,
      tokenizer: loaded.tokenizer,
      docids: loaded.docids,
      titles: loaded.docs,
      manifest: loaded.manifest,
    });
  }

  /**
   * A searcher over a model in memory (training's dev evaluations, model-mined negatives, the
   * experiments): it decodes with graphs exported from the model's current weights. Release it
   * after use; `withModelSearcher` does.
   */
  static async fromModel(
    model: T5Model,
    parts: { tokenizer: SubwordTokenizer; docids: DocidTable },
    options: InferenceOptions = {},
  ): Promise<GenerativeSearcher> {
    const decoder = await T5InferenceModel.fromModel(model, options);
    return new GenerativeSearcher({ decoder, tokenizer: parts.tokenizer, docids: parts.docids });
  }

  get config(): T5Config {
    return this.decoder.config;
  }

  /** Query text → token ids the model was trained on (no EOS; beam search appends it). */
  encodeQuery(text: string, maxQueryTokens = DEFAULT_MAX_QUERY_TOKENS): Int32Array {
    const ids = this.tokenizer.encode(text);
    return ids.length > maxQueryTokens ? ids.subarray(0, maxQueryTokens) : ids;
  }

  /** Ranked documents for each text, best first. */
  async search(texts: readonly string[], options: SearchOptions = {}): Promise<SearchHit[][]> {
    const { beam, k } = beamSettings(options);
    const batch = options.batchQueries ?? 16;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`search: batchQueries must be a positive integer, got ${batch}`);
    const results: SearchHit[][] = [];
    const bar = progressBar({
      label: 'search',
      total: texts.length,
      unit: 'q',
      ...(options.progress === false || texts.length <= batch ? { enabled: false } : {}),
    });
    try {
      for (let first = 0; first < texts.length; first += batch) {
        const group = texts.slice(first, first + batch);
        const sources = group.map((text) => this.encodeQuery(text, options.maxQueryTokens));
        const ranked = await constrainedBeamSearch(this.decoder, this.docids, sources, {
          beam,
          k,
          renormalize: options.renormalize,
          stats: options.stats,
          trace: options.trace?.slice(first, first + batch),
        });
        for (const hits of ranked) {
          results.push(
            hits.map((hit, i) => {
              const docId = this.docids.keys[hit.doc];
              return { rank: i + 1, docId, title: this.titles?.get(docId), score: hit.logProb, doc: hit.doc };
            }),
          );
        }
        bar.tick(group.length);
      }
    } finally {
      bar.stop();
    }
    return results;
  }

  /** A TREC run over queries: entries name docid keys and carry docid log-probabilities. */
  async searchRun(queries: readonly Query[], options: SearchOptions = {}): Promise<Run> {
    const hits = await this.search(
      queries.map((q) => q.text),
      options,
    );
    const run: Run = new Map();
    queries.forEach((query, i) =>
      run.set(
        query.id,
        hits[i].map((hit) => ({ docId: hit.docId, score: hit.score })),
      ),
    );
    return run;
  }

  async release(): Promise<void> {
    await this.decoder.release?.();
  }
}

/**
 * Beam width and result count for a docid table of `docidCount` entries: the beam no wider than
 * the table (a wider one finds nothing more), k no larger than the beam.
 */
export function clampBeam(docidCount: number, beam: number, k = 10): { beam: number; k: number } {
  const clamped = Math.min(beam, docidCount);
  return { beam: clamped, k: Math.min(k, clamped) };
}

/** Runs `body` with a searcher over a model in memory (GenerativeSearcher.fromModel), released afterwards even when `body` throws. */
export async function withModelSearcher<T>(
  model: T5Model,
  parts: { tokenizer: SubwordTokenizer; docids: DocidTable },
  options: InferenceOptions,
  body: (searcher: GenerativeSearcher) => Promise<T>,
): Promise<T> {
  const searcher = await GenerativeSearcher.fromModel(model, parts, options);
  try {
    return await body(searcher);
  } finally {
    await searcher.release();
  }
}
