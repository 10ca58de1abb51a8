import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocidTrie } from './trie.js';

function pack(sequences: number[][]): { offsets: Int32Array; tokens: Int32Array } {
  const offsets = new Int32Array(sequences.length + 1);
  const tokens: number[] = [];
  sequences.forEach((s, i) => {
    tokens.push(...s);
    offsets[i + 1] = tokens.length;
  });
  return { offsets, tokens: Int32Array.from(tokens) };
}

const EOS = 1;
// Three documents share the prefix [7]; two of them share [7, 3].
const sequences = [
  [7, 3, 9, EOS],
  [7, 3, 4, EOS],
  [7, 5, EOS],
  [2, EOS],
];

test('trie children are the sorted next tokens of each prefix', () => {
  const { offsets, tokens } = pack(sequences);
  const trie = DocidTrie.build(offsets, tokens, sequences.length);
  assert.deepEqual([...trie.allowedNext([])], [2, 7]);
  assert.deepEqual([...trie.allowedNext([7])], [3, 5]);
  assert.deepEqual([...trie.allowedNext([7, 3])], [4, 9]);
  assert.deepEqual([...trie.allowedNext([7, 3, 4])], [EOS]);
  assert.deepEqual([...trie.allowedNext([7, 3, 4, EOS])], [], 'a whole docid allows nothing more');
  assert.deepEqual([...trie.allowedNext([8])], [], 'not a docid prefix');
  // root + {2, 7} + {2·EOS, 3, 5} + {4, 9, 5·EOS} + {4·EOS, 9·EOS}
  assert.equal(trie.nodeCount, 11);
});

test('step, docAt and leafCount agree with the sequences', () => {
  const { offsets, tokens } = pack(sequences);
  const trie = DocidTrie.build(offsets, tokens, sequences.length);
  sequences.forEach((sequence, doc) => {
    let node = DocidTrie.ROOT;
    for (const token of sequence) {
      assert.equal(trie.isLeaf(node), false);
      node = trie.step(node, token);
      assert.ok(node > 0);
    }
    assert.equal(trie.docAt(node), doc);
    assert.equal(trie.walk(sequence), node);
  });
  assert.equal(trie.step(DocidTrie.ROOT, 3), -1);
  assert.equal(trie.step(-1, 7), -1);
  assert.equal(trie.leafCount(DocidTrie.ROOT), 4);
  assert.equal(trie.leafCount(trie.walk([7])), 3);
  assert.equal(trie.leafCount(trie.walk([7, 3])), 2);
  assert.equal(trie.docAt(trie.walk([7])), -1);
});

test('a docid that is a prefix of another, or a duplicate, is rejected', () => {
  const prefix = pack([
    [4, 5],
    [4, 5, 6],
  ]);
  assert.throws(() => DocidTrie.build(prefix.offsets, prefix.tokens, 2), /prefix/);
  const duplicate = pack([
    [4, EOS],
    [4, EOS],
  ]);
  assert.throws(() => DocidTrie.build(duplicate.offsets, duplicate.tokens, 2), /prefix of \(or equal to\)/);
});

test('an empty trie allows nothing', () => {
  const trie = DocidTrie.build(new Int32Array(1), new Int32Array(0), 0);
  assert.equal(trie.nodeCount, 1);
  assert.equal(trie.allowedNext([]).length, 0);
  assert.equal(trie.leafCount(DocidTrie.ROOT), 0);
});
