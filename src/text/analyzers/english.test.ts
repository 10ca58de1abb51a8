import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnglishAnalyzer, LUCENE_ENGLISH_STOP_WORDS, javaLowerCase, luceneCompatiblePorter, stripPossessive } from './english.js';
import { getAnalyzer } from './index.js';

test("Lucene's English stop set has its 33 words", () => {
  assert.equal(LUCENE_ENGLISH_STOP_WORDS.size, 33);
  for (const word of ['a', 'into', 'no', 'not', 'such', 'their', 'will', 'with']) assert.ok(LUCENE_ENGLISH_STOP_WORDS.has(word), word);
  for (const word of ['he', 'she', 'from', 'has', 'i']) assert.ok(!LUCENE_ENGLISH_STOP_WORDS.has(word), word);
});

test('possessive filter and Java lowercasing', () => {
  assert.equal(stripPossessive("John's"), 'John');
  assert.equal(stripPossessive('JOHN’S'), 'JOHN');
  assert.equal(stripPossessive("boss'"), "boss'");
  assert.equal(stripPossessive("'s"), '');
  assert.equal(javaLowerCase('İSTANBUL'), 'istanbul');
  assert.equal(javaLowerCase('ΟΔΟΣ'), 'οδοσ');
  assert.equal(javaLowerCase('Café'), 'café');
});

test('Porter stems from Porter (1980) and the Lucene variants', () => {
  const cases: Record<string, string> = {
    caresses: 'caress',
    ponies: 'poni',
    ties: 'ti',
    cats: 'cat',
    feed: 'feed',
    agreed: 'agre',
    plastered: 'plaster',
    motoring: 'motor',
    sing: 'sing',
    conflated: 'conflat',
    hopping: 'hop',
    falling: 'fall',
    filing: 'file',
    happy: 'happi',
    relational: 'relat',
    generalizations: 'gener',
    oscillators: 'oscil',
    electricity: 'electr',
    hopeful: 'hope',
    // Porter's reference implementation, and Lucene, change -bli → -ble and -logi → -log.
    possibly: 'possibl',
    archaeology: 'archaeolog',
    // Whole-word suffixes, where the package alone would differ from Lucene.
    eed: 'eed',
    ies: 'i',
    sses: 'ss',
    // Words of one or two letters are not stemmed.
    is: 'is',
    as: 'as',
  };
  for (const [word, stem] of Object.entries(cases)) assert.equal(luceneCompatiblePorter(word), stem, word);
});

test('english analyzer on real sentences', () => {
  const english = new EnglishAnalyzer();
  // SciFact claim 4 and a SQuAD question, tokens checked by hand against Lucene's chain.
  assert.deepEqual(english.analyze('1-1% of colorectal cancer patients are diagnosed with regional or distant metastases.'), [
    '1',
    '1',
    'colorect',
    'cancer',
    'patient',
    'diagnos',
    'region',
    'distant',
    'metastas',
  ]);
  // "50's": an apostrophe joins letters (WB6/7) or digits (WB11/12), not a digit to a letter.
  assert.deepEqual(english.analyze("Which NFL team represented the AFC at Super Bowl 50's kickoff?"), [
    'which',
    'nfl',
    'team',
    'repres',
    'afc',
    'super',
    'bowl',
    '50',
    's',
    'kickoff',
  ]);
  // Porter drops the final s of "u.s" (the letter before it is not an s), as Lucene does.
  assert.deepEqual(english.analyze("The children's U.S. studies weren't conclusive, e.g. in 3.5% of cases."), [
    'children',
    'u.',
    'studi',
    "weren't",
    'conclus',
    'e.g',
    '3.5',
    'case',
  ]);
  assert.deepEqual(getAnalyzer('english').spec, { name: 'english', lang: 'en' });
});
