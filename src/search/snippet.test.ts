import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snippet } from './snippet.js';

const ABSTRACT =
  'The aim of this study was to measure blood flow in patients. Forty subjects were recruited from two clinics. ' +
  'Renal function declined in the group given the high dose of the drug, while hepatic enzymes stayed normal. ' +
  'Follow-up lasted two years. No adverse events were reported in the control arm of the trial.';

test('snippet: the sentence sharing the most query words, cut at a word boundary, with ellipses', () => {
  const excerpt = snippet(ABSTRACT, 'renal function high dose', 120);
  assert.ok(excerpt.startsWith('… Renal function declined'), excerpt);
  assert.ok(excerpt.endsWith(' …'));
  assert.ok(excerpt.length <= 120 + 4);
  // Cut after a whole word of the text, not inside one.
  assert.ok(ABSTRACT.includes(`${excerpt.slice(2, -2)} `), excerpt);
});

test('snippet: no query word in the text gives its start; a short text is returned whole, whitespace collapsed', () => {
  assert.ok(snippet(ABSTRACT, 'zebra', 80).startsWith('The aim of this study'));
  assert.equal(snippet('  Short\n text.  ', 'anything'), 'Short text.');
});

test('snippet: scripts without spaces (Chinese) match by word segmentation', () => {
  const text = '长江是中国最长的河流。' + '它流经许多省份，最后注入东海。'.repeat(3) + '黄河是中国第二长的河流，被称为母亲河。';
  assert.ok(snippet(text, '黄河', 30).includes('黄河'));
});
