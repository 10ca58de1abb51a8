import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Document } from '../../../data/types.js';
import type { SftCorpus } from '../../../data/training-corpus.js';
import { applyLsaRows, lsaTokenEmbeddings, tokenDocumentTfidf } from './embedding-init.js';
import { lsaDocuments } from './pipeline.js';

/** Cosine of rows a and b of a row-major matrix. */
function cosine(rows: Float32Array, dims: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let t = 0; t < dims; t++) {
    dot += rows[a * dims + t] * rows[b * dims + t];
    na += rows[a * dims + t] ** 2;
    nb += rows[b * dims + t] ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

// Two topics over token ids 3…10: 3 and 4 always occur together (topic A), 7 and 8 together
// (topic B); 5, 6, 9, 10 vary inside their topic. Ids 0–2 (specials) and 11 never occur.
const TOPIC_A = [
  [3, 4, 5],
  [3, 4, 6, 5],
  [4, 3, 6],
  [3, 4, 5, 6, 5],
];
const TOPIC_B = [
  [7, 8, 9],
  [8, 7, 10],
  [7, 8, 9, 10],
  [7, 8, 10, 10],
];
const DOCUMENTS = [...TOPIC_A, ...TOPIC_B];
const VOCAB = 12;

test('LSA token embeddings: tokens that always co-occur start closer than tokens that never do', () => {
  const dims = 4;
  const lsa = lsaTokenEmbeddings(DOCUMENTS, { vocabRows: VOCAB, dims, std: 1, seed: 0 });
  assert.ok(cosine(lsa.rows, dims, 3, 4) > 0.99, `3~4: ${cosine(lsa.rows, dims, 3, 4)}`);
  assert.ok(cosine(lsa.rows, dims, 7, 8) > 0.99, `7~8: ${cosine(lsa.rows, dims, 7, 8)}`);
  for (const [a, b] of [
    [3, 7],
    [4, 8],
    [5, 9],
  ])
    assert.ok(cosine(lsa.rows, dims, a, b) < cosine(lsa.rows, dims, 3, 4) - 0.5, `${a}~${b}: ${cosine(lsa.rows, dims, a, b)}`);
  // Same-topic tokens that do not always co-occur sit between the two.
  assert.ok(cosine(lsa.rows, dims, 3, 5) > cosine(lsa.rows, dims, 3, 9));
  // Rows present in the corpus have the random initialisation's row norm √d · std; absent ones are left unset.
  assert.deepEqual([...lsa.present], [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  for (let r = 3; r <= 10; r++) assert.ok(Math.abs(Math.hypot(...lsa.rows.subarray(r * dims, (r + 1) * dims)) - 2) < 1e-5);
  assert.deepEqual([...lsa.rows.subarray(0, 3 * dims)], new Array<number>(3 * dims).fill(0));
  const singular = [...lsa.singularValues];
  assert.deepEqual(
    singular,
    [...singular].sort((a, b) => b - a),
  );
});

test('applyLsaRows replaces only the rows of tokens the corpus has', () => {
  const dims = 2;
  const lsa = lsaTokenEmbeddings(DOCUMENTS, { vocabRows: VOCAB, dims, std: 0.5, seed: 1 });
  const embedding = new Float32Array(VOCAB * dims).fill(7);
  assert.equal(applyLsaRows(embedding, lsa, dims), 8);
  assert.deepEqual([...embedding.subarray(0, 3 * dims)], new Array<number>(3 * dims).fill(7));
  assert.deepEqual([...embedding.subarray(11 * dims)], [7, 7]);
  assert.ok(Math.abs(Math.hypot(embedding[3 * dims], embedding[3 * dims + 1]) - Math.sqrt(2) * 0.5) < 1e-6);
});

test('the token × document TF-IDF has one column per document, unit length, and refuses ids outside the vocabulary', () => {
  const matrix = tokenDocumentTfidf(DOCUMENTS, VOCAB);
  assert.equal(matrix.rows, VOCAB);
  assert.equal(matrix.cols, DOCUMENTS.length);
  const columnNorms = new Array<number>(DOCUMENTS.length).fill(0);
  for (let r = 0; r < VOCAB; r++)
    for (let p = matrix.indptr[r]; p < matrix.indptr[r + 1]; p++) columnNorms[matrix.indices[p]] += matrix.values[p] ** 2;
  for (const norm of columnNorms) assert.ok(Math.abs(norm - 1) < 1e-12);
  // Token 5 occurs twice in document 3 and once in document 0: the repeat weighs 1 + ln 2, not 2.
  const row5 = new Map<number, number>();
  for (let p = matrix.indptr[5]; p < matrix.indptr[6]; p++) row5.set(matrix.indices[p], matrix.values[p]);
  assert.deepEqual([...row5.keys()], [0, 1, 3]);
  assert.throws(() => tokenDocumentTfidf([[1, 12]], VOCAB), /token id 12 is outside the 12-row vocabulary/);
});

test('a corpus without tokens leaves every row unset', () => {
  const lsa = lsaTokenEmbeddings([[], []], { vocabRows: 4, dims: 2, std: 1, seed: 0 });
  assert.deepEqual([...lsa.present], [0, 0, 0, 0]);
  assert.equal(lsa.singularValues.length, 0);
});

test('LSA over a pooled multilingual corpus: a paragraph and its translations are one column, so translated words start close', () => {
  // Four paragraphs, each in English and German; the words are token ids (see `ids`).
  const ids = new Map<string, number>();
  const encode = (doc: Document) => doc.text.split(' ').map((w) => ids.get(w) ?? ids.set(w, ids.size + 3).get(w)!);
  const paragraphs = [
    ['cat milk purr', 'katze milch schnurren'],
    ['cat mouse', 'katze maus'],
    ['dog bone bark', 'hund knochen bellen'],
    ['dog walk', 'hund spaziergang'],
  ];
  const docs: Document[] = paragraphs.flatMap(([en, de], p) => [
    { id: `${p}-en`, relevanceId: `p${p}`, lang: 'en', title: '', text: en },
    { id: `${p}-de`, relevanceId: `p${p}`, lang: 'de', title: '', text: de },
  ]);
  const corpus = (grouped: boolean): SftCorpus => ({
    datasetId: 'toy',
    docs,
    keyOf: (doc) => doc.relevanceId ?? doc.id,
    grouped,
    trainQueries: [],
  });
  const pooled = lsaDocuments(corpus(true), encode);
  assert.equal(pooled.length, 4);
  assert.deepEqual(Array.from(pooled[0]), [...encode(docs[0]), ...encode(docs[1])]);
  assert.equal(lsaDocuments(corpus(false), encode).length, 8);
  const dims = 2;
  const cos = (grouped: boolean, a: string, b: string) => {
    const lsa = lsaTokenEmbeddings(lsaDocuments(corpus(grouped), encode), { vocabRows: ids.size + 3, dims, std: 1, seed: 0 });
    return cosine(lsa.rows, dims, ids.get(a)!, ids.get(b)!);
  };
  assert.ok(cos(true, 'cat', 'katze') > 0.99, `cat~katze pooled: ${cos(true, 'cat', 'katze')}`);
  assert.ok(cos(true, 'cat', 'hund') < 0.5, `cat~hund pooled: ${cos(true, 'cat', 'hund')}`);
  // Per-language columns never let a word meet its translation.
  assert.ok(cos(false, 'cat', 'katze') < 0.5, `cat~katze per document: ${cos(false, 'cat', 'katze')}`);
});
