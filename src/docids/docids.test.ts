import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openDataset } from '../data/registry.js';
import type { Document } from '../data/types.js';
import { SubwordTokenizer } from '../text/tokenizer/index.js';
import { UserError } from '../util/errors.js';
import { buildDocids, defaultPqK, defaultPqM, type BuildDocidsOptions } from './build.js';
import { decodeDocids, encodeDocids, loadDocids, loadDocidsSync, saveDocids } from './io.js';
import { DOCID_SCHEMES, DocidTable } from './table.js';
import { DocidTrie } from './trie.js';
import { titleTexts, titleUrlText } from './title.js';

/** A byte-level stand-in for the model tokenizer: UTF-8 bytes shifted past 3 specials; EOS = 1. */
const TEXT_VOCAB = 259;
const EOS = 1;
const encode = (text: string): number[] => [...new TextEncoder().encode(text)].map((b) => b + 3);
const base = { textVocabSize: TEXT_VOCAB, eosId: EOS, encode } satisfies Partial<BuildDocidsOptions>;

const corpus: Document[] = [
  { id: 'a0', title: 'Cats', text: 'The domestic cat is a small carnivorous mammal kept as a pet.' },
  { id: 'a1', title: 'Cats', text: 'Cats sleep for most of the day and hunt small animals at night.' },
  { id: 'b0', title: 'Stock market', text: 'Stock markets fell sharply as interest rates rose again.' },
  { id: 'b1', title: 'Stock market', text: 'Investors sold shares when the central bank raised interest rates.' },
  { id: 'c0', title: 'Volcano', text: 'A volcano erupts when magma rises through the crust to the surface.' },
  { id: 'c1', title: 'Volcano', text: 'Lava and ash from the eruption buried the nearby villages.' },
  { id: 'd0', title: 'Football', text: 'The team scored twice in the second half to win the final.' },
  { id: 'd1', title: 'Football', text: 'The striker scored a goal in the last minute of the match.' },
  { id: 'e0', title: 'Bread', text: 'Bread is baked from a dough of flour and water, often with yeast.' },
  { id: 'e1', title: 'Bread', text: 'Sourdough bread rises slowly with wild yeast and bacteria.' },
];

/**
 * Checks what constrained decoding relies on, independently of the trie's own
 * bookkeeping: every docid path exists and ends at that document's leaf, every leaf
 * is reached by exactly one document, every path from the root is a docid prefix,
 * and docids are unique and end with EOS.
 */
function assertValid(table: DocidTable): void {
  const docids = new Map<string, number>();
  for (let i = 0; i < table.size; i++) {
    const sequence = [...table.sequence(i)];
    assert.equal(sequence[sequence.length - 1], table.layout.eosId);
    assert.equal(sequence.indexOf(table.layout.eosId), sequence.length - 1);
    for (const token of sequence) assert.ok(token >= 0 && token < table.outputVocabSize);
    const signature = sequence.join(',');
    assert.ok(!docids.has(signature), `docid of ${table.keys[i]} repeats ${table.keys[docids.get(signature)!]}'s`);
    docids.set(signature, i);
    let node = DocidTrie.ROOT;
    for (const token of sequence) {
      assert.ok(table.trie.childrenOf(node).includes(token));
      node = table.trie.step(node, token);
    }
    assert.equal(table.trie.docAt(node), i);
    assert.equal(table.keyAt(node), table.keys[i]);
  }
  const prefixes = new Set<string>();
  for (const signature of docids.keys()) {
    const tokens = signature.split(',');
    for (let l = 0; l <= tokens.length; l++) prefixes.add(tokens.slice(0, l).join(','));
  }
  let leaves = 0;
  const stack: [number, number[]][] = [[DocidTrie.ROOT, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    assert.ok(prefixes.has(path.join(',')), `path ${path.join(',')} is no docid prefix`);
    const children = table.trie.childrenOf(node);
    if (children.length === 0) {
      leaves++;
      assert.equal(docids.get(path.join(',')), table.trie.docAt(node), 'a leaf is exactly one document');
    } else {
      assert.equal(table.trie.docAt(node), -1);
    }
    for (const token of children) stack.push([table.trie.step(node, token), [...path, token]]);
  }
  assert.equal(leaves, table.size);
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'genir-docids-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('every scheme gives unique docids, a valid trie and a lossless save/load', async () => {
  await withTempDir(async (dir) => {
    for (const scheme of DOCID_SCHEMES) {
      const table = await buildDocids(corpus, { ...base, scheme, seed: 3 });
      assert.deepEqual(
        table.keys,
        corpus.map((d) => d.id),
      );
      assertValid(table);
      const path = join(dir, `${scheme}.bin`);
      await saveDocids(table, path);
      const loaded = await loadDocids(path);
      assert.equal(loaded.scheme, scheme);
      assert.deepEqual(loaded.layout, table.layout);
      assert.deepEqual(loaded.params, table.params);
      assert.deepEqual(loaded.keys, table.keys);
      assert.deepEqual(loaded.labels, table.labels);
      assert.deepEqual([...loaded.offsets], [...table.offsets]);
      assert.deepEqual([...loaded.tokens], [...table.tokens]);
      assert.equal(loaded.trie.nodeCount, table.trie.nodeCount);
      assertValid(loaded);
      // Same seed, same docids.
      const again = await buildDocids(corpus, { ...base, scheme, seed: 3 });
      assert.deepEqual([...again.tokens], [...table.tokens]);
    }
  });
});

test('token spaces: atomic, PQ, semantic and numeric codes sit after the text vocabulary; titles are text ids', async () => {
  const atomic = await buildDocids(corpus, { ...base, scheme: 'atomic' });
  assert.deepEqual(atomic.layout, { textVocabSize: TEXT_VOCAB, eosId: EOS, codeVocabSize: 10, docidVocabSize: 10 });
  assert.deepEqual([...atomic.sequence(4)], [TEXT_VOCAB + 4, EOS]);

  const pq = await buildDocids(corpus, { ...base, scheme: 'pq', pq: { m: 3, k: 4 } });
  assert.equal(pq.layout.codeVocabSize, 12);
  for (let i = 0; i < pq.size; i++) {
    const codes = [...pq.sequence(i)].slice(0, 3).map((t) => t - TEXT_VOCAB);
    codes.forEach((token, j) => assert.ok(token >= j * 4 && token < (j + 1) * 4, `position ${j} token ${token}`));
  }

  const semantic = await buildDocids(corpus, { ...base, scheme: 'semantic', semantic: { k: 2, leafSize: 3 } });
  const radix = 3;
  for (let i = 0; i < semantic.size; i++) {
    const codes = [...semantic.sequence(i)].slice(0, -1).map((t) => t - TEXT_VOCAB);
    codes.forEach((token, j) => assert.ok(token >= j * radix && token < (j + 1) * radix));
    // Above the leaf, each code is one of k = 2 clusters.
    codes.slice(0, -1).forEach((token, j) => assert.ok(token - j * radix < 2));
    assert.ok(codes.length >= 3, '10 documents, k = 2, leaves ≤ 3: at least two cluster levels');
  }

  // 10 documents: one decimal digit each, a seeded permutation of 0…9, so no two share a docid.
  const numeric = await buildDocids(corpus, { ...base, scheme: 'numeric', seed: 5 });
  assert.deepEqual(numeric.layout, { textVocabSize: TEXT_VOCAB, eosId: EOS, codeVocabSize: 10, docidVocabSize: 10 });
  const digits = Array.from({ length: numeric.size }, (_, i) => [...numeric.sequence(i)][0] - TEXT_VOCAB);
  assert.deepEqual(
    [...digits].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(digits, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'shuffled, not corpus order');
  const reseeded = await buildDocids(corpus, { ...base, scheme: 'numeric', seed: 6 });
  assert.notDeepEqual([...reseeded.tokens], [...numeric.tokens]);
  const eleven = await buildDocids([...corpus, { ...corpus[0], id: 'extra' }], { ...base, scheme: 'numeric' });
  assert.equal(eleven.layout.codeVocabSize, 20, '11 documents need two digits');
  for (let i = 0; i < eleven.size; i++) {
    const [first, second] = [...eleven.sequence(i)].slice(0, 2).map((t) => t - TEXT_VOCAB);
    assert.ok(first <= 1 && second >= 10 && second < 20, `docid ${i}: ${first}, ${second}`);
  }

  const title = await buildDocids(corpus, { ...base, scheme: 'title' });
  assert.equal(title.labels![0], 'Cats 1');
  assert.deepEqual([...title.sequence(0)], [...encode('Cats 1'), EOS]);
  assert.equal(title.layout.docidVocabSize, 0);
});

test('RQ docids: level l code c is token l·K + c after the text vocabulary; the table reports distinct codes and reconstruction error; the codebook reaches the caller', async () => {
  let received: readonly Float32Array[] = [];
  const rq = await buildDocids(corpus, {
    ...base,
    scheme: 'rq',
    rq: { levels: 3, k: 4 },
    onRqCodebook: (centroids) => (received = centroids),
  });
  assert.equal(rq.layout.codeVocabSize, 12);
  for (let i = 0; i < rq.size; i++) {
    const codes = [...rq.sequence(i)].slice(0, 3).map((t) => t - TEXT_VOCAB);
    codes.forEach((token, level) => assert.ok(token >= level * 4 && token < (level + 1) * 4, `level ${level} token ${token}`));
  }
  assert.equal(rq.params.levels, 3);
  assert.equal(rq.params.k, 4);
  const distinct = rq.params.distinctFraction as number;
  assert.ok(distinct > 0 && distinct <= 1);
  // Documents whose codes coincide are exactly the ones that needed a disambiguator.
  assert.equal(rq.params.collided, Math.round(rq.size * (1 - distinct)));
  assert.ok((rq.params.relativeError as number) >= 0 && (rq.params.relativeError as number) < 1);
  assert.equal(received.length, 3);
  assert.equal(received[0].length, 4 * (rq.params.dim as number));
});

test('colliding codes get a disambiguating final token', async () => {
  const twins: Document[] = [
    { id: 'x', title: 'Same', text: 'identical words here' },
    { id: 'y', title: 'Other', text: 'something else entirely' },
    { id: 'z', title: 'Same', text: 'identical words here' },
  ];
  const pq = await buildDocids(twins, {
    ...base,
    scheme: 'pq',
    embeddings: { kind: 'vectors', ids: ['x', 'y', 'z'], dim: 2, vectors: Float32Array.from([1, 0, 0, 1, 1, 0]) },
    pq: { m: 2, k: 2 },
  });
  assertValid(pq);
  const [x, , z] = [0, 1, 2].map((i) => [...pq.sequence(i)]);
  assert.deepEqual(x.slice(0, 2), z.slice(0, 2), 'x and z have the same PQ code');
  const disambiguatorBase = TEXT_VOCAB + pq.layout.codeVocabSize;
  assert.deepEqual([x[2], z[2]], [disambiguatorBase, disambiguatorBase + 1]);
  assert.equal(pq.sequence(1).length, 3, 'a unique code gets no extra token');
  assert.equal(pq.layout.docidVocabSize, pq.layout.codeVocabSize + 2);
  assert.equal(pq.params.collided, 2);

  // Untitled documents with the same opening words collide too.
  const title = await buildDocids(
    [
      { id: 'p', title: '', text: 'same opening words' },
      { id: 'q', title: '', text: 'same opening words' },
    ],
    { ...base, scheme: 'title' },
  );
  assertValid(title);
  assert.deepEqual([...title.sequence(1)], [...encode('same opening words'), TEXT_VOCAB + 1, EOS]);

  // Identical vectors cannot be split by k-means; semantic codes fall back to corpus order.
  const flat = await buildDocids(corpus, {
    ...base,
    scheme: 'semantic',
    semantic: { k: 2, leafSize: 2 },
    embeddings: { kind: 'vectors', ids: corpus.map((d) => d.id), dim: 2, vectors: new Float32Array(20).fill(1) },
  });
  assertValid(flat);
});

test('default PQ sizes follow the documented rule', () => {
  assert.equal(defaultPqK(240), 32);
  assert.equal(defaultPqK(2067), 256);
  assert.equal(defaultPqK(5), 2);
  assert.equal(defaultPqM(240, 32, 128), 7); // ⌈4·7.91/5⌉
  assert.equal(defaultPqM(2067, 256, 128), 6); // ⌈4·11.01/8⌉
  assert.equal(defaultPqM(320_000, 256, 768), 10);
  assert.equal(defaultPqM(1_000_000_000, 2, 768), 24);
  assert.equal(defaultPqM(240, 32, 4), 4, 'never more sub-spaces than dimensions');
});

test("title text: shared titles get positions; URLs follow DDRO's rule", () => {
  const docs: Document[] = [
    { id: '1', title: 'Super_Bowl_50', text: 'x' },
    { id: '2', title: 'Warsaw', text: 'x' },
    { id: '3', title: 'Super_Bowl_50', text: 'x' },
    { id: '4', title: '', text: 'no title so the opening words stand in for it' },
  ];
  assert.deepEqual(titleTexts(docs), ['Super Bowl 50 1', 'Warsaw', 'Super Bowl 50 2', 'no title so the opening words stand in for it']);
  assert.equal(
    titleUrlText('Heart', 'https://www.example.com/health/heart-disease/symptoms.html'),
    'symptoms heart disease health www.example.com',
  );
  assert.equal(titleUrlText('Cheap Flights', 'http://foo.com/index.php?id=3'), 'cheap flights foo.com');
  assert.equal(titleUrlText('Big News', 'http://news.site.org/2019/05/12/story'), 'big news news.site.org');
  assert.equal(titleUrlText('Home', 'https://example.org/'), 'home example.org');
  const urls = titleTexts(docs.slice(0, 2), (d) => (d.id === '1' ? 'https://en.wikipedia.org/wiki/Super_Bowl_50' : undefined));
  assert.deepEqual(urls, ['super bowl 50 wiki en.wikipedia.org', 'Warsaw']);
});

test('groupBy relevanceId gives parallel translations one docid', async () => {
  const pooled: Document[] = [
    { id: 'de/p1', relevanceId: 'p1', lang: 'de', title: 'Katzen', text: 'Die Hauskatze ist ein kleines Säugetier.' },
    { id: 'en/p1', relevanceId: 'p1', lang: 'en', title: 'Cats', text: 'The domestic cat is a small mammal.' },
    { id: 'de/p2', relevanceId: 'p2', lang: 'de', title: 'Vulkan', text: 'Ein Vulkan bricht aus, wenn Magma aufsteigt.' },
    { id: 'en/p2', relevanceId: 'p2', lang: 'en', title: 'Volcano', text: 'A volcano erupts when magma rises.' },
  ];
  const table = await buildDocids(pooled, { ...base, scheme: 'title', groupBy: 'relevanceId' });
  assert.deepEqual(table.keys, ['p1', 'p2']);
  assert.deepEqual(table.labels, ['Cats', 'Volcano'], 'the English member names the group');
  await assert.rejects(
    buildDocids(pooled.concat(pooled[0]), { ...base, scheme: 'atomic' }),
    (e: unknown) => e instanceof UserError && /duplicate document id 'de\/p1'/.test(e.message),
  );
});

test('missing, foreign, corrupt, truncated and newer docid files fail with a UserError naming the file', async () => {
  await withTempDir(async (dir) => {
    const table = await buildDocids(corpus, { ...base, scheme: 'atomic' });
    const good = encodeDocids(table);
    const expectError = (bytes: Uint8Array, message: RegExp): void => {
      const path = join(dir, 'docids.bin');
      writeFileSync(path, bytes);
      assert.throws(
        () => loadDocidsSync(path),
        (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: `) && message.test(e.message),
        message.source,
      );
    };
    assert.throws(
      () => loadDocidsSync(join(dir, 'absent.bin')),
      (e: unknown) => e instanceof UserError && /absent\.bin: no such docid file/.test(e.message),
    );
    expectError(new TextEncoder().encode('{"scheme":"atomic"}'), /not a genir docid file/);
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 10] ^= 0xff;
    expectError(flipped, /checksum mismatch/);
    expectError(good.subarray(0, good.length - 8), /checksum mismatch/);
    const newer = Uint8Array.from(good);
    const view = new DataView(newer.buffer);
    view.setUint32(8, 2, true);
    view.setUint32(newer.length - 4, crc32(newer.subarray(0, newer.length - 4)), true);
    expectError(newer, /format version 2; this genir reads version 1/);
    // A well-formed file whose contents break the docid rules (token past the vocabulary).
    const broken = Uint8Array.from(good);
    const bview = new DataView(broken.buffer);
    bview.setInt32(broken.length - 8 - 4, 99_999, true);
    bview.setUint32(broken.length - 4, crc32(broken.subarray(0, broken.length - 4)), true);
    expectError(broken, /invalid docids: .*outside the output vocabulary/);
    assert.equal(decodeDocids(good, 'x').size, corpus.length);
  });
});

test(
  'the real XQuAD English corpus: every scheme gives 240 unique docids',
  { skip: process.env.GENIR_DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const dataset = await openDataset({ id: 'xquad', lang: 'en', dataDir: process.env.GENIR_DATA_DIR });
    const docs: Document[] = [];
    for await (const doc of dataset.docs()) docs.push(doc);
    assert.equal(docs.length, 240);
    for (const scheme of DOCID_SCHEMES) {
      const table = await buildDocids(docs, { ...base, scheme });
      assertValid(table);
      assert.equal(table.size, 240);
      if (scheme === 'pq') assert.deepEqual([table.params.m, table.params.k, table.params.dim], [7, 32, 128]);
      if (scheme === 'title') assert.equal(table.labels![0], 'Super Bowl 50 1');
    }
  },
);

test(
  'the real pooled 12-language XQuAD corpus: one docid per paragraph; a Chinese corpus uses the multilingual analyzer',
  { skip: process.env.GENIR_DATA_DIR ? false : 'GENIR_DATA_DIR is not set' },
  async () => {
    const collect = async (spec: { id: string; lang: string; corpusLang?: string }): Promise<Document[]> => {
      const docs: Document[] = [];
      for await (const doc of (await openDataset({ ...spec, dataDir: process.env.GENIR_DATA_DIR })).docs()) docs.push(doc);
      return docs;
    };
    const english = await collect({ id: 'xquad', lang: 'en' });
    const pooled = await collect({ id: 'xquad', lang: 'en', corpusLang: 'all' });
    assert.equal(pooled.length, 12 * 240);
    const table = await buildDocids(pooled, { ...base, scheme: 'title', groupBy: 'relevanceId' });
    assertValid(table);
    assert.deepEqual(
      table.keys,
      english.map((d) => d.id),
    );
    const englishTitles = await buildDocids(english, { ...base, scheme: 'title' });
    assert.deepEqual(table.labels, englishTitles.labels);

    const chinese = await collect({ id: 'xquad', lang: 'zh' });
    const pq = await buildDocids(chinese, { ...base, scheme: 'pq' });
    assertValid(pq);
    assert.equal(pq.params.analyzer, 'multilingual');
  },
);

test('title docids with the project tokenizer decode back to their text', async () => {
  const tokenizer = SubwordTokenizer.train(
    corpus.map((d) => `${d.title} ${d.text}`),
    { vocabSize: 400 },
  );
  const table = await buildDocids(corpus, {
    scheme: 'title',
    textVocabSize: tokenizer.subwordVocabSize,
    eosId: tokenizer.eosId,
    encode: (text) => tokenizer.encode(text),
  });
  assertValid(table);
  for (let i = 0; i < table.size; i++) {
    const sequence = table.sequence(i);
    assert.equal(tokenizer.decode(sequence.subarray(0, -1)), table.labels![i]);
  }
  assert.equal(table.labels![9], 'Bread 2');
});

test('keyword docids: the title, then the most distinctive words not in it; text ids like titles', async () => {
  const table = await buildDocids(corpus, { ...base, scheme: 'keywords', keywords: 2 });
  assert.equal(table.layout.codeVocabSize, 0);
  const labels = table.labels!;
  // A word of the title ("cats") is not repeated among the keywords.
  assert.ok(labels[1].startsWith('Cats '), labels[1]);
  assert.ok(!labels[1].slice('Cats '.length).split(' ').includes('cats'), labels[1]);
  // Paragraphs of one article differ by their words, not by a position number.
  assert.notEqual(labels[2], labels[3]);
  assert.match(labels[2], /^Stock market (fell|sharply|markets|rose|again)/);
  assert.match(labels[3], /^Stock market (investors|sold|shares|central|bank|raised|when)/);
  for (let i = 0; i < table.size; i++) {
    const tokens = [...table.sequence(i)];
    assert.equal(tokens.at(-1), EOS);
    assert.deepEqual(tokens.slice(0, -1), encode(labels[i]));
  }
});
