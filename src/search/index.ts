// Constrained beam search over docids, the inference-only T5 runner it decodes with, and the
// searcher that turns query text into ranked documents.
export { constrainedBeamSearch, beamSettings, DEFAULT_BEAM, type BeamSearchOptions, type BeamSearchStats, type RankedDocid } from './beam.js';
export { T5InferenceModel, type DocidDecoder, type InferenceOptions } from './decoder.js';
export { GenerativeSearcher, DEFAULT_MAX_QUERY_TOKENS, type SearchOptions, type SearchHit, type GenerativeSearcherParts, type OpenSearcherOptions } from './searcher.js';
