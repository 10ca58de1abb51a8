// The docid stage's public surface.
export { DocidTable, DOCID_SCHEMES, type DocidScheme, type DocidLayout, type DocidParams, type DocidTableInit } from './table.js';
export { DocidTrie } from './trie.js';
export { buildDocids, defaultPqK, defaultPqM, type BuildDocidsOptions, type EmbeddingSource } from './build.js';
export { saveDocids, saveDocidsSync, loadDocids, loadDocidsSync, encodeDocids, decodeDocids, DOCID_FORMAT_VERSION } from './io.js';
export { titleTexts, titleUrlText, isDescriptiveSegment } from './title.js';
export {
  lsaEmbeddings,
  defaultLsaDims,
  readVectorFile,
  alignVectors,
  parseNpy,
  encodeNpy,
  l2NormalizeRows,
  type DocVectors,
  type VectorFile,
  type LsaOptions,
} from './embeddings.js';
export { tfidfMatrix, multilingualAnalyze, type Analyze, type TfidfOptions } from './tfidf.js';
export { randomizedSvd, jacobiEigen, orthonormalizeColumns, type TruncatedSvd, type RandomizedSvdOptions } from './svd.js';
export { csrFromDense, csrTimesDense, csrTransposeTimesDense, type CsrMatrix } from './sparse.js';
export { kmeans, kmeansPlusPlus, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { trainPq, encodePq, decodePq, pqDistortion, subspaceBounds, type PqCodebook, type PqOptions } from './pq.js';
export { hierarchicalCodes, type HierarchicalOptions } from './hierarchical.js';
export { trainRq, encodeRq, decodeRq, rqDistortion, distinctFraction, type RqCodebook, type RqOptions } from './rq.js';
export { sampleSpans, samplePseudoQueries, type PseudoQuery, type SpanSamplingOptions } from './pseudoQueries.js';
