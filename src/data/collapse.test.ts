import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collapseRun } from './collapse.js';
import type { Run } from './types.js';

test('collapseRun keeps the best-ranked document per relevance id, in trec_eval order', () => {
  const run: Run = new Map([
    [
      'q1',
      [
        { docId: 'en/p1', score: 1.0 },
        { docId: 'de/p2', score: 2.0 },
        { docId: 'de/p1', score: 3.0 },
        { docId: 'fr/p2', score: 2.0 }, // ties with de/p2: trec_eval ranks the larger id first
        { docId: 'solo', score: 0.5 },
      ],
    ],
    ['q2', []],
  ]);
  const mapping = new Map([
    ['en/p1', 'p1'],
    ['de/p1', 'p1'],
    ['de/p2', 'p2'],
    ['fr/p2', 'p2'],
  ]);
  const collapsed = collapseRun(run, mapping);
  assert.deepEqual(collapsed.get('q1'), [
    { docId: 'p1', score: 3.0 },
    { docId: 'p2', score: 2.0 },
    { docId: 'solo', score: 0.5 },
  ]);
  assert.deepEqual(collapsed.get('q2'), []);
  // A function works too, and the input run is left untouched.
  const byPrefix = collapseRun(run, (id) => id.split('/').pop() as string);
  assert.deepEqual(
    byPrefix.get('q1')?.map((e) => e.docId),
    ['p1', 'p2', 'solo'],
  );
  assert.equal(run.get('q1')?.[0].docId, 'en/p1');
});
