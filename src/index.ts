// The public library API (docs/api.md). Each pipeline stage re-exports what a library user
// needs; numeric and encoding helpers stay in their modules (src/api.test.ts keeps them out).
export { UserError } from './util/errors.js';
export { Rng, fnv1a64 } from './util/random.js';
export { writeFileAtomic, writeFileAtomicSync, AtomicWriteStream } from './util/atomic.js';
export type { Document, Query, Qrels, Run, RunEntry, Dataset, DatasetSpec } from './data/types.js';
export {
  openDataset,
  parseDatasetId,
  resolveDataDir,
  listDatasets,
  datasetInfo,
  datasetDescriptor,
  knownDatasetIds,
  collapseRun,
} from './data/registry.js';
export type { DatasetDescriptor, DatasetInfo, DatasetPath } from './data/registry.js';
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
export {
  buildDocids,
  DocidTable,
  DocidTrie,
  DOCID_SCHEMES,
  saveDocids,
  saveDocidsSync,
  loadDocids,
  loadDocidsSync,
  samplePseudoQueries,
  sampleSpans,
} from './docids/index.js';
export type { DocidScheme, DocidLayout, BuildDocidsOptions, EmbeddingSource, PseudoQuery, SpanSamplingOptions } from './docids/index.js';
export * as docids from './docids/index.js';
// Subword tokenizer: byte-fallback BPE trained in TypeScript, saved as HF tokenizer.json.
export { SubwordTokenizer, trainTokenizer, PAD_TOKEN, EOS_TOKEN, UNK_TOKEN, docidToken } from './text/tokenizer/index.js';
export type { TrainTokenizerOptions, EncodeOptions, EncodeBatchOptions, EncodedBatch, DecodeOptions } from './text/tokenizer/index.js';
// Evaluation: TREC files, trec_eval-exact metrics under ir-measures names, significance tests.
export { readQrels, writeQrels, readRun, writeRun } from './data/trec.js';
export { parseMetric, parseMetrics, splitMetricList, evaluateRun, evaluateQuery } from './eval/metrics.js';
export type { MetricSpec, MetricMeasure, EvalResult, EvaluateOptions } from './eval/metrics.js';
export { compareTrecOrder, compareUtf8, sortRanking } from './data/ranking.js';
export { pairedTTest, randomizationTest } from './eval/significance.js';
export type { RandomizationOptions } from './eval/significance.js';
export { formatValue, formatTable } from './eval/report.js';
// BM25: analyzers (Lucene's EnglishAnalyzer; ICU segmentation + Snowball) and a Lucene-exact BM25 index.
export {
  getAnalyzer,
  analyzerFromSpec,
  isAnalyzerName,
  ANALYZER_NAMES,
  EnglishAnalyzer,
  MultilingualAnalyzer,
  LUCENE_ENGLISH_STOP_WORDS,
  standardTokenize,
  snowballAlgorithmFor,
} from './text/analyzers/index.js';
export type { Analyzer, AnalyzerName, AnalyzerSpec, TokenizeOptions } from './text/analyzers/index.js';
export {
  Bm25Index,
  Bm25IndexBuilder,
  Bm25Searcher,
  SearchPool,
  searchBatch,
  buildIndexFromDocuments,
  saveIndex,
  loadIndex,
  DEFAULT_BM25_PARAMS,
  FIELD_NAMES,
} from './bm25/index.js';
export type {
  Bm25Params,
  FieldMode,
  IndexData,
  FieldPostings,
  SearchHits,
  SearchQuery,
  SearchBatchOptions,
  BuildOptions,
  BuildFromStreamOptions,
  IndexableDocument,
} from './bm25/index.js';
// Optimizer (AdamW, clipping, schedules, gradient accumulation), the T5 model with its
// safetensors checkpoints, and the training loop (bucketed batches, loss curve, resume).
export { AdamW, clipGradNorm, constantSchedule, linearSchedule, cosineSchedule } from './engine/optim/index.js';
export type { AdamWOptions, AdamWState, Schedule, WarmupScheduleOptions, Gradients, Parameter } from './engine/optim/index.js';
export {
  T5Model,
  T5_PRESETS,
  t5Config,
  t5ParameterSpecs,
  parameterCount,
  totalVocabSize,
  saveModelCheckpoint,
  loadModelCheckpoint,
  readSafetensors,
  writeSafetensors,
} from './model/index.js';
export type { T5Config, T5Preset, T5RuntimeOptions, EncoderOutput, DecoderCache, StoredTensor } from './model/index.js';
export * as model from './model/index.js';
export { train, seq2seqTrainingData, makeSeq2SeqBatch, LossLog, linePlotSvg } from './train/loop/index.js';
// The parts a training method composes (src/train/loop/pipeline.ts): named, timed stages, the
// output-directory policy and stages cached in the work directory by a content key.
export { PipelineRun, claimOutput, cachedStage } from './train/loop/pipeline.js';
export type { Stage, OutputPolicy, CachedStageSpec } from './train/loop/pipeline.js';
export type {
  TrainOptions,
  TrainResult,
  TrainableModel,
  TrainingData,
  Seq2SeqBatch,
  Seq2SeqExample,
  LossRecord,
} from './train/loop/index.js';
// Constrained beam search over docids (trie-masked, batched, KV-cached) and the searcher behind `genir search`.
export {
  constrainedBeamSearch,
  beamSettings,
  DEFAULT_BEAM,
  T5InferenceModel,
  GenerativeSearcher,
  DEFAULT_MAX_QUERY_TOKENS,
} from './search/index.js';
export { clampBeam, withModelSearcher } from './search/searcher.js';
export type {
  BeamSearchOptions,
  BeamSearchStats,
  RankedDocid,
  DocidDecoder,
  InferenceOptions,
  SearchOptions,
  SearchHit,
  GenerativeSearcherParts,
  OpenSearcherOptions,
} from './search/index.js';
// Hybrid retrieval: GenIR and BM25 over the same corpus, fused by reciprocal rank or normalised score interpolation.
export {
  HybridSearcher,
  reciprocalRankFusion,
  interpolationFusion,
  interpolation,
  normalizeScores,
  fuseLists,
  fuseRuns,
  tuneAlpha,
  tuneFusionWeights,
  simplexGrid,
  DEFAULT_RRF_K,
  DEFAULT_BM25_DEPTH,
  DEFAULT_ALPHA_GRID,
  FUSION_METHODS,
  SCORE_NORMALIZATIONS,
} from './search/index.js';
export type {
  FusionSpec,
  FusionMethod,
  ScoreNormalization,
  NormalizedList,
  RrfOptions,
  InterpolationOptions,
  AlphaTuning,
  TuneAlphaOptions,
  FusionTuning,
  FusionTuningOptions,
  HybridSearcherParts,
  HybridSearchOptions,
  HybridHit,
  HybridRuns,
  OpenHybridOptions,
} from './search/index.js';
// Model directories (self-contained trained retrievers), SFT as a schedule of DDRO stages, doc2query pseudo-queries.
// Pre-trained Hugging Face T5 / Flan-T5 / mT5 checkpoints in and out.
export { readHfCheckpoint, writeHfDirectory, withDocidRows } from './model/hf-import.js';
export type { HfCheckpoint } from './model/hf-import.js';
export {
  saveModelDirectory,
  loadModelDirectory,
  readModelManifest,
  verifyModelDirectory,
  genirVersion,
  MODEL_DIRECTORY_FORMAT_VERSION,
} from './retriever/directory.js';
export type {
  ModelManifest,
  ManifestFile,
  ModelDirectoryContents,
  LoadedModelDirectory,
  LoadModelDirectoryOptions,
  ExtraFile,
} from './retriever/directory.js';
export { runSft, SFT_DEFAULTS, DEFAULT_DOC2QUERY } from './train/methods/sft/pipeline.js';
export type { SftOptions, SftResult, PseudoQueryMethod, Doc2QuerySettings } from './train/methods/sft/pipeline.js';
export { parseStages, formatStages, overrideEpochs, DDRO_STAGES } from './train/methods/sft/schedule.js';
export { SFT_SOURCES } from './train/methods/sft/examples.js';
export type { SftSource } from './train/methods/sft/examples.js';
export type { SftStage, WeightedSource } from './train/methods/sft/schedule.js';
export { loadSftCorpus, xquadLanguages, datasetLanguages, languageViews } from './data/training-corpus.js';
export type { SftCorpus, SftCorpusSpec, LabelledQuery } from './data/training-corpus.js';
export { evaluateGenir, evaluateSearcher } from './train/methods/sft/evaluate.js';
export type { GenirEvaluation } from './train/methods/sft/evaluate.js';
export type { SftRunReport, StageReport } from './train/methods/sft/report.js';
export { trainDoc2Query, sampleQueries, cachedPseudoQueries } from './train/sources/doc2query/doc2query.js';
export { resolveCacheDir, cacheKey } from './util/cache.js';
export type {
  Doc2QueryPair,
  Doc2QueryTrainOptions,
  SamplingOptions,
  SampledQuery,
  CachedQueries,
} from './train/sources/doc2query/doc2query.js';
// Sequence-level relevance optimization on top of SFT: triples (query, positive, hard negatives)
// and the DDRO and LTRGR training runs (their losses and graphs stay in src/train/methods/rank).
export {
  buildTriples,
  cachedTriples,
  readTriples,
  writeTriples,
  tripleSettings,
  countTriples,
  NEGATIVE_METHODS,
  TRIPLES_FORMAT,
  TRIPLES_FORMAT_VERSION,
} from './train/sources/negatives/triples.js';
export type {
  Triples,
  TriplesHeader,
  TripleGroup,
  TripleNegative,
  TripleSources,
  TripleOptions,
  NegativeMethod,
  NegativeSource,
  CachedTriples,
} from './train/sources/negatives/triples.js';
export type { RankObjective, PreferenceObjective } from './train/methods/rank/graph.js';
export { runRankTraining, devSet, DEV_METRICS } from './train/methods/rank/pipeline.js';
export { RANK_DEFAULTS } from './train/methods/rank/defaults.js';
export type {
  RankMethod,
  RankTrainingOptions,
  RankTrainingReport,
  RankTrainingResult,
  DevEvaluation,
  CommonRankOptions,
} from './train/methods/rank/pipeline.js';
export { runDdro, DDRO_DEFAULTS } from './train/methods/rank/ddro.js';
export type { DdroOptions } from './train/methods/rank/ddro.js';
export { runLtrgr, LTRGR_DEFAULTS } from './train/methods/rank/ltrgr.js';
export type { LtrgrOptions, LtrgrLoss } from './train/methods/rank/ltrgr.js';
// Dense retrieval: the dual encoder (T5 encoder, mean pooling, unit vectors) trained with InfoNCE
// on in-batch and BM25 hard negatives, its model directory, and exact top-k search on ORT.
export { DenseModel, DEFAULT_DENSE_SETTINGS } from './model/dense.js';
export type { DenseSettings, DenseBatch, DenseRuntimeOptions } from './model/dense.js';
export {
  saveDenseModelDirectory,
  loadDenseModelDirectory,
  readDenseManifest,
  isDenseModelDirectory,
  DENSE_FORMAT_NAME,
} from './retriever/dense-directory.js';
export type { DenseManifest, DenseDirectoryContents, LoadedDenseDirectory } from './retriever/dense-directory.js';
export { DenseSearcher, ExactIndex, bruteForceTopK } from './search/dense.js';
export type { DenseHit, DenseSearchOptions, TopKResult, ExactIndexOptions } from './search/dense.js';
export type { DenseTemperature } from './model/dense-train-graph.js';
export { runDenseTraining } from './train/methods/dense/pipeline.js';
export type { DenseTrainingOptions, DenseTrainingReport, DenseTrainingResult } from './train/methods/dense/pipeline.js';
// The docid-scheme comparison (RIPOR's rq docids are under `docids`; its initialisation is runSft's riporInit).
export { runDocidSchemes } from './experiments/docid-schemes.js';
export type { DocidSchemesOptions, DocidSchemesResult, SchemeRow } from './experiments/docid-schemes.js';
export { startServer, buildApp, DEFAULT_LIMITS, DEFAULT_BATCHING } from './serve/server.js';
export type { ServeOptions, RunningServer } from './serve/server.js';
export { SearchService, SEARCH_MODES, defaultWorkers, defaultMaxBatch } from './serve/service.js';
export type {
  SearchServiceOptions,
  SearchRequest,
  SearchResponse,
  HitView,
  DocumentView,
  BeamStepView,
  SearchMode,
} from './serve/service.js';
export type { ServeLimits } from './serve/schemas.js';
export { snippet } from './search/snippet.js';
export { DocumentStore, loadModelDocuments, docidText, guessLanguage } from './search/documents.js';
export type { BeamTraceStep, TracedPrefix } from './search/beam.js';
