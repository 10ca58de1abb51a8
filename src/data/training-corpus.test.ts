import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import { loadDevQueries } from '../train/loop/dev-eval.js';
import { datasetLanguages, languageViews, loadSftCorpus } from './training-corpus.js';

const dataDir = process.env.GENIR_DATA_DIR;
const skip = dataDir === undefined ? 'GENIR_DATA_DIR is not set (the shared datasets)' : false;

test('datasetLanguages: a multilingual registered dataset (its descriptor lists languages) takes --lang; any other refuses it', () => {
  assert.equal(datasetLanguages('xquad', undefined)?.length, 12);
  assert.deepEqual(datasetLanguages('xquad', 'de, en,de'), ['de', 'en']);
  assert.equal(datasetLanguages('squad-dev', undefined), null);
  assert.equal(datasetLanguages('./my-beir-folder', undefined), null);
  assert.throws(
    () => datasetLanguages('xquad', 'xx'),
    (err: unknown) => err instanceof UserError && /--lang xx: unknown XQuAD language 'xx'/.test(err.message),
  );
  assert.throws(
    () => datasetLanguages('scifact', 'en'),
    (err: unknown) =>
      err instanceof UserError && /--lang applies to multilingual datasets only \(xquad\), not to 'scifact'/.test(err.message),
  );
});

test('languageViews: one id path per language, queries against their own or a given corpus language', () => {
  assert.deepEqual(languageViews('xquad', ['de', 'en']), [
    { id: 'xquad/de/de', lang: 'de' },
    { id: 'xquad/en/en', lang: 'en' },
  ]);
  assert.deepEqual(languageViews('xquad', ['de'], 'en'), [{ id: 'xquad/de/en', lang: 'de' }]);
  assert.deepEqual(languageViews('squad-dev', null, 'en'), [{ id: 'squad-dev', lang: null }]);
});

test(
  'XQuAD in two languages: the training corpus pools both, training and dev queries are per language with lang/ ids',
  { skip },
  async () => {
    const corpus = await loadSftCorpus({ dataset: 'xquad', lang: 'en,de', dataDir });
    assert.equal(corpus.datasetId, 'xquad');
    assert.deepEqual(corpus.languages, ['en', 'de']);
    assert.equal(corpus.docs.length, 480, '240 paragraphs in each language');
    assert.equal(corpus.grouped, true);
    assert.equal(new Set(corpus.docs.map((d) => corpus.keyOf(d))).size, 240, 'translations share a key');
    const perLanguage = corpus.trainQueries.length / 2;
    assert.ok(Number.isInteger(perLanguage) && perLanguage > 0);
    assert.ok(corpus.trainQueries.every((q) => q.id.startsWith(`${q.lang}/`)));
    const dev = await loadDevQueries('xquad', ['en', 'de'], dataDir, 'dev');
    const english = await loadDevQueries('xquad', ['en'], dataDir, 'dev');
    assert.equal(dev.queries.length, 2 * english.queries.length);
    assert.ok(dev.queries.every((q) => q.id === `${q.lang}/${q.id.slice(3)}` && dev.qrels.has(q.id)));
    assert.ok(
      english.queries.every((q) => !q.id.includes('/') && q.lang === 'en'),
      'one language: ids as the dataset has them',
    );
    await assert.rejects(
      loadDevQueries('xquad', ['en'], dataDir, 'nope'),
      (err: unknown) => err instanceof UserError && /has no split 'nope'/.test(err.message),
    );
  },
);
