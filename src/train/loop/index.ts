// The training loop: bucketed batching, the loop with progress, loss curve, checkpoints and resume.
export { train, type TrainOptions, type TrainResult, type TrainableModel, type TrainingData, type LossAndGradients } from './trainer.js';
export {
  bucketBatches,
  epochSeed,
  makeSeq2SeqBatch,
  IGNORE_INDEX,
  type BucketOptions,
  type Seq2SeqBatch,
  type Seq2SeqExample,
  type BatchTokens,
} from './batching.js';
export {
  seq2seqTrainingData,
  copyReverseExamples,
  COPY_TOKEN,
  REVERSE_TOKEN,
  FIRST_SYMBOL,
  type Seq2SeqDataOptions,
  type CopyReverseOptions,
} from './seq2seq-data.js';
export { LossLog, type LossRecord } from './loss-log.js';
export { linePlotSvg, niceTicks, smooth, type PlotOptions, type PlotSeries } from './plot.js';
export {
  saveTrainingCheckpoint,
  loadLatestCheckpoint,
  hasCheckpoint,
  checkpointsDir,
  type TrainerState,
  type TrainingCheckpoint,
} from './checkpoints.js';
