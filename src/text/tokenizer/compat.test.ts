/**
 * Our tokenizer.json loaded by @huggingface/tokenizers (the pure-JS HF implementation)
 * must give the same ids and the same decoded text as our encoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { SubwordTokenizer, trainTokenizer } from './tokenizer.js';
import { Rng } from '../../util/random.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const XQUAD_LANGS = ['ar', 'de', 'el', 'en', 'es', 'hi', 'ro', 'ru', 'th', 'tr', 'vi', 'zh'];

function hfFor(tok: SubwordTokenizer): HfTokenizer {
  return new HfTokenizer(JSON.parse(tok.toJson()) as object, { clean_up_tokenization_spaces: false });
}

/** Asserts equal ids (with and without </s>) and equal decoding; returns our ids. */
function assertSameAsHf(ours: SubwordTokenizer, hf: HfTokenizer, text: string, label: string): Int32Array {
  const ids = ours.encode(text, { addEos: true });
  assert.deepEqual(Array.from(ids), hf.encode(text).ids, `${label}: ${JSON.stringify(text.slice(0, 80))}`);
  const plain = Array.from(ours.encode(text));
  assert.deepEqual(plain, hf.encode(text, { add_special_tokens: false }).ids, label);
  if (plain.length > 0) {
    assert.equal(ours.decode(plain), hf.decode(plain, { clean_up_tokenization_spaces: false }), label);
    assert.equal(
      ours.decode(ids, { skipSpecialTokens: true }),
      hf.decode(Array.from(ids), { clean_up_tokenization_spaces: false, skip_special_tokens: true }),
      label,
    );
  }
  return ids;
}

/** Metaspace drops one leading space; everything else comes back as NFKC(text). */
function expectedRoundTrip(text: string): string {
  const normalized = text.normalize('NFKC');
  return normalized.startsWith(' ') ? normalized.slice(1) : normalized;
}

const SENTENCES = [
  'مرحبا بالعالم، هذه جملة عربية قصيرة.',
  'Die Bundesrepublik Deutschland ist ein Bundesstaat.',
  'Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.',
  'The quick brown fox jumps over the lazy dog.',
  '¿Dónde está la biblioteca? Está cerca.',
  'नमस्ते दुनिया, यह एक हिंदी वाक्य है।',
  'București este capitala României.',
  'Москва — столица России.',
  'นักวิทยาศาสตร์ชาวอังกฤษได้ค้นพบสิ่งใหม่',
  'İstanbul Türkiye’nin en büyük şehridir.',
  'Hà Nội là thủ đô của Việt Nam.',
  '北京是中华人民共和国的首都。',
];

test('matches @huggingface/tokenizers on 12 languages and awkward strings (no data needed)', () => {
  const tok = trainTokenizer([...SENTENCES, ...SENTENCES], { vocabSize: 420, reservedDocidTokens: 10 });
  const hf = hfFor(tok);
  for (const sentence of SENTENCES) {
    const ids = assertSameAsHf(tok, hf, sentence, 'sentence');
    assert.ok(!ids.includes(tok.unkId));
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), expectedRoundTrip(sentence));
  }
  // Characters never seen in training (emoji, astral CJK, Tamil) still need no <unk>.
  const pieces = [
    'a',
    'the',
    ' ',
    '  ',
    '\t',
    '\n',
    '\u2581',
    '<docid_3>',
    '<docid_9>',
    '<docid_10>',
    '</s>',
    '<pad>',
    '<',
    '😀',
    '👍🏽',
    'ｆｕｌｌ',
    '①',
    'é',
    'é',
    'ﬁ',
    '中文',
    'สวัสดี',
    'नमस्ते',
    'مرحبا',
    'Ωμέγα',
    '123',
    ',',
    '\u0301',
    '\u3000',
    '𠀋',
    'தமிழ்',
  ];
  const rng = new Rng(7);
  for (let trial = 0; trial < 1500; trial++) {
    const text = Array.from({ length: rng.int(8) }, () => pieces[rng.int(pieces.length)]).join('');
    const ids = assertSameAsHf(tok, hf, text, 'fuzz');
    assert.ok(!ids.includes(tok.unkId), text);
  }
});

function readXquad(lang: string): { paragraphs: string[]; questions: string[] } {
  const path = join(DATA_DIR!, 'xquad', `xquad.${lang}.json`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    data: Array<{ paragraphs: Array<{ context: string; qas: Array<{ question: string }> }> }>;
  };
  const paragraphs: string[] = [];
  const questions: string[] = [];
  for (const article of json.data) {
    for (const paragraph of article.paragraphs) {
      paragraphs.push(paragraph.context);
      for (const qa of paragraph.qas) questions.push(qa.question);
    }
  }
  return { paragraphs, questions };
}

test(
  'XQuAD, all 12 languages: same ids as @huggingface/tokenizers, no <unk>, exact round trip',
  { skip: DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
  () => {
    const corpus = new Map(XQUAD_LANGS.map((lang) => [lang, readXquad(lang)]));
    const all = [...corpus.values()].flatMap(({ paragraphs, questions }) => [...paragraphs, ...questions]);
    const tok = trainTokenizer(all, { vocabSize: 8000, reservedDocidTokens: 240 });
    assert.equal(tok.subwordVocabSize, 8000);
    assert.equal(tok.vocabSize, 8240);

    // Through the file, as another program would read it.
    const hf = hfFor(SubwordTokenizer.fromJson(tok.toJson()));
    const rng = new Rng(2024);
    for (const [lang, { paragraphs, questions }] of corpus) {
      const sample = [
        ...Array.from({ length: 60 }, () => questions[rng.int(questions.length)]),
        ...Array.from({ length: 12 }, () => paragraphs[rng.int(paragraphs.length)]),
      ];
      for (const text of sample) assertSameAsHf(tok, hf, text, lang);
      let tokens = 0;
      let chars = 0;
      for (const text of [...paragraphs, ...questions]) {
        const ids = tok.encode(text);
        assert.ok(!ids.includes(tok.unkId), `${lang}: <unk> in ${text.slice(0, 60)}`);
        assert.equal(tok.decode(ids), expectedRoundTrip(text), `${lang}: round trip`);
        tokens += ids.length;
        chars += text.length;
      }
      // A trained vocabulary compresses every language (Chinese: about one character per token).
      assert.ok(chars / tokens > (lang === 'zh' ? 1 : 2), `${lang}: ${(chars / tokens).toFixed(2)} chars/token`);
    }
  },
);
