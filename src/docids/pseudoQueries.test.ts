import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Document } from '../data/types.js';
import { holdOutSentences, samplePseudoQueries, sampleSpans } from './pseudoQueries.js';

const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
const wordCount = (text: string): number => [...segmenter.segment(text)].filter((s) => s.isWordLike).length;

const doc: Document = {
  id: 'sb50',
  title: 'Super Bowl 50',
  text:
    'Super Bowl 50 was an American football game to determine the champion of the National Football League for the 2015 season. ' +
    'The American Football Conference champion Denver Broncos defeated the National Football Conference champion Carolina Panthers 24–10. ' +
    "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara, California.",
};

test('span sampling: distinct spans of the text, within the length bounds, deterministic per seed', () => {
  const spans = sampleSpans(doc, { perDoc: 8, seed: 1, minWords: 3, maxWords: 10 });
  assert.equal(spans.length, 8);
  assert.equal(new Set(spans).size, 8);
  const flat = doc.text.replace(/\s+/g, ' ');
  for (const span of spans) {
    assert.ok(flat.includes(span), `'${span}' is a span of the text`);
    const words = wordCount(span);
    assert.ok(words >= 3 && words <= 10, `'${span}' has ${words} words`);
  }
  assert.deepEqual(sampleSpans(doc, { perDoc: 8, seed: 1, minWords: 3, maxWords: 10 }), spans);
  assert.notDeepEqual(sampleSpans(doc, { perDoc: 8, seed: 2, minWords: 3, maxWords: 10 }), spans);
});

test('whole sentences are drawn when they fit', () => {
  const short: Document = { id: 's', title: '', text: 'Cats purr loudly. Dogs bark at night. Birds sing at dawn.' };
  const spans = sampleSpans(short, { perDoc: 3, seed: 0, minWords: 3, maxWords: 5, sentenceProbability: 1 });
  assert.deepEqual([...spans].sort(), ['Birds sing at dawn', 'Cats purr loudly', 'Dogs bark at night']);
});

test('short and empty documents give what they have', () => {
  assert.deepEqual(sampleSpans({ id: 'e', title: 't', text: '' }), []);
  assert.deepEqual(sampleSpans({ id: 'w', title: 't', text: 'Two words' }, { perDoc: 5, minWords: 4 }), ['Two words']);
});

test('Chinese and Thai text is sampled in words, not whole paragraphs', () => {
  const zh: Document = { id: 'zh', title: '', text: '北京是中国的首都。上海是中国最大的城市。' };
  const spans = sampleSpans(zh, { perDoc: 4, seed: 3, minWords: 2, maxWords: 3, sentenceProbability: 0 });
  assert.ok(spans.length > 1);
  for (const span of spans) assert.ok(zh.text.includes(span) && span.length < 10, span);
  const th: Document = { id: 'th', title: '', text: 'กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย' };
  const thai = sampleSpans(th, { perDoc: 4, seed: 3, minWords: 2, maxWords: 2, sentenceProbability: 0 });
  assert.ok(thai.length > 1);
  for (const span of thai) assert.ok(th.text.includes(span) && span.length < th.text.length, span);
});

test('corpus sampling is per document and independent of corpus order', async () => {
  const other: Document = { id: 'o', title: '', text: 'One two three four five six seven eight nine ten eleven twelve.' };
  const forward = await samplePseudoQueries([doc, other], { perDoc: 3, seed: 4 });
  const backward = await samplePseudoQueries([other, doc], { perDoc: 3, seed: 4 });
  assert.equal(forward.length, 6);
  const byDoc = (qs: typeof forward, id: string): string[] => qs.filter((q) => q.docId === id).map((q) => q.text);
  assert.deepEqual(byDoc(forward, 'sb50'), byDoc(backward, 'sb50'));
  assert.deepEqual(byDoc(forward, 'o'), byDoc(backward, 'o'));
});

test('sentence hold-out: ⌊n/2⌋ whole sentences held out, the rest indexed, each sentence on exactly one side, seeded per document', () => {
  const sentences = (text: string) =>
    [...new Intl.Segmenter('und', { granularity: 'sentence' }).segment(text)].map((s) => s.segment.trim());
  const all = sentences(doc.text);
  assert.equal(all.length, 3);
  const split = holdOutSentences(doc, 0);
  const indexed = sentences(split.indexed);
  const heldOut = sentences(split.heldOut);
  assert.equal(heldOut.length, 1);
  assert.equal(indexed.length, 2);
  assert.deepEqual([...indexed, ...heldOut].sort(), [...all].sort());
  // Both sides keep the document's sentence order.
  assert.deepEqual(
    indexed,
    all.filter((s) => indexed.includes(s)),
  );
  assert.deepEqual(holdOutSentences(doc, 0), split);
  const held = new Set(Array.from({ length: 12 }, (_, seed) => holdOutSentences(doc, seed).heldOut));
  assert.ok(held.size > 1, 'the seed chooses which sentence is held out');
  const one: Document = { id: 'one', title: '', text: 'A single sentence has nothing to spare.' };
  assert.deepEqual(holdOutSentences(one, 0), { indexed: one.text, heldOut: '' });
  // Pseudo-queries sampled from the held-out text are that sentence's spans only.
  for (const span of sampleSpans({ ...doc, text: split.heldOut }, { perDoc: 5, seed: 0, sentenceProbability: 1 }))
    assert.ok(split.heldOut.includes(span) && !split.indexed.includes(span), span);
});
