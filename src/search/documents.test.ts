import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDocids } from '../docids/build.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { TINY_CORPUS } from '../cli/testdata/tiny-model.js';
import { docidText, DocumentStore, guessLanguage } from './documents.js';

const XQUAD = ['en', 'es', 'de', 'el', 'ru', 'tr', 'ar', 'vi', 'th', 'zh', 'hi', 'ro'];

test('guessLanguage: the script, or a letter only one language uses, among the model languages; plain Latin is undecided', () => {
  const cases: [string, string | undefined][] = [
    ['Wann wurde die Universität gegründet?', 'de'],
    ['¿Cuándo se fundó la universidad?', 'es'],
    ['Πότε ιδρύθηκε το πανεπιστήμιο;', 'el'],
    ['Когда был основан университет?', 'ru'],
    ['Üniversite ne zaman kuruldu? Şehir', 'tr'],
    ['متى تأسست الجامعة؟', 'ar'],
    ['Trường đại học được thành lập khi nào?', 'vi'],
    ['มหาวิทยาลัยก่อตั้งขึ้นเมื่อใด', 'th'],
    ['大学是什么时候成立的？', 'zh'],
    ['विश्वविद्यालय की स्थापना कब हुई थी?', 'hi'],
    ['Când a fost fondată universitatea? Țara', 'ro'],
    ['When was the university founded?', undefined],
  ];
  for (const [text, lang] of cases) assert.equal(guessLanguage(text, XQUAD), lang, text);
  // Only the model's languages count: Cyrillic says nothing to an English–German model.
  assert.equal(guessLanguage('Когда был основан университет?', ['en', 'de']), undefined);
});

test('docidText: PQ codes joined by dashes, atomic ids with #, title docids as words', async () => {
  const tokenizer = SubwordTokenizer.train(
    TINY_CORPUS.map((d) => `${d.title} ${d.text}`),
    { vocabSize: 300 },
  );
  const common = { textVocabSize: tokenizer.subwordVocabSize, eosId: tokenizer.eosId, seed: 0 };
  const atomic = await buildDocids(TINY_CORPUS, { ...common, scheme: 'atomic' });
  assert.equal(docidText(atomic, tokenizer, atomic.sequenceOf('d3')!), '#2');
  const pq = await buildDocids(TINY_CORPUS, { ...common, scheme: 'pq', pq: { k: 2, m: 2 } });
  const codes = Array.from(pq.sequenceOf('d1')!.subarray(0, 2), (token, j) => token - common.textVocabSize - j * 2);
  assert.match(docidText(pq, tokenizer, pq.sequenceOf('d1')!), new RegExp(`^${codes.join('-')}(-~\\d+)?$`));
  const title = await buildDocids(TINY_CORPUS, { ...common, scheme: 'title', encode: (text: string) => tokenizer.encode(text) });
  assert.equal(docidText(title, tokenizer, title.sequenceOf('d2')!).toLowerCase(), 'desert plants');
});

test('DocumentStore: documents by docid key; pooled translations give the one in the asked language, else English', () => {
  const store = new DocumentStore(
    [
      { id: 'p1-en', title: 'T', text: 'English text', lang: 'en', relevanceId: 'p1' },
      { id: 'p1-de', title: 'T', text: 'Deutscher Text', lang: 'de', relevanceId: 'p1' },
      { id: 'p2-de', title: 'U', text: 'Nur Deutsch', lang: 'de', relevanceId: 'p2' },
    ],
    (doc) => doc.relevanceId ?? doc.id,
  );
  assert.equal(store.size, 2);
  assert.equal(store.get('p1', 'de')?.text, 'Deutscher Text');
  assert.equal(store.get('p1', 'zh')?.text, 'English text');
  assert.equal(store.get('p2')?.text, 'Nur Deutsch');
  assert.equal(store.get('p1')?.versions.length, 2);
  assert.equal(store.get('p3'), undefined);
});
