/**
 * The Unigram tokenizer against SentencePiece itself (ids that `spm.encode` gave for the
 * committed models, see scripts/fixtures/make_import_fixtures.py) and against
 * @huggingface/tokenizers for the tokenizer.json form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { UserError } from '../../util/errors.js';
import { SubwordTokenizer } from './tokenizer.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const testdata = join(here, 'testdata');
const DATA_DIR = process.env.GENIR_DATA_DIR;

interface ExpectedModel {
  file: string;
  sha256: Record<string, string>;
  samples: Record<string, [number, number[]][]>;
  awkward: number[][];
}
const expected = JSON.parse(readFileSync(join(testdata, 'xquad-unigram.expected.json'), 'utf8')) as {
  languages: string[];
  awkward: string[];
  models: Record<'nmt' | 'bytes', ExpectedModel>;
};

function load(name: 'nmt' | 'bytes'): SubwordTokenizer {
  const file = join(testdata, expected.models[name].file);
  return SubwordTokenizer.fromSentencePiece(readFileSync(file), file);
}

function xquadTexts(lang: string): string[] {
  const json = JSON.parse(readFileSync(join(DATA_DIR!, 'xquad', `xquad.${lang}.json`), 'utf8')) as {
    data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
  };
  return json.data.flatMap((article) => article.paragraphs.flatMap((p) => [p.context, ...p.qas.map((qa) => qa.question)]));
}

function idsDigest(rows: readonly ArrayLike<number>[]): string {
  return createHash('sha256')
    .update(rows.map((ids) => `${Array.from(ids).join(' ')}\n`).join(''))
    .digest('hex');
}

for (const name of ['nmt', 'bytes'] as const) {
  const label = name === 'nmt' ? 'nmt_nfkc normalizer, no byte fallback' : 'identity normalizer, byte fallback';
  test(`SentencePiece model (${label}): awkward strings give spm.encode's ids`, () => {
    const tokenizer = load(name);
    expected.awkward.forEach((text, i) =>
      assert.deepEqual(Array.from(tokenizer.encode(text)), expected.models[name].awkward[i], JSON.stringify(text)),
    );
    // The form genir writes (tokenizer.json with the SentencePiece pipeline recorded) encodes the same.
    const reloaded = SubwordTokenizer.fromJson(tokenizer.toJson(), 'written');
    expected.awkward.forEach((text, i) =>
      assert.deepEqual(Array.from(reloaded.encode(text)), expected.models[name].awkward[i], JSON.stringify(text)),
    );
    assert.deepEqual(Array.from(tokenizer.encode('Hello world', { addEos: true })).at(-1), 1);
  });

  test(
    `SentencePiece model (${label}): every XQuAD text of all 12 languages gives spm.encode's ids`,
    { skip: DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
    () => {
      const tokenizer = load(name);
      const model = expected.models[name];
      for (const lang of expected.languages) {
        const texts = xquadTexts(lang);
        for (const [index, ids] of model.samples[lang])
          assert.deepEqual(Array.from(tokenizer.encode(texts[index])), ids, `${lang} text ${index}`);
        assert.equal(idsDigest(texts.map((text) => tokenizer.encode(text))), model.sha256[lang], `${lang}: ${texts.length} texts`);
      }
    },
  );
}

/** The tokenizer.json a converter would write (HF pipeline, without genir's SentencePiece record). */
function hfFormJson(tokenizer: SubwordTokenizer): string {
  const json = JSON.parse(tokenizer.toJson()) as { model: Record<string, unknown> };
  delete json.model.genir;
  return JSON.stringify(json);
}

test('tokenizer.json form (Unigram, Precompiled + Strip + Replace + Metaspace): same ids as @huggingface/tokenizers', () => {
  const json = hfFormJson(load('nmt'));
  const ours = SubwordTokenizer.fromJson(json, 'nmt tokenizer.json');
  const hf = new HfTokenizer(JSON.parse(json) as object, { clean_up_tokenization_spaces: false });
  const texts = [
    ...expected.awkward.filter(
      (text) => text.normalize('NFKC') === text && ![...text].some((c) => c.codePointAt(0)! < 0x20 || (c >= '\u200b' && c <= '\u200f')),
    ),
    'The quick brown fox.',
    'Die Bundesrepublik Deutschland ist ein Bundesstaat.',
    'Москва — столица России.',
    '北京是中华人民共和国的首都。',
    'नमस्ते दुनिया',
    'นักวิทยาศาสตร์',
    'a </s> b <pad>',
    '  spaced   out  ',
  ];
  for (const text of texts) {
    assert.deepEqual(Array.from(ours.encode(text)), hf.encode(text, { add_special_tokens: false }).ids, JSON.stringify(text));
    assert.deepEqual(Array.from(ours.encode(text, { addEos: true })), hf.encode(text).ids, JSON.stringify(text));
  }
});

test(
  'tokenizer.json form: all 12 XQuAD languages give the ids of @huggingface/tokenizers',
  { skip: DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
  () => {
    const json = hfFormJson(load('nmt'));
    const ours = SubwordTokenizer.fromJson(json, 'nmt tokenizer.json');
    const hf = new HfTokenizer(JSON.parse(json) as object, { clean_up_tokenization_spaces: false });
    for (const lang of expected.languages) {
      // @huggingface/tokenizers approximates the Precompiled charsmap by NFKC; texts that NFKC changes are left out.
      const texts = xquadTexts(lang).filter((text, i) => i % 7 === 0 && text.normalize('NFKC') === text);
      assert.ok(texts.length > 20, `${lang}: ${texts.length} texts`);
      for (const text of texts)
        assert.deepEqual(
          Array.from(ours.encode(text)),
          hf.encode(text, { add_special_tokens: false }).ids,
          `${lang}: ${text.slice(0, 60)}`,
        );
    }
  },
);

test('sentinels and embedding rows past the tokenizer get ids after the pieces; docid tokens follow them', () => {
  const file = join(testdata, expected.models.nmt.file);
  const tokenizer = SubwordTokenizer.fromSentencePiece(readFileSync(file), file, { sentinels: 100, textVocabSize: 1728 }).withDocidTokens(
    3,
  );
  assert.equal(tokenizer.kind, 'unigram');
  assert.equal(tokenizer.subwordVocabSize, 1728);
  assert.equal(tokenizer.tokenToId('<extra_id_99>'), 1600);
  assert.equal(tokenizer.tokenToId('<extra_id_0>'), 1699);
  assert.equal(tokenizer.idToToken(1727), '<genir_row_1727>');
  assert.equal(tokenizer.docidTokenId(2), 1730);
  assert.deepEqual(
    Array.from(tokenizer.encode('<extra_id_0> x<docid_1>')).filter((id) => id >= 1600),
    [1699, 1729],
  );
  const reloaded = SubwordTokenizer.fromJson(tokenizer.toJson());
  assert.equal(reloaded.vocabSize, 1731);
  assert.equal(reloaded.docidCount, 3);
  assert.equal(
    reloaded.decode(tokenizer.encode('Hello world <extra_id_3>'), { skipSpecialTokens: true }),
    tokenizer.decode(tokenizer.encode('Hello world'), { skipSpecialTokens: true }),
  );
  assert.equal(load('bytes').decode(load('bytes').encode('😀 ok')), '😀 ok');
});

test('a corrupt or unsupported SentencePiece model, or an unknown tokenizer.json step, is a UserError naming it', () => {
  const bytes = readFileSync(join(testdata, expected.models.bytes.file));
  assert.throws(
    () => SubwordTokenizer.fromSentencePiece(bytes.subarray(0, 1000), 'cut.model'),
    (err: unknown) => err instanceof UserError && /^cut\.model: not a SentencePiece model/.test(err.message),
  );
  // trainer_spec (field 2) with model_type (field 3) = 2 (BPE) appended: the last value read wins.
  const bpe = Buffer.concat([bytes, Buffer.from([0x12, 0x02, 0x18, 0x02])]);
  assert.throws(() => SubwordTokenizer.fromSentencePiece(bpe, 'bpe.model'), /bpe\.model: trainer_spec\.model_type is 2/);
  const json = JSON.parse(hfFormJson(load('nmt'))) as Record<string, unknown>;
  json.pre_tokenizer = { type: 'ByteLevel' };
  assert.throws(
    () => SubwordTokenizer.fromJson(JSON.stringify(json), 'tok.json'),
    (err: unknown) =>
      err instanceof UserError && /tok\.json: pre_tokenizer: pre-tokenizer type "ByteLevel" is not supported/.test(err.message),
  );
});
