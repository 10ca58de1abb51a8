/**
 * Learning-rate schedules. A schedule maps the 1-based number of the update about
 * to be applied to its learning rate, so update 1 already trains (warm-up starts at
 * peak/warmupSteps, not at 0) and update `warmupSteps` is the first at the peak.
 */
export type Schedule = (update: number) => number;

export interface WarmupScheduleOptions {
  /** Learning rate reached at the end of warm-up. */
  peak: number;
  /** Updates of linear warm-up from peak/warmupSteps to peak; 0 starts at the peak. */
  warmupSteps: number;
  /** Update at which the decay reaches `final`; later updates stay at `final`. */
  totalSteps: number;
  /** Learning rate at `totalSteps` (default 0). */
  final?: number;
}

export function constantSchedule(lr: number, warmupSteps = 0): Schedule {
  return (update) => warmup(update, lr, warmupSteps) ?? lr;
}

/** Linear warm-up, then a straight line down to `final` at `totalSteps`. */
export function linearSchedule(options: WarmupScheduleOptions): Schedule {
  return warmupThenDecay(options, (progress, peak, final) => peak + (final - peak) * progress);
}

/** Linear warm-up, then half a cosine from the peak down to `final` at `totalSteps`. */
export function cosineSchedule(options: WarmupScheduleOptions): Schedule {
  return warmupThenDecay(options, (progress, peak, final) => final + (peak - final) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Linear warm-up to the peak, then `decay` of the progress (0 → 1) from the end of warm-up to `totalSteps`. */
function warmupThenDecay(options: WarmupScheduleOptions, decay: (progress: number, peak: number, final: number) => number): Schedule {
  const { peak, warmupSteps, totalSteps } = checked(options);
  const final = options.final ?? 0;
  return (update) => warmup(update, peak, warmupSteps) ?? decay(decayProgress(update, warmupSteps, totalSteps), peak, final);
}

function warmup(update: number, peak: number, warmupSteps: number): number | undefined {
  if (!Number.isInteger(update) || update < 1) throw new RangeError(`schedule: update number must be an integer >= 1, got ${update}`);
  return update <= warmupSteps ? (peak * update) / warmupSteps : undefined;
}

/** 0 at the last warm-up update, 1 at `totalSteps` and after. */
function decayProgress(update: number, warmupSteps: number, totalSteps: number): number {
  const span = totalSteps - warmupSteps;
  return span <= 0 ? 1 : Math.min(1, (update - warmupSteps) / span);
}

function checked(options: WarmupScheduleOptions): WarmupScheduleOptions {
  const { peak, warmupSteps, totalSteps } = options;
  if (!(peak >= 0) || !Number.isFinite(peak)) throw new RangeError(`schedule: peak learning rate must be finite and >= 0, got ${peak}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
    throw new RangeError(`schedule: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  if (!Number.isInteger(totalSteps) || totalSteps < warmupSteps) {
    throw new RangeError(`schedule: totalSteps (${totalSteps}) must be an integer >= warmupSteps (${warmupSteps})`);
  }
  return options;
}
