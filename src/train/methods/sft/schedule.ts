/**
 * SFT as a schedule of stages. Each stage trains on a weighted mix of sources for a
 * number of epochs, with its own optimizer and learning-rate decay (as DDRO runs its three
 * stages one after another). Written on the command line as
 *
 *   chunks+terms:10,pseudo:20,queries:10          DDRO: indexing, then pseudo-queries, then queries
 *   chunks+pseudo+queries*2:30                    one mixed stage, labelled queries twice per epoch
 *
 * A stage is `source[*weight](+source[*weight])*:epochs`. Weight w means: every example of
 * the source ⌊w⌋ times per epoch, plus a seeded random (w − ⌊w⌋) share of them.
 */
import type { Seq2SeqBatch } from '../../loop/batching.js';
import { bucketBatches, epochSeed, makeSeq2SeqBatch, type Seq2SeqExample } from '../../loop/batching.js';
import type { Seq2SeqDataOptions } from '../../loop/seq2seq-data.js';
import type { TrainingData } from '../../loop/trainer.js';
import { appendAll } from '../../../util/arrays.js';
import { UserError } from '../../../util/errors.js';
import { Rng } from '../../../util/random.js';
import { SFT_SOURCES, type SftSource, type SourceExamples } from './examples.js';

export interface WeightedSource {
  source: SftSource;
  weight: number;
}

export interface SftStage {
  /** `chunks+terms`, for directories and reports. */
  name: string;
  sources: WeightedSource[];
  epochs: number;
}

/** DDRO's three stages with its epochs (indexing 10, pseudo-queries 20, queries 10). */
export const DDRO_STAGES = 'chunks+terms:10,pseudo:20,queries:10';

export function formatStages(stages: readonly SftStage[]): string {
  return stages
    .map((stage) => `${stage.sources.map((s) => (s.weight === 1 ? s.source : `${s.source}*${s.weight}`)).join('+')}:${stage.epochs}`)
    .join(',');
}

export function parseStages(spec: string): SftStage[] {
  const stages = spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (stages.length === 0) throw new UserError(`--stages '${spec}': no stage given`);
  return stages.map((part) => {
    const match = /^([^:]+?)\s*:\s*([0-9.]+)$/.exec(part);
    if (!match) throw new UserError(`--stages: '${part}' is not source[*weight]+…:epochs (e.g. chunks+terms:10)`);
    const epochs = Number(match[2]);
    if (!(epochs > 0) || !Number.isFinite(epochs)) throw new UserError(`--stages: '${part}': epochs must be a positive number`);
    const sources = match[1].split('+').map((item): WeightedSource => {
      const [name, weightText] = item.trim().split('*');
      if (!(SFT_SOURCES as readonly string[]).includes(name))
        throw new UserError(`--stages: unknown source '${name}' in '${part}' (sources: ${SFT_SOURCES.join(', ')})`);
      const weight = weightText === undefined ? 1 : Number(weightText);
      if (!(weight > 0) || !Number.isFinite(weight))
        throw new UserError(`--stages: weight of '${name}' in '${part}' must be a positive number`);
      return { source: name as SftSource, weight };
    });
    const seen = new Set<string>();
    for (const s of sources) {
      if (seen.has(s.source)) throw new UserError(`--stages: source '${s.source}' appears twice in '${part}'`);
      seen.add(s.source);
    }
    return { name: sources.map((s) => s.source).join('+'), sources, epochs };
  });
}

/** Replaces the stages' epochs: one number for every stage, or one per stage. */
export function overrideEpochs(stages: readonly SftStage[], epochs: string): SftStage[] {
  const values = epochs.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !(v > 0) || !Number.isFinite(v)) || (values.length !== 1 && values.length !== stages.length)) {
    throw new UserError(`--epochs ${epochs}: expected one positive number, or one per stage (${stages.length})`);
  }
  return stages.map((stage, i) => ({ ...stage, epochs: values.length === 1 ? values[0] : values[i] }));
}

export interface MixedData {
  data: TrainingData<number[], Seq2SeqBatch>;
  /** Examples and batches in every epoch (the counts do not change between epochs). */
  examplesPerEpoch: number;
  batchesPerEpoch: number;
}

/**
 * Length-bucketed training data for one stage: each epoch draws the weighted mix (a pure
 * function of the seed and the epoch, so resumed runs see the same data), then buckets it
 * as the trainer's seq2seq data does.
 */
export function mixedTrainingData(sets: ReadonlyMap<SftSource, SourceExamples>, stage: SftStage, options: Seq2SeqDataOptions): MixedData {
  const all: Seq2SeqExample[] = [];
  const parts: { start: number; count: number; weight: number }[] = [];
  for (const { source, weight } of stage.sources) {
    const set = sets.get(source);
    if (set === undefined || set.examples.length === 0) throw new UserError(`stage ${stage.name}: source '${source}' has no examples`);
    parts.push({ start: all.length, count: set.examples.length, weight });
    appendAll(all, set.examples);
  }
  const lengthKey = all.map((e) => e.source.length * 4096 + Math.min(e.target.length, 4095));
  const selection = (epoch: number): number[] => {
    const rng = new Rng(epochSeed(options.seed ^ 0x5f7, epoch));
    const chosen: number[] = [];
    for (const { start, count, weight } of parts) {
      const whole = Math.floor(weight);
      for (let r = 0; r < whole; r++) for (let i = 0; i < count; i++) chosen.push(start + i);
      const extra = Math.round((weight - whole) * count);
      if (extra > 0) {
        const pool = Array.from({ length: count }, (_, i) => start + i);
        // Partial Fisher–Yates: the first `extra` slots become a uniform random subset.
        for (let i = 0; i < extra; i++) {
          const j = i + rng.int(count - i);
          [pool[i], pool[j]] = [pool[j], pool[i]];
          chosen.push(pool[i]);
        }
      }
    }
    return chosen;
  };
  const plan = (epoch: number): number[][] => {
    const chosen = selection(epoch);
    return bucketBatches(
      chosen.map((i) => lengthKey[i]),
      epoch,
      options,
    ).map((batch) => batch.map((i) => chosen[i]));
  };
  const first = plan(0);
  return {
    data: {
      plan,
      materialize: (indices) => makeSeq2SeqBatch(all, indices, options),
      examples: (batch) => batch.size,
      weight: (batch) => batch.targetTokens,
    },
    examplesPerEpoch: first.reduce((sum, batch) => sum + batch.length, 0),
    batchesPerEpoch: first.length,
  };
}
