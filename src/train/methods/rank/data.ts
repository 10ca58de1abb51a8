/**
 * Training data for the preference objectives, from mined triples: each epoch is a seeded
 * arrangement of the triples into groups (one query, its positive and some negatives, one
 * encoder pass) and of the groups into batches. `plan(epoch)` depends on (seed, epoch) only,
 * so a resumed run rebuilds the same epoch.
 */
import type { DocidTable } from '../../../docids/table.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { UserError } from '../../../util/errors.js';
import { Rng } from '../../../util/random.js';
import { epochSeed, type BatchTokens } from '../../loop/batching.js';
import type { TripleGroup } from '../../sources/negatives/triples.js';
import type { TrainingData } from '../../loop/trainer.js';
import { keyedRng } from '../../sources/negatives/bands.js';
import { makePreferenceBatch, type PreferenceBatch, type PreferenceGroup } from '../../../model/grouped-batch.js';

/** A triple group with token ids: the query, the positive's and the negatives' docids (without EOS). */
export interface EncodedGroup {
  query: string;
  source: Int32Array;
  positive: Int32Array;
  reference: number;
  negatives: { target: Int32Array; reference: number; teacher?: number }[];
  /** A teacher's score of the positive in nats (MarginMSE); the negatives' are beside them. */
  teacher?: number;
}

/**
 * Tokenizes the triples' queries (cut to maxSourceTokens) and looks up every docid; with
 * `teacher` (query id, docid key → score in nats), also each target's teacher score.
 */
export function encodeGroups(
  groups: readonly TripleGroup[],
  tokenizer: SubwordTokenizer,
  docids: DocidTable,
  maxSourceTokens: number,
  teacher?: (query: string, key: string) => number,
): EncodedGroup[] {
  const target = (key: string): Int32Array => {
    const index = docids.indexOf(key);
    if (index < 0)
      throw new UserError(`triples name docid key '${key}', which the model's docids do not have (triples from another model?)`);
    const sequence = docids.sequence(index);
    return sequence.subarray(0, sequence.length - 1);
  };
  const sources = new Map<string, Int32Array>();
  return groups.map((g) => {
    let source = sources.get(g.text);
    if (source === undefined) {
      source = tokenizer.encode(g.text).subarray(0, maxSourceTokens);
      sources.set(g.text, source);
    }
    return {
      query: g.query,
      source,
      positive: target(g.positive),
      reference: g.reference,
      negatives: g.negatives.map((n) => ({
        target: target(n.key),
        reference: n.reference,
        ...(teacher === undefined ? {} : { teacher: teacher(g.query, n.key) }),
      })),
      ...(teacher === undefined ? {} : { teacher: teacher(g.query, g.positive) }),
    };
  });
}

export interface PreferenceData {
  data: TrainingData<PreferenceGroup[], PreferenceBatch>;
  batchesPerEpoch: number;
  /** Groups (encoder passes) and (positive, negative) pairs per epoch. */
  groupsPerEpoch: number;
  pairsPerEpoch: number;
}

export interface PreferenceDataOptions extends BatchTokens {
  seed: number;
  /** Groups per batch. */
  groupsPerBatch: number;
}

/** Wraps a per-epoch arrangement of groups into batches for the trainer. */
function batched(groupsOf: (epoch: number) => PreferenceGroup[], options: PreferenceDataOptions): PreferenceData {
  const plan = (epoch: number): PreferenceGroup[][] => {
    const groups = new Rng(epochSeed(options.seed ^ 0x2bd7, epoch)).shuffle(groupsOf(epoch));
    const batches: PreferenceGroup[][] = [];
    for (let i = 0; i < groups.length; i += options.groupsPerBatch) batches.push(groups.slice(i, i + options.groupsPerBatch));
    return batches;
  };
  const first = groupsOf(0);
  return {
    data: {
      plan,
      materialize: (groups) => makePreferenceBatch(groups, options),
      examples: (batch) => batch.pairPositive.length || batch.groups,
    },
    batchesPerEpoch: Math.ceil(first.length / options.groupsPerBatch),
    groupsPerEpoch: first.length,
    pairsPerEpoch: first.reduce((sum, g) => sum + (g.pairs?.length ?? g.targets.length - 1), 0),
  };
}

/**
 * DDRO: every triple once per epoch. Each query's negatives are shuffled (per epoch) and cut
 * into chunks of `negativesPerGroup`; a chunk and the positive form one group, so a batch of
 * `groupsPerBatch` groups holds about groupsPerBatch × negativesPerGroup triples.
 */
export function dpoTrainingData(
  groups: readonly EncodedGroup[],
  negativesPerGroup: number,
  options: PreferenceDataOptions,
): PreferenceData {
  if (groups.every((g) => g.negatives.length === 0)) throw new UserError('DDRO: the triples hold no negatives');
  const groupsOf = (epoch: number): PreferenceGroup[] => {
    const out: PreferenceGroup[] = [];
    groups.forEach((g, index) => {
      const negatives = keyedRng(options.seed, `dpo\u0000${epoch}\u0000${g.query}\u0000${index}`).shuffle([...g.negatives]);
      for (let i = 0; i < negatives.length; i += negativesPerGroup) {
        const chunk = negatives.slice(i, i + negativesPerGroup);
        out.push({
          source: g.source,
          targets: [g.positive, ...chunk.map((n) => n.target)],
          reference: [g.reference, ...chunk.map((n) => n.reference)],
        });
      }
    });
    return out;
  };
  return batched(groupsOf, options);
}

/**
 * LTRGR's margin loss: per query the positive, the top negative (the one the SFT model
 * scores highest: what its own retrieval ranks first) and one random other negative (drawn
 * per epoch); pairs (positive, top) and (positive, random), ½ each.
 */
export function marginTrainingData(groups: readonly EncodedGroup[], options: PreferenceDataOptions): PreferenceData {
  const usable = groups.filter((g) => g.negatives.length > 0);
  if (usable.length === 0) throw new UserError('LTRGR: the triples hold no negatives');
  const groupsOf = (epoch: number): PreferenceGroup[] =>
    usable.map((g, index) => {
      const top = topNegative(g);
      const others = g.negatives.filter((_, j) => j !== top);
      const chosen =
        others.length === 0
          ? [g.negatives[top]]
          : [g.negatives[top], others[keyedRng(options.seed, `margin\u0000${epoch}\u0000${g.query}\u0000${index}`).int(others.length)]];
      return {
        source: g.source,
        targets: [g.positive, ...chosen.map((n) => n.target)],
        reference: [g.reference, ...chosen.map((n) => n.reference)],
        pairs: chosen.map((_, j) => [0, j + 1] as const),
        ...(g.teacher === undefined ? {} : { teacher: [g.teacher, ...chosen.map((n) => n.teacher ?? 0)] }),
      };
    });
  return batched(groupsOf, options);
}

/**
 * List-wise: per query the positive, the top negative and `listSize − 2` other negatives
 * drawn per epoch; the loss is the softmax cross-entropy of the positive over the list.
 */
export function listwiseTrainingData(groups: readonly EncodedGroup[], listSize: number, options: PreferenceDataOptions): PreferenceData {
  if (!Number.isInteger(listSize) || listSize < 2)
    throw new UserError(`--list-size ${listSize}: expected an integer >= 2 (the positive and at least one negative)`);
  const usable = groups.filter((g) => g.negatives.length > 0);
  if (usable.length === 0) throw new UserError('LTRGR: the triples hold no negatives');
  const groupsOf = (epoch: number): PreferenceGroup[] =>
    usable.map((g, index) => {
      const top = topNegative(g);
      const others = keyedRng(options.seed, `list\u0000${epoch}\u0000${g.query}\u0000${index}`)
        .shuffle(g.negatives.filter((_, j) => j !== top))
        .slice(0, listSize - 2);
      return {
        source: g.source,
        targets: [g.positive, g.negatives[top].target, ...others.map((n) => n.target)],
        reference: [g.reference, g.negatives[top].reference, ...others.map((n) => n.reference)],
      };
    });
  return batched(groupsOf, options);
}

/** Index of the negative with the highest reference score (the SFT model's top-ranked one). */
export function topNegative(group: EncodedGroup): number {
  let best = 0;
  for (let j = 1; j < group.negatives.length; j++) if (group.negatives[j].reference > group.negatives[best].reference) best = j;
  return best;
}

/**
 * LTRGR keeps only "hard" queries: those whose positive is not already ahead of the top
 * negative by the margin under the starting model.
 */
export function hardGroups(groups: readonly EncodedGroup[], margin: number): EncodedGroup[] {
  return groups.filter((g) => g.negatives.length > 0 && g.reference - g.negatives[topNegative(g)].reference < margin);
}
