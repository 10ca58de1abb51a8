/**
 * Model-mined hard negatives: the documents a trained generative retriever itself ranks
 * highest for a training query (constrained beam search, src/search) that are not relevant.
 * These are the negatives LTRGR trains on, and the ones the model confuses most.
 */
import type { DocidTable } from '../../../docids/table.js';
import type { T5Model } from '../../../model/t5.js';
import { T5InferenceModel } from '../../../search/decoder.js';
import { GenerativeSearcher } from '../../../search/searcher.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import type { RankedNegative } from './bands.js';
import type { TrainingQuery } from './bm25.js';

export interface ModelNegativeOptions {
  /** Negatives kept per query: the highest-ranked non-relevant results. */
  count: number;
  /** Beam width (default count + 8, at least 10; at most the number of docids). */
  beam?: number;
  /** Queries per beam-search batch (default 32). */
  batchQueries?: number;
  /** Query tokens kept (default 128). */
  maxSourceTokens?: number;
  threads?: number;
  progress?: boolean;
}

export interface ModelMined {
  negatives: RankedNegative[];
  /** 1-based rank of the best relevant document in the beam, or null when none was found. */
  positiveRank: number | null;
}

/** The top non-relevant beam results per query (same order as `queries`), with their model rank. */
export async function mineModelNegatives(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  docids: DocidTable,
  queries: readonly TrainingQuery[],
  options: ModelNegativeOptions,
): Promise<ModelMined[]> {
  const beam = Math.min(docids.size, options.beam ?? Math.max(10, options.count + 8));
  const decoder = await T5InferenceModel.fromModel(model, { threads: options.threads });
  const searcher = new GenerativeSearcher({ decoder, tokenizer, docids });
  let results;
  try {
    results = await searcher.search(queries.map((q) => q.text), { beam, k: beam, batchQueries: options.batchQueries ?? 32, maxQueryTokens: options.maxSourceTokens ?? 128, progress: options.progress });
  } finally {
    await searcher.release();
  }
  return queries.map((query, i) => {
    const positives = new Set(query.keys);
    const negatives: RankedNegative[] = [];
    let positiveRank: number | null = null;
    for (const hit of results[i]) {
      if (positives.has(hit.docId)) positiveRank ??= hit.rank;
      else if (negatives.length < options.count) negatives.push({ key: hit.docId, rank: hit.rank });
    }
    return { negatives, positiveRank };
  });
}
