// Optimizer pieces for training loops: AdamW, gradient clipping, schedules, accumulation.
export { AdamW, type AdamWOptions, type AdamWState, type ExternalAdamWUpdate } from './adamw.js';
export { clipGradNorm, clipFactor, globalGradNorm } from './clip.js';
export { GradientAccumulator } from './accumulate.js';
export { constantSchedule, linearSchedule, cosineSchedule, type Schedule, type WarmupScheduleOptions } from './schedule.js';
export { elementCount, type Gradients, type Parameter } from './types.js';
export { appendAdamWUpdate, adamWFeeds, type GraphAdamWOptions } from './adamw-graph.js';
export type { LossAndGradients, TrainableModel } from './trainable.js';
