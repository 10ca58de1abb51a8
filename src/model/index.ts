// The T5-style encoder–decoder: configs, graphs, runtime, checkpoints (safetensors + HF config).
export {
  T5_PRESETS,
  T5_FEED_FORWARDS,
  t5Config,
  isT5Preset,
  totalVocabSize,
  validateConfig,
  t5ParameterSpecs,
  parameterCount,
  toHfConfig,
  fromHfConfig,
  type T5Config,
  type T5Preset,
  type T5FeedForward,
  type ParameterSpec,
} from './config.js';
export { T5Model, initialParameters, relativePositionBuckets, causalBias, type T5RuntimeOptions } from './t5.js';
export {
  selectRows,
  expandEncoded,
  encoderInputs,
  decodeRows,
  type EncoderOutput,
  type DecoderCache,
  type StepDecoder,
} from './generation.js';
export {
  T5Builder,
  MASKED,
  buildTeacherForcedLogitsGraph,
  buildTrainingGraph,
  buildFusedAdamWTrainingGraph,
  buildScoringGraph,
  buildEncoderGraph,
  buildDecoderStepGraph,
  type GraphAdamWOptions,
  type TrainingLossOptions,
} from './t5-graph.js';
export {
  saveModelCheckpoint,
  loadModelCheckpoint,
  readModelConfig,
  checkWeights,
  WEIGHTS_FILE,
  CONFIG_FILE,
  type ModelCheckpoint,
} from './checkpoint.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  writeSafetensors,
  toFloat32,
  type SafetensorsDtype,
  type SafetensorsFile,
  type StoredTensor,
  type TensorArray,
  type TensorInput,
} from './safetensors.js';
export { readHfCheckpoint, writeHfDirectory, withDocidRows, parametersOf, describeCheckpoint, type HfCheckpoint } from './hf-import.js';
