import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdBuffer, MergeTable, utf8Bytes, WordEncoder } from './bpe.js';
import { Rng } from '../../util/random.js';

/** Independent reference: merge the lowest-rank adjacent pair, leftmost first, until none. */
function referenceBpe(symbols: number[], merges: Array<[number, number]>, results: number[]): number[] {
  const word = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = merges.findIndex(([l, r]) => l === word[i] && r === word[i + 1]);
      if (rank >= 0 && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return word;
    word.splice(best, 2, results[bestRank]);
  }
}

function encodeWord(encoder: WordEncoder, word: string): number[] {
  const out = new IdBuffer(4);
  encoder.encode(word, out);
  return Array.from(out.toArray());
}

test('MergeTable finds ranks, keeps the first of duplicate pairs, and rejects unknown and negative ids', () => {
  const table = new MergeTable([
    [5, 6],
    [6, 5],
    [5, 6],
    [100000, 7],
  ]);
  assert.equal(table.rank(5, 6), 0);
  assert.equal(table.rank(6, 5), 1);
  assert.equal(table.rank(100000, 7), 3);
  assert.equal(table.rank(7, 100000), -1);
  assert.equal(table.rank(-1, 6), -1);
  assert.equal(table.rank(5, -1), -1);
});

test('utf8Bytes matches TextEncoder, including astral characters and lone surrogates', () => {
  for (const text of ['A', 'é', '中', 'ส', '😀', '\uD800', '\uDFFF']) {
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      utf8Bytes(cp, bytes);
      if (cp > 0xffff) i++;
    }
    assert.deepEqual(bytes, Array.from(new TextEncoder().encode(text)), text);
  }
});

test('WordEncoder applies merges by rank, leftmost first, with byte fallback for unknown characters', () => {
  // ids: a=10 b=11 c=12; merges: 0 (a,b)→20, 1 (b,c)→21, 2 (20,c)→22, 3 (a,a)→23
  const chars = new Map([
    ['a'.codePointAt(0)!, 10],
    ['b'.codePointAt(0)!, 11],
    ['c'.codePointAt(0)!, 12],
  ]);
  const merges: Array<[number, number]> = [
    [10, 11],
    [11, 12],
    [20, 12],
    [10, 10],
  ];
  const encoder = new WordEncoder(chars, new MergeTable(merges), Int32Array.from([20, 21, 22, 23]), 3);
  // "abc": (a,b) has rank 0 < (b,c) rank 1, so ab+c, then (ab,c) → abc.
  assert.deepEqual(encodeWord(encoder, 'abc'), [22]);
  // "bc" alone: rank 1.
  assert.deepEqual(encodeWord(encoder, 'bc'), [21]);
  // "aaa": leftmost (a,a) first → aa + a.
  assert.deepEqual(encodeWord(encoder, 'aaa'), [23, 10]);
  // "adb": d is unknown → byte 0x64 → id 3 + 100; it blocks merges across it.
  assert.deepEqual(encodeWord(encoder, 'adb'), [10, 103, 11]);
  // "a😀": four UTF-8 bytes F0 9F 98 80.
  assert.deepEqual(encodeWord(encoder, 'a😀'), [10, 3 + 0xf0, 3 + 0x9f, 3 + 0x98, 3 + 0x80]);
});

test('WordEncoder agrees with the reference on random words, short (scan) and long (heap)', () => {
  const rng = new Rng(1234);
  for (let trial = 0; trial < 30; trial++) {
    const alphabetSize = 2 + rng.int(4);
    const chars = new Map<number, number>();
    for (let c = 0; c < alphabetSize; c++) chars.set(97 + c, c);
    const tokens: number[] = Array.from({ length: alphabetSize }, (_, i) => i);
    const merges: Array<[number, number]> = [];
    const results: number[] = [];
    for (let m = 0; m < 25; m++) {
      const left = tokens[rng.int(tokens.length)];
      const right = tokens[rng.int(tokens.length)];
      if (merges.some(([l, r]) => l === left && r === right)) continue;
      merges.push([left, right]);
      results.push(tokens.length);
      tokens.push(tokens.length);
    }
    const encoder = new WordEncoder(chars, new MergeTable(merges), Int32Array.from(results), 1000);
    for (let w = 0; w < 40; w++) {
      const length = 1 + rng.int(w % 2 === 0 ? 20 : 200);
      const symbols = Array.from({ length }, () => rng.int(alphabetSize));
      const word = String.fromCharCode(...symbols.map((s) => 97 + s));
      assert.deepEqual(encodeWord(encoder, word), referenceBpe(symbols, merges, results), `trial ${trial} word ${word}`);
    }
  }
});
