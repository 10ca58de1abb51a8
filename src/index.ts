// The public library API. Each pipeline stage re-exports its surface here.
export { UserError } from './util/errors.js';
export { Rng, fnv1a64, hashUnit, mix64 } from './util/random.js';
export { writeFileAtomic, writeFileAtomicSync, AtomicWriteStream } from './util/atomic.js';
export type { Document, Query, Qrels, Run, RunEntry, Dataset, DatasetSpec } from './data/types.js';
export { openDataset, resolveDataDir, listDatasets, datasetInfo, datasetDescriptor, knownDatasetIds, collapseRun } from './data/registry.js';
export type { DatasetDescriptor, DatasetInfo } from './data/registry.js';
export { BeirDataset, readBeirCorpus, readBeirQueries, readBeirQrels } from './data/beir.js';
export { SquadDataset, readSquadJson, questionSplit, QUESTION_SPLIT_SEED, QUESTION_SPLIT_FRACTIONS } from './data/squad.js';
export { XquadDataset, XQUAD_LANGUAGES } from './data/xquad.js';
export { CranfieldDataset, readSmartDocs, readSmartQueries, readCranfieldQrels } from './data/smart.js';
export { readCollectionTsv, readQueriesTsv } from './data/msmarco.js';
export { fetchDataset, officialSources, mirrorSources } from './data/fetch.js';
export type { FetchOptions, FetchResult, DownloadSource, Checksum } from './data/fetch.js';
// Training engine: ONNX graph building, ops with gradients, autodiff, export, ORT runtime.
// Namespaced: op names such as `log`, `range` and `sum` would clash at the package root.
export * as engine from './engine/index.js';
// Docids (pq, semantic, title, atomic), the prefix trie for constrained decoding, document
// embeddings and span-sampled pseudo-queries. The full surface (k-means, PQ, SVD, …) is under `docids`.
export { buildDocids, DocidTable, DocidTrie, DOCID_SCHEMES, saveDocids, saveDocidsSync, loadDocids, loadDocidsSync, samplePseudoQueries, sampleSpans } from './docids/index.js';
export type { DocidScheme, DocidLayout, BuildDocidsOptions, EmbeddingSource, PseudoQuery, SpanSamplingOptions } from './docids/index.js';
export * as docids from './docids/index.js';
// Subword tokenizer: byte-fallback BPE trained in TypeScript, saved as HF tokenizer.json.
export { SubwordTokenizer, trainTokenizer, PAD_TOKEN, EOS_TOKEN, UNK_TOKEN, docidToken } from './text/tokenizer/index.js';
export type { TrainTokenizerOptions, EncodeOptions, EncodeBatchOptions, EncodedBatch, DecodeOptions } from './text/tokenizer/index.js';
// Evaluation: TREC files, trec_eval-exact metrics under ir-measures names, significance tests.
export { readQrels, writeQrels, readRun, writeRun } from './data/trec.js';
export { parseMetric, parseMetrics, splitMetricList, evaluateRun, evaluateQuery } from './eval/metrics.js';
export type { MetricSpec, MetricMeasure, EvalResult, EvaluateOptions } from './eval/metrics.js';
export { compareTrecOrder, compareUtf8, sortRanking } from './eval/ranking.js';
export { pairedTTest, randomizationTest, studentTTwoSidedP, studentTCdf, regularizedIncompleteBeta } from './eval/significance.js';
export type { RandomizationOptions } from './eval/significance.js';
export { formatValue, formatTable } from './eval/report.js';
