import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubwordTokenizer, trainTokenizer } from './tokenizer.js';
import { UserError } from '../../util/errors.js';

const BASE = 3 + 256;
// From train.test.ts: a=259 b=260 ▁=261 c=262 ab=263 ▁ab=264; merges (a,b), (▁,ab).
const tiny = (): SubwordTokenizer => trainTokenizer(['ab ab ab abc'], { vocabSize: 400, reservedDocidTokens: 3 });
const A = BASE;
const B = BASE + 1;
const SPACE = BASE + 2;
const C = BASE + 3;
const SPACE_AB = BASE + 5;

test('ids and sizes of the vocabulary layout', () => {
  const tok = tiny();
  assert.equal(tok.subwordVocabSize, BASE + 6);
  assert.equal(tok.vocabSize, BASE + 9);
  assert.deepEqual([tok.padId, tok.eosId, tok.unkId], [0, 1, 2]);
  assert.equal(tok.docidTokenId(0), BASE + 6);
  assert.equal(tok.docidTokenId(2), BASE + 8);
  assert.throws(() => tok.docidTokenId(3), RangeError);
  assert.equal(tok.docidIndex(BASE + 7), 1);
  assert.equal(tok.docidIndex(SPACE_AB), -1);
  assert.equal(tok.tokenToId('<docid_1>'), BASE + 7);
  assert.equal(tok.idToToken(SPACE_AB), '\u2581ab');
});

test('encode: merges, byte fallback, NFKC, spaces and added tokens', () => {
  const tok = tiny();
  // ▁abc → ▁ab + c; ▁ab → ▁ab.
  assert.deepEqual([...tok.encode('abc ab')], [SPACE_AB, C, SPACE_AB]);
  assert.deepEqual([...tok.encode('abc ab', { addEos: true })], [SPACE_AB, C, SPACE_AB, 1]);
  // d is not in the alphabet: byte 0x64.
  assert.deepEqual([...tok.encode('abd')], [SPACE_AB, 3 + 0x64]);
  // NFKC turns fullwidth ａｂ into ab.
  assert.deepEqual([...tok.encode('ａｂ')], [SPACE_AB]);
  // Two spaces: the second is a word "▁" of its own; a leading space is not doubled.
  assert.deepEqual([...tok.encode('ab  ab')], [SPACE_AB, SPACE, SPACE_AB]);
  assert.deepEqual([...tok.encode(' ab')], [SPACE_AB]);
  // Added tokens are matched in the raw text; the text after one gets its own ▁.
  assert.deepEqual([...tok.encode('ab<docid_2>ab</s>')], [SPACE_AB, BASE + 8, SPACE_AB, 1]);
  assert.deepEqual([...tok.encode('')], []);
  assert.deepEqual([...tok.encode('b')], [SPACE, B]);
  assert.deepEqual([...tok.encode('a')], [SPACE, A]);
});

test('decode inverts encode and reads byte tokens as UTF-8', () => {
  const tok = tiny();
  assert.equal(tok.decode([SPACE_AB, C, SPACE_AB]), 'abc ab');
  for (const text of ['abd', 'ab  ab', 'ok: 中文 😀 ﬁ', 'x\ny\tz ', 'ab<docid_2>']) {
    assert.equal(tok.decode(tok.encode(text)), text.normalize('NFKC'));
  }
  // A leading space is dropped, as in SentencePiece/HF Metaspace.
  assert.equal(tok.decode(tok.encode(' ab')), 'ab');
  assert.equal(tok.decode([SPACE_AB, 1, 0, tok.docidTokenId(1)]), 'ab</s><pad><docid_1>');
  assert.equal(tok.decode([SPACE_AB, 1, 0, tok.docidTokenId(1)], { skipSpecialTokens: true }), 'ab');
  // A cut UTF-8 sequence decodes to U+FFFD; unknown ids to <unk>.
  assert.equal(tok.decode([3 + 0xe4, 3 + 0xb8]), '\uFFFD');
  assert.equal(tok.decode([99999]), '<unk>');
});

test('encodeBatch pads with <pad>, appends </s>, and truncates keeping </s> last', () => {
  const tok = tiny();
  const batch = tok.encodeBatch(['ab', 'abc ab', 'ab ab ab ab ab'], { maxLength: 4 });
  assert.equal(batch.batchSize, 3);
  assert.equal(batch.seqLength, 4);
  assert.deepEqual([...batch.lengths], [2, 4, 4]);
  assert.equal(batch.truncated, 1);
  assert.deepEqual([...batch.ids], [SPACE_AB, 1, 0, 0, SPACE_AB, C, SPACE_AB, 1, SPACE_AB, SPACE_AB, SPACE_AB, 1]);
  assert.deepEqual([...batch.attentionMask], [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);

  const short = tok.encodeBatch(['ab', 'abc'], { maxLength: 10, addEos: false });
  assert.equal(short.seqLength, 2);
  assert.deepEqual([...short.ids], [SPACE_AB, 0, SPACE_AB, C]);
  const fixed = tok.encodeBatch(['ab'], { maxLength: 3, padding: 'max' });
  assert.deepEqual([...fixed.ids], [SPACE_AB, 1, 0]);
  assert.throws(() => tok.encodeBatch(['ab'], { maxLength: 0 }), RangeError);
});

test('save writes tokenizer.json atomically and fromFile reads the same tokenizer back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-tok-'));
  try {
    const tok = trainTokenizer(['the cat sat on the mat', 'นักวิทยาศาสตร์ ได้ค้นพบ', '北京是中国的首都。'], {
      vocabSize: 300,
      reservedDocidTokens: 5,
    });
    const path = join(dir, 'tokenizer.json');
    tok.save(path);
    assert.deepEqual(readdirSync(dir), ['tokenizer.json']);
    const loaded = SubwordTokenizer.fromFile(path);
    assert.equal(loaded.toJson(), readFileSync(path, 'utf8'));
    assert.equal(loaded.vocabSize, tok.vocabSize);
    assert.equal(loaded.docidCount, 5);
    for (const text of ['the mat sat', 'ได้ค้นพบ 北京 <docid_4>']) assert.deepEqual(loaded.encode(text), tok.encode(text));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a malformed or foreign tokenizer.json is a UserError naming the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genir-tok-'));
  try {
    const good = JSON.parse(tiny().toJson()) as Record<string, unknown> & { model: Record<string, unknown> };
    const cases: Array<[string, string, RegExp]> = [
      ['broken.json', '{"model": ', /broken\.json: not valid JSON/],
      ['wordpiece.json', JSON.stringify({ ...good, model: { ...good.model, type: 'WordPiece' } }), /wordpiece\.json: model\.type/],
      ['bytelevel.json', JSON.stringify({ ...good, pre_tokenizer: { type: 'ByteLevel' } }), /bytelevel\.json: pre_tokenizer/],
      ['nfc.json', JSON.stringify({ ...good, normalizer: { type: 'NFC' } }), /nfc\.json: normalizer/],
      ['merge.json', JSON.stringify({ ...good, model: { ...good.model, merges: [['a', 'zz']] } }), /merge\.json: model\.merges\[0\]/],
      ['ids.json', JSON.stringify({ ...good, model: { ...good.model, vocab: { '<pad>': 0, '</s>': 5 } } }), /ids\.json: model\.vocab/],
      ['added.json', JSON.stringify({ ...good, added_tokens: [] }), /added\.json: added_tokens/],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      assert.throws(
        () => SubwordTokenizer.fromFile(path),
        (err: unknown) => err instanceof UserError && pattern.test(err.message),
        name,
      );
    }
    assert.throws(() => SubwordTokenizer.fromFile(join(dir, 'missing.json')), /missing\.json: cannot read tokenizer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
