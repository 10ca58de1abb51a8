import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/random.js';
import { hierarchicalCodes } from './hierarchical.js';

/** 400 points in 8 dims round four far-apart centres (point i belongs to centre i mod 4). */
function fourClusters(): Float32Array {
  const rng = new Rng(21);
  return Float32Array.from({ length: 400 * 8 }, (_, i) => (Math.floor(i / 8) % 4 === i % 8 ? 20 : 0) + rng.normal());
}

test('hierarchical k-means fitted on a sample of a large group still splits it by cluster, and codes stay distinct', () => {
  const points = fourClusters();
  const options = { k: 4, leafSize: 30, seed: 3 };
  const whole = hierarchicalCodes(points, 400, 8, options);
  assert.deepEqual(
    hierarchicalCodes(points, 400, 8, { ...options, trainSample: 400 }),
    whole,
    'a group no larger than the sample clusters whole',
  );
  const sampled = hierarchicalCodes(points, 400, 8, { ...options, trainSample: 40 });
  assert.equal(new Set(sampled.map((code) => code.join(','))).size, 400);
  // The root split sends each true cluster to one branch, a different one per cluster.
  const branchOf = new Map<number, number>();
  sampled.forEach((code, i) => {
    const cluster = i % 4;
    if (!branchOf.has(cluster)) branchOf.set(cluster, code[0]);
    assert.equal(code[0], branchOf.get(cluster), `point ${i}`);
  });
  assert.equal(new Set(branchOf.values()).size, 4);
});
