import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../util/random.js';
import { MAX_TOKEN_LENGTH, segmentWords, standardTokenize } from './standard-tokenizer.js';

test('UAX #29 word rules on ASCII: mid-letter and mid-number punctuation, connectors', () => {
  // Hand-derived from UAX #29 (WB5–WB13b), which Lucene's StandardTokenizer implements.
  assert.deepEqual(standardTokenize("John's U.S.A. trip, e.g. 3.14 or 1,000.50 on 12:30 (a:b) can't foo_bar __ x_ a.1 1;2"), [
    "John's",
    'U.S.A',
    'trip',
    'e.g',
    '3.14',
    'or',
    '1,000.50',
    'on',
    '12',
    '30',
    'a:b',
    "can't",
    'foo_bar',
    'x_',
    'a',
    '1',
    '1;2',
  ]);
  assert.deepEqual(standardTokenize('TNF-alpha/IL-6 ratio was 2.5-fold (p<0.05).'), [
    'TNF',
    'alpha',
    'IL',
    '6',
    'ratio',
    'was',
    '2.5',
    'fold',
    'p',
    '0.05',
  ]);
  assert.deepEqual(standardTokenize('  \t\n'), []);
});

test('non-ASCII text follows Lucene: letters with diacritics join, Han and Hiragana split per character', () => {
  assert.deepEqual(standardTokenize('Naïve café owners in Zürich’s Øresund—β-cells'), [
    'Naïve',
    'café',
    'owners',
    'in',
    'Zürich’s',
    'Øresund',
    'β',
    'cells',
  ]);
  assert.deepEqual(standardTokenize('東京は日本の首都です'), ['東', '京', 'は', '日', '本', 'の', '首', '都', 'で', 'す']);
  assert.deepEqual(standardTokenize('카타카나 カタカナ'), ['카타카나', 'カタカナ']);
});

test('the multilingual mode keeps ICU dictionary words for Thai and Chinese', () => {
  // Thai: "the Thai language is very easy"; Chinese: "Beijing is the capital of China".
  assert.deepEqual(standardTokenize('ภาษาไทยง่ายนิดเดียว', [], { locale: 'th', splitHan: false }), ['ภาษา', 'ไทย', 'ง่าย', 'นิด', 'เดียว']);
  assert.deepEqual(standardTokenize('北京是中国的首都。', [], { locale: 'zh', splitHan: false }), ['北京', '是', '中国', '的', '首都']);
});

test('tokens longer than 255 characters are split as Lucene does', () => {
  const long = 'x'.repeat(MAX_TOKEN_LENGTH * 2 + 10);
  assert.deepEqual(
    standardTokenize(`a ${long} b`).map((t) => t.length),
    [1, 255, 255, 10, 1],
  );
});

test('the ASCII fast path gives exactly the tokens of Intl.Segmenter on random ASCII strings', () => {
  const alphabet = 'aZq09_:.\',;" -()/\n@é';
  const rng = new Rng(11);
  for (let trial = 0; trial < 20_000; trial++) {
    let text = '';
    const length = 1 + rng.int(12);
    for (let i = 0; i < length; i++) text += alphabet[rng.int(alphabet.length)];
    const reference: string[] = [];
    segmentWords(text, reference);
    assert.deepEqual(standardTokenize(text), reference, JSON.stringify(text));
  }
});

const dataDir = process.env.GENIR_DATA_DIR;
test(
  'the fast path equals Intl.Segmenter on real SciFact and Cranfield text',
  { skip: dataDir ? false : 'GENIR_DATA_DIR is not set' },
  () => {
    const texts: string[] = [];
    const lines = readFileSync(join(dataDir ?? '', 'scifact', 'corpus.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 600);
    for (const line of lines) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as { title: string; text: string };
      texts.push(doc.title, doc.text);
    }
    texts.push(readFileSync(join(dataDir ?? '', 'cranfield', 'cran.all.1400'), 'utf8').slice(0, 200_000));
    let nonAscii = 0;
    for (const text of texts) {
      if (/[^\p{ASCII}]/u.test(text)) nonAscii++;
      const reference: string[] = [];
      segmentWords(text, reference);
      assert.deepEqual(standardTokenize(text), reference);
    }
    assert.ok(nonAscii > 50, 'the sample exercises the mixed ASCII / non-ASCII path');
  },
);

test('long text is segmented in pieces cut at certain boundaries, with the same tokens', () => {
  // Intl.Segmenter slows down quadratically on long strings; segmentWords cuts them up.
  const sentence = '北京是中国的首都。';
  const tokens: string[] = [];
  segmentWords(sentence.repeat(3000), tokens, { locale: 'zh', splitHan: false });
  assert.equal(tokens.length, 5 * 3000);
  assert.deepEqual(tokens.slice(0, 10), ['北京', '是', '中国', '的', '首都', '北京', '是', '中国', '的', '首都']);
  const english = 'The U.S. economy grew 3.5% in 2019, e.g. in services. '.repeat(2000);
  const reference: string[] = [];
  segmentWords(english, reference);
  assert.deepEqual(standardTokenize(english), reference);
  assert.equal(reference.length, 10 * 2000);
});
