// Public surface of the BM25 stage.
export { Bm25Index } from './bm25-index.js';
export {
  Bm25IndexBuilder,
  buildIndexFromDocuments,
  type BuildOptions,
  type BuildFromStreamOptions,
  type IndexableDocument,
} from './builder.js';
export { Bm25Searcher, bm25Idf, normInverseCache, type PruningMode, type SearchStats } from './searcher.js';
export { SearchPool, searchBatch, type SearchBatchOptions } from './pool.js';
export { saveIndex, loadIndex, decodeIndex, FORMAT_VERSION } from './format.js';
export { intToByte4, byte4ToInt, LENGTH_TABLE } from './small-float.js';
export {
  DEFAULT_BM25_PARAMS,
  FIELD_NAMES,
  type Bm25Params,
  type FieldMode,
  type FieldPostings,
  type IndexData,
  type SearchHits,
  type SearchQuery,
} from './types.js';
