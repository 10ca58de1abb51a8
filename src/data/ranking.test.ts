import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTrecOrder, compareUtf8, sortRanking } from './ranking.js';
import { formatTable, formatValue } from '../eval/report.js';

test('compareUtf8 orders by UTF-8 bytes (strcmp), unlike JavaScript string comparison', () => {
  assert.ok(compareUtf8('a', 'b') < 0);
  assert.ok(compareUtf8('ab', 'a') > 0);
  assert.equal(compareUtf8('same', 'same'), 0);
  assert.ok(compareUtf8('9', '10') > 0);
  assert.ok(compareUtf8('Z', 'a') < 0);
  assert.ok(compareUtf8('e', 'é') < 0);
  // U+FFFF is EF BF BF in UTF-8, U+10000 is F0 90 80 80: strcmp puts U+FFFF first,
  // while JavaScript's UTF-16 comparison puts the surrogate pair first.
  assert.ok('\u{10000}' < '\uffff');
  assert.ok(compareUtf8('\uffff', '\u{10000}') < 0);
  assert.ok(compareUtf8('\u{10000}', '\uffff') > 0);
  assert.ok(compareUtf8('\ue000', '\ud7ff') > 0);
});

test('sortRanking: score descending, ties by document id descending; input untouched', () => {
  const entries = [
    { docId: 'b', score: 1 },
    { docId: 'c', score: 2 },
    { docId: 'a', score: 1 },
    { docId: 'z', score: -Infinity },
    { docId: 'd', score: 1 },
  ];
  const copy = entries.map((e) => ({ ...e }));
  assert.deepEqual(
    sortRanking(entries).map((e) => e.docId),
    ['c', 'd', 'b', 'a', 'z'],
  );
  assert.deepEqual(entries, copy);
  const sorted = sortRanking(entries);
  assert.equal(sortRanking(sorted), sorted); // already in order: returned as is
  assert.ok(compareTrecOrder({ docId: 'a', score: 2 }, { docId: 'b', score: 1 }) < 0);
});

test('formatValue prints as printf("%.4f") does, ties to even included', () => {
  assert.equal(formatValue(1 / 3), '0.3333');
  assert.equal(formatValue(0.03125), '0.0312'); // exact tie: printf rounds to even, toFixed would give 0.0313
  assert.equal(formatValue(0.09375), '0.0938');
  assert.equal(formatValue(0.99995), '1.0000'); // 0.99995 is slightly above the tie as a double
  assert.equal(formatValue(-0.03125), '-0.0312');
  assert.equal(formatValue(2.5, 0), '2');
  assert.equal(formatValue(1), '1.0000');
  assert.equal(formatValue(Number.NaN), '-');
});

test('formatTable aligns columns', () => {
  assert.equal(
    formatTable([
      ['metric', 'mean'],
      ['nDCG@10', '0.5000'],
      ['R@1000', '1.0000'],
    ]),
    'metric     mean\nnDCG@10  0.5000\nR@1000   1.0000',
  );
});
