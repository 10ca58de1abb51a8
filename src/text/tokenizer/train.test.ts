import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainBpe } from './train.js';
import { Rng } from '../../util/random.js';
import { UserError } from '../../util/errors.js';

const BASE = 3 + 256;

test('trains the hand-computed merges of a tiny corpus', () => {
  // Words: ▁ab ×3, ▁abc ×1. Alphabet by count then code point: a b ▁ (4 each), c (1).
  // Pairs: (▁,a)=4, (a,b)=4, (b,c)=1; the tie goes to the smaller left id: (a,b) → ab.
  // Then (▁,ab)=4 → ▁ab. Then (▁ab,c)=1 is below minFrequency 2: training stops early.
  const spec = trainBpe(['ab ab ab abc'], { vocabSize: 400 });
  assert.deepEqual(spec.vocab.slice(BASE), ['a', 'b', '\u2581', 'c', 'ab', '\u2581ab']);
  assert.deepEqual(spec.merges, [
    [BASE, BASE + 1],
    [BASE + 2, BASE + 4],
  ]);
  assert.equal(spec.docidCount, 0);
  const withSingletons = trainBpe(['ab ab ab abc'], { vocabSize: 400, minFrequency: 1 });
  assert.deepEqual(withSingletons.vocab.slice(BASE + 6), ['\u2581abc']);
  // vocabSize stops training exactly at the requested size.
  assert.equal(trainBpe(['ab ab ab abc'], { vocabSize: BASE + 5 }).vocab.length, BASE + 5);
});

test('the special, byte and docid layout is fixed; docid tokens in training text are not learned', () => {
  const spec = trainBpe(['<docid_1> x </s>'], { vocabSize: 300, reservedDocidTokens: 2 });
  assert.deepEqual(spec.vocab.slice(0, 5), ['<pad>', '</s>', '<unk>', '<0x00>', '<0x01>']);
  assert.equal(spec.vocab[BASE - 1], '<0xFF>');
  assert.equal(spec.docidCount, 2);
  // Only the characters of "x" and the spaces around the added tokens remain.
  assert.deepEqual(spec.vocab.slice(BASE).sort(), ['x', '\u2581'].sort());
});

test('characterCoverage leaves rare characters to byte fallback', () => {
  const text = 'aaaa bbbb ' + 'z';
  const full = trainBpe([text], { vocabSize: 300, characterCoverage: 1 });
  assert.ok(full.vocab.includes('z'));
  // z is 1 of 11 characters: coverage 0.9 drops it.
  const partial = trainBpe([text], { vocabSize: 300, characterCoverage: 0.9 });
  assert.ok(!partial.vocab.includes('z'));
  assert.ok(partial.vocab.includes('a') && partial.vocab.includes('\u2581'));
});

test('maxPieceLength and character classes bound the merged tokens', () => {
  const texts = Array.from({ length: 5 }, () => 'abcdefgh, 1999th');
  const spec = trainBpe(texts, { vocabSize: 400, maxPieceLength: 4 });
  const learned = spec.vocab.slice(BASE);
  assert.ok(
    learned.every((t) => [...t].length <= 4),
    learned.join(' '),
  );
  // Never letters with digits or punctuation.
  assert.ok(!learned.some((t) => /\p{L}/u.test(t) && /[\p{N}\p{P}]/u.test(t)), learned.join(' '));
  // Digits merge with digits (999), letters with letters (defg); ▁1 + 999 would be 5 long.
  assert.ok(learned.includes('999') && learned.includes('defg') && !learned.includes('\u25811999'), learned.join(' '));
  const mixed = trainBpe(texts, { vocabSize: 400, maxPieceLength: 4, mergeAcrossCharClasses: true });
  assert.ok(mixed.vocab.some((t) => /\p{L}/u.test(t) && /\p{P}/u.test(t)));
});

test('rejects bad options with a UserError', () => {
  assert.throws(() => trainBpe(['a'], { vocabSize: 100 }), UserError);
  assert.throws(() => trainBpe(['a'], { vocabSize: 1000, reservedDocidTokens: -1 }), UserError);
  assert.throws(() => trainBpe(['a'], { vocabSize: 1000, characterCoverage: 0 }), UserError);
  assert.throws(() => trainBpe(['a'], { vocabSize: 1000, maxPieceLength: 1 }), UserError);
});

/**
 * Reference trainer that recounts every pair after every merge: the incremental
 * trainer must learn exactly the same merges (same tie-breaks, overlaps merged left to right).
 */
function referenceMerges(words: Map<string, number>, alphabet: string[], vocabSize: number, maxPiece: number): string[] {
  const vocab = [...alphabet];
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const seqs = [...words].map(([w, c]) => ({ ids: [...w].map((ch) => idOf.get(ch)!), count: c }));
  const merges: string[] = [];
  while (vocab.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { ids, count } of seqs) {
      for (let i = 0; i + 1 < ids.length; i++) {
        if ([...vocab[ids[i]]].length + [...vocab[ids[i + 1]]].length > maxPiece) continue;
        const key = `${ids[i]},${ids[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + count);
      }
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      const [l, r] = key.split(',').map(Number);
      if (count > bestCount || (count === bestCount && best && (l < best[0] || (l === best[0] && r < best[1])))) {
        best = [l, r];
        bestCount = count;
      }
    }
    if (!best || bestCount < 2) break;
    const [l, r] = best;
    const text = vocab[l] + vocab[r];
    let merged = idOf.get(text);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(text);
      idOf.set(text, merged);
    }
    merges.push(`${vocab[l]} ${vocab[r]}`);
    for (const seq of seqs) {
      const out: number[] = [];
      for (let i = 0; i < seq.ids.length; i++) {
        if (i + 1 < seq.ids.length && seq.ids[i] === l && seq.ids[i + 1] === r) {
          out.push(merged);
          i++;
        } else out.push(seq.ids[i]);
      }
      seq.ids = out;
    }
  }
  return merges;
}

test('incremental pair counting learns the same merges as recounting from scratch', () => {
  const rng = new Rng(99);
  for (let trial = 0; trial < 4; trial++) {
    // Few letters and long repeats: overlapping pairs (aaaa) and one string made by two merges (ab+c, a+bc).
    const texts = Array.from({ length: 60 }, () =>
      Array.from({ length: 1 + rng.int(6) }, () => Array.from({ length: 1 + rng.int(7) }, () => 'abc'[rng.int(3)]).join('')).join(' '),
    );
    const spec = trainBpe(texts, { vocabSize: BASE + 80, characterCoverage: 1, maxPieceLength: 6 });
    const words = new Map<string, number>();
    for (const text of texts) for (const w of text.split(' ')) words.set(`\u2581${w}`, (words.get(`\u2581${w}`) ?? 0) + 1);
    const alphabet = spec.vocab.slice(BASE, BASE + 4);
    const expected = referenceMerges(words, alphabet, 80, 6);
    const actual = spec.merges.map(([l, r]) => `${spec.vocab[l]} ${spec.vocab[r]}`);
    assert.deepEqual(actual, expected, `trial ${trial}`);
    assert.ok(actual.length > 20);
  }
});

test('training is deterministic', () => {
  const texts = ['the cat sat on the mat', 'the dog sat on the log', 'นักวิทยาศาสตร์ ได้ค้นพบ', '北京是中国的首都。'];
  assert.deepEqual(trainBpe(texts, { vocabSize: 320 }), trainBpe(texts, { vocabSize: 320 }));
});
