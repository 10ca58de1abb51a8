import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { getAnalyzer } from './index.js';
import { MultilingualAnalyzer, snowballAlgorithmFor } from './multilingual.js';

test('Thai and Chinese are split into words, lowercased, and not stemmed', () => {
  const analyzer = new MultilingualAnalyzer('th');
  // XQuAD-style sentences: "Thai is easy" / "Beijing is the capital of China, founded in 1949".
  assert.deepEqual(analyzer.analyze('ภาษาไทยง่ายนิดเดียว'), ['ภาษา', 'ไทย', 'ง่าย', 'นิด', 'เดียว']);
  assert.deepEqual(analyzer.analyze('北京是中国的首都。NASA 成立于1958年', 'zh'), [
    '北京',
    '是',
    '中国',
    '的',
    '首都',
    'nasa',
    '成立',
    '于',
    '1958',
    '年',
  ]);
  assert.equal(snowballAlgorithmFor('th'), undefined);
  assert.equal(snowballAlgorithmFor('zh-Hans'), undefined);
});

test('Snowball stemming per language', () => {
  const analyzer = new MultilingualAnalyzer('de');
  assert.deepEqual(analyzer.analyze('Die Katzen liefen schnell über die Straßen.'), [
    'die',
    'katz',
    'lief',
    'schnell',
    'uber',
    'die',
    'strass',
  ]);
  assert.deepEqual(analyzer.analyze('Los gatos corrían rápidamente', 'es'), ['los', 'gat', 'corr', 'rapid']);
  assert.deepEqual(analyzer.analyze('Красивые кошки бегали', 'ru'), ['красив', 'кошк', 'бега']);
  // Turkish lowercasing keeps the dotless ı: IRMAK → ırmak.
  assert.deepEqual(analyzer.analyze('İSTANBUL ve IRMAK kitapları', 'tr'), ['istanbul', 've', 'ırmak', 'kitap']);
  // Greek has no Snowball stemmer in snowball-stemmers: lowercased only.
  assert.deepEqual(analyzer.analyze('Οι γάτες έτρεχαν', 'el'), ['οι', 'γάτες', 'έτρεχαν']);
  assert.equal(snowballAlgorithmFor('de-CH'), 'german');
});

test('getAnalyzer picks by name and rejects unknown names', () => {
  assert.deepEqual(getAnalyzer('multilingual', 'de').spec, { name: 'multilingual', lang: 'de' });
  assert.throws(() => getAnalyzer('klingon'), UserError);
});
