// Constrained beam search over docids, the inference-only T5 runner it decodes with, and the
// searcher that turns query text into ranked documents.
export {
  constrainedBeamSearch,
  beamSettings,
  DEFAULT_BEAM,
  type BeamSearchOptions,
  type BeamSearchStats,
  type RankedDocid,
} from './beam.js';
export { T5InferenceModel, type DocidDecoder, type InferenceOptions } from './decoder.js';
export {
  GenerativeSearcher,
  DEFAULT_MAX_QUERY_TOKENS,
  type SearchOptions,
  type SearchHit,
  type GenerativeSearcherParts,
  type OpenSearcherOptions,
} from './searcher.js';
export {
  HybridSearcher,
  reciprocalRankFusion,
  interpolationFusion,
  interpolation,
  normalizeScores,
  fuseLists,
  fuseRuns,
  tuneAlpha,
  DEFAULT_RRF_K,
  DEFAULT_BM25_DEPTH,
  DEFAULT_ALPHA_GRID,
  FUSION_METHODS,
  SCORE_NORMALIZATIONS,
  type FusionSpec,
  type FusionMethod,
  type ScoreNormalization,
  type NormalizedList,
  type RrfOptions,
  type InterpolationOptions,
  type AlphaTuning,
  type TuneAlphaOptions,
  type HybridSearcherParts,
  type HybridSearchOptions,
  type HybridHit,
  type HybridRuns,
  type OpenHybridOptions,
} from './hybrid.js';
