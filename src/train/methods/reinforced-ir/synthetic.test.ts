import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Document } from '../../../data/types.js';
import { sampleSpans } from '../../../docids/pseudoQueries.js';
import { spanQueries } from './synthetic.js';

const docs: Document[] = [
  {
    id: 'vitamin',
    title: '',
    text: 'Vitamin D deficiency is common in older adults. Supplementation increased bone mineral density at the hip over two years. No effect on fracture rates was seen in the trial.',
  },
  {
    id: 'plate',
    title: '',
    text: 'The boundary layer over a flat plate thickens downstream. Transition to turbulence depends on the Reynolds number and on the pressure gradient along the wall.',
  },
  { id: 'empty', title: '', text: '  …  ' },
];
const wordsOf = (text: string): string[] => text.match(/[\p{L}\p{N}]+/gu) ?? [];
const normalised = (text: string): string => text.replace(/\s+/g, ' ');

test('span queries: each comes from its own document, words as runs of 4-16 words, sentences as whole sentences', () => {
  for (const source of ['words', 'sentences'] as const) {
    const queries = spanQueries(docs, source, 7);
    // The wordless document gives no query; the others one each, in order.
    assert.deepEqual(
      queries.map((q) => q.docId),
      ['vitamin', 'plate'],
    );
    for (const q of queries) {
      const doc = docs.find((d) => d.id === q.docId)!;
      assert.ok(normalised(doc.text).includes(q.text), `${source}: '${q.text}' is not a span of ${doc.id}`);
      const length = wordsOf(q.text).length;
      assert.ok(length >= 4 && length <= 16, `${source}: ${length} words`);
      if (source === 'sentences') {
        // Each sentence here is under 16 words, so the query is one of them, from its first word to its last (no full stop).
        const sentences = doc.text.split(/(?<=\.)\s+/).map((sentence) => sentence.replace(/\.$/, ''));
        assert.ok(sentences.includes(q.text), `'${q.text}' is not a whole sentence of ${doc.id}`);
      }
    }
  }
});

test('span queries: the same seed gives the same queries in any document order; the first draw of train sft --pseudo', () => {
  const forward = spanQueries(docs, 'words', 3);
  const backward = spanQueries([...docs].reverse(), 'words', 3);
  assert.deepEqual(forward, [...backward].reverse());
  // The same sampler as SFT's pseudo-queries: its first word-run draw of each document.
  for (const q of forward)
    assert.equal(
      q.text,
      sampleSpans(
        docs.find((d) => d.id === q.docId)!,
        { perDoc: 20, seed: 3, sentenceProbability: 0 },
      )[0],
    );
  // Another seed draws other spans (for at least one of the two documents).
  assert.notDeepEqual(
    spanQueries(docs, 'words', 4).map((q) => q.text),
    forward.map((q) => q.text),
  );
});
