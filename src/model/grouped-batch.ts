/**
 * Batches of grouped rows for the preference graphs: each group is one query with its
 * positive docid first and some negatives after it; every group of a batch is padded to the
 * same number of rows (a padded row repeats the positive and takes part in no pair and no
 * softmax), so rows are query-major and row r belongs to query ⌊r / group⌋.
 */
import { MASKED } from './t5-graph.js';
import { IGNORE_INDEX, type BatchTokens } from './batch.js';

/** One query with its positive (row 0) and negatives, docids as token ids without the final EOS. */
export interface PreferenceGroup {
  source: ArrayLike<number>;
  /** targets[0] is the positive; the rest are negatives. */
  targets: readonly ArrayLike<number>[];
  /** Reference (frozen SFT) log-probability of each target, for DPO. */
  reference?: readonly number[];
  /** A teacher's score of each target in nats, for MarginMSE: a pair's target margin is teacher[positive] − teacher[negative]. */
  teacher?: readonly number[];
  /** (positive, negative) target indices that form pairs, for dpo and margin; default (0, j) for every negative j. */
  pairs?: readonly (readonly [number, number])[];
}

export interface PreferenceBatch {
  /** Encoder rows. */
  queries: number;
  /** Groups of target rows (equal to queries: group q reads encoder row q through rowQuery). */
  groups: number;
  sourceLength: number;
  /** [queries, sourceLength] source ids + EOS, padded. */
  inputIds: BigInt64Array;
  attentionMask: Float32Array;
  /** Rows per group (the largest group of the batch). */
  groupSize: number;
  rows: number;
  targetLength: number;
  /** [rows] query of each row. */
  rowQuery: BigInt64Array;
  decoderInputIds: BigInt64Array;
  labels: BigInt64Array;
  /** [rows] reference log-probabilities (0 where a group has none). */
  reference: Float32Array;
  pairPositive: BigInt64Array;
  pairNegative: BigInt64Array;
  /** [pairs] the teacher's margin of each pair (0 where a group has no teacher scores). */
  pairTarget: Float32Array;
  /** 1 / number of pairs in the batch: the loss is the mean over pairs (triples). */
  pairWeight: Float32Array;
  /** [groups, groupSize]: 0 for a real row, MASKED for padding. */
  groupBias: Float32Array;
  /** [groups] 1 / groups. */
  queryWeight: Float32Array;
  /** [groups] the positive's row of each group. */
  positiveRows: BigInt64Array;
  /** Tokens of the positives (EOS included), the generation loss' denominator. */
  generationTokens: number;
}

export function makePreferenceBatch(groups: readonly PreferenceGroup[], tokens: BatchTokens): PreferenceBatch {
  if (groups.length === 0) throw new RangeError('makePreferenceBatch: no groups');
  const maxSource = tokens.maxSourceLength ?? Infinity;
  const maxTarget = tokens.maxTargetLength ?? Infinity;
  const queries = groups.length;
  let sourceLength = 1;
  let targetLength = 1;
  let groupSize = 1;
  for (const group of groups) {
    if (group.targets.length === 0) throw new RangeError('makePreferenceBatch: a group without a positive');
    sourceLength = Math.max(sourceLength, Math.min(group.source.length, maxSource) + 1);
    groupSize = Math.max(groupSize, group.targets.length);
    for (const target of group.targets) targetLength = Math.max(targetLength, Math.min(target.length, maxTarget) + 1);
  }
  const rows = queries * groupSize;
  const inputIds = new BigInt64Array(queries * sourceLength).fill(BigInt(tokens.padId));
  const attentionMask = new Float32Array(queries * sourceLength);
  const rowQuery = new BigInt64Array(rows);
  const decoderInputIds = new BigInt64Array(rows * targetLength).fill(BigInt(tokens.padId));
  const labels = new BigInt64Array(rows * targetLength).fill(BigInt(IGNORE_INDEX));
  const reference = new Float32Array(rows);
  const groupBias = new Float32Array(rows);
  const positiveRows = new BigInt64Array(queries);
  const pairPositive: bigint[] = [];
  const pairNegative: bigint[] = [];
  const pairTarget: number[] = [];
  let generationTokens = 0;
  groups.forEach((group, q) => {
    const s = Math.min(group.source.length, maxSource);
    for (let i = 0; i < s; i++) inputIds[q * sourceLength + i] = BigInt(group.source[i]);
    inputIds[q * sourceLength + s] = BigInt(tokens.eosId);
    attentionMask.fill(1, q * sourceLength, q * sourceLength + s + 1);
    const first = q * groupSize;
    positiveRows[q] = BigInt(first);
    for (let j = 0; j < groupSize; j++) {
      const row = first + j;
      rowQuery[row] = BigInt(q);
      const padded = j >= group.targets.length;
      if (padded) groupBias[row] = MASKED;
      // A padded row scores the positive again: harmless, and keeps every row a real docid.
      const target = group.targets[padded ? 0 : j];
      const t = Math.min(target.length, maxTarget);
      const at = row * targetLength;
      decoderInputIds[at] = BigInt(tokens.decoderStartId);
      for (let i = 0; i < t; i++) {
        labels[at + i] = BigInt(target[i]);
        decoderInputIds[at + i + 1] = BigInt(target[i]);
      }
      labels[at + t] = BigInt(tokens.eosId);
      if (group.reference) reference[row] = group.reference[padded ? 0 : j];
      if (j === 0) generationTokens += t + 1;
    }
    const pairs = group.pairs ?? Array.from({ length: group.targets.length - 1 }, (_, i) => [0, i + 1] as const);
    for (const [positive, negative] of pairs) {
      pairPositive.push(BigInt(first + positive));
      pairNegative.push(BigInt(first + negative));
      pairTarget.push(group.teacher ? group.teacher[positive] - group.teacher[negative] : 0);
    }
  });
  const pairCount = pairPositive.length;
  return {
    queries,
    groups: queries,
    sourceLength,
    inputIds,
    attentionMask,
    groupSize,
    rows,
    targetLength,
    rowQuery,
    decoderInputIds,
    labels,
    reference,
    pairPositive: BigInt64Array.from(pairPositive),
    pairNegative: BigInt64Array.from(pairNegative),
    pairTarget: Float32Array.from(pairTarget),
    pairWeight: new Float32Array(pairCount).fill(pairCount === 0 ? 0 : 1 / pairCount),
    groupBias,
    queryWeight: new Float32Array(queries).fill(1 / queries),
    positiveRows,
    generationTokens,
  };
}
