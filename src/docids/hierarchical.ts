/**
 * Hierarchical k-means codes as in DSI's semantically structured identifiers and
 * NCI: cluster into k groups, recurse into every group larger than `leafSize`,
 * and end each code with the document's position inside its leaf group.
 */
import { kmeans, nearestCentroid } from './kmeans.js';
import { sampleIndices } from './sample.js';

export interface HierarchicalOptions {
  /** Branching factor (DSI: 10). */
  k: number;
  /** Largest group that is not split further (DSI: 100). */
  leafSize: number;
  seed?: number;
  maxIterations?: number;
  /**
   * A group larger than this fits its k centroids on a seeded random sample of this many
   * members and then assigns every member to its nearest (default 65,536, as PQ's training
   * sample): k-means iterations over a million points cost as much as over the sample, and
   * the assignment is one pass. Groups up to this size cluster whole, as before.
   */
  trainSample?: number;
}

/** One code per point: cluster indices from the root down, then the position in the leaf. */
export function hierarchicalCodes(vectors: Float32Array, n: number, dim: number, options: HierarchicalOptions): number[][] {
  const { k, leafSize, seed = 0, maxIterations = 25, trainSample = 65_536 } = options;
  if (k < 2) throw new RangeError(`semantic docids: k must be ≥ 2, got ${k}`);
  if (leafSize < 1) throw new RangeError(`semantic docids: leaf size must be ≥ 1, got ${leafSize}`);
  const codes: number[][] = new Array<number[]>(n);
  // Explicit stack instead of recursion: deep trees on degenerate data must not overflow.
  const stack: { members: Int32Array; prefix: number[] }[] = [{ members: Int32Array.from({ length: n }, (_, i) => i), prefix: [] }];
  let splitCounter = 0;
  while (stack.length > 0) {
    const { members, prefix } = stack.pop()!;
    if (members.length <= leafSize) {
      members.forEach((point, position) => {
        codes[point] = [...prefix, position];
      });
      continue;
    }
    const sub = new Float32Array(members.length * dim);
    members.forEach((point, i) => sub.set(vectors.subarray(point * dim, (point + 1) * dim), i * dim));
    const splitSeed = (seed + 104_729 * ++splitCounter) >>> 0;
    let assignments: Int32Array;
    if (members.length <= trainSample) {
      assignments = kmeans(sub, members.length, dim, k, { seed: splitSeed, maxIterations }).assignments;
    } else {
      const rows = sampleIndices(members.length, trainSample, splitSeed);
      const sample = new Float32Array(trainSample * dim);
      rows.forEach((row, i) => sample.set(sub.subarray(row * dim, (row + 1) * dim), i * dim));
      const fitted = kmeans(sample, trainSample, dim, k, { seed: splitSeed, maxIterations });
      assignments = Int32Array.from({ length: members.length }, (_, i) => nearestCentroid(sub, i, fitted.centroids, fitted.k, dim));
    }
    const groups: number[][] = Array.from({ length: k }, () => []);
    members.forEach((point, i) => groups[assignments[i]].push(point));
    if (groups.filter((g) => g.length > 0).length < 2) {
      // Identical vectors cannot be separated by k-means: split by corpus order instead.
      groups.forEach((g) => (g.length = 0));
      const chunk = Math.ceil(members.length / k);
      members.forEach((point, i) => groups[Math.floor(i / chunk)].push(point));
    }
    for (let c = k - 1; c >= 0; c--) {
      if (groups[c].length > 0) stack.push({ members: Int32Array.from(groups[c]), prefix: [...prefix, c] });
    }
  }
  return codes;
}
