import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTop10, type Hit } from './lucene-compare.js';

const hits = (...pairs: [string, number][]): Hit[] => pairs.map(([docId, score]) => ({ docId, score }));

test('compareTop10: same ranks within 1e-4 are identical; swapped equal scores are tie order; a swapped unequal pair is a difference', () => {
  const a = new Map([
    ['q1', hits(['d1', 3.25], ['d2', 2.5])],
    ['q2', hits(['d1', 3.25], ['d2', 2.5], ['d3', 2.5], ['d4', 1])],
    ['q3', hits(['d1', 3.25], ['d2', 2.5])],
  ]);
  const b = new Map([
    ['q1', hits(['d1', 3.25004], ['d2', 2.5])],
    ['q2', hits(['d1', 3.25], ['d3', 2.5], ['d2', 2.5], ['d4', 1])],
    ['q3', hits(['d2', 3.25], ['d1', 2.5])],
  ]);
  const result = compareTop10(a, b);
  assert.equal(result.queries, 3);
  assert.equal(result.identical, 1);
  assert.equal(result.tieOrderOnly, 1);
  assert.deepEqual(result.different, [{ queryId: 'q3', rank: 1, a: { docId: 'd1', score: 3.25 }, b: { docId: 'd2', score: 3.25 } }]);
  assert.ok(Math.abs(result.maxScoreDiff - 0.00004) < 1e-9);
});

test('compareTop10: a tie cut differently at rank 10 is tie order; a score beyond the tolerance or a missing query is a difference', () => {
  const ten = (last: string, lastScore = 1): Hit[] => [
    ...Array.from({ length: 9 }, (_, i) => ({ docId: `d${i}`, score: 10 - i })),
    { docId: last, score: lastScore },
  ];
  const a = new Map([
    ['cut', ten('x')],
    ['score', ten('x')],
    ['missing', ten('x')],
  ]);
  const b = new Map([
    ['cut', ten('y')],
    ['score', ten('x', 1.001)],
  ]);
  const result = compareTop10(a, b);
  assert.equal(result.tieOrderOnly, 1);
  assert.deepEqual(
    result.different.map((d) => [d.queryId, d.rank]),
    [
      ['score', 10],
      ['missing', 1],
    ],
  );
});
