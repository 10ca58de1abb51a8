import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { alignVectors, defaultLsaDims, encodeNpy, lsaEmbeddings, parseNpy, readVectorFile } from './embeddings.js';
import { multilingualAnalyze, tfidfMatrix } from './tfidf.js';

/** A .npy file as NumPy writes it (format 1.0, header padded to 64 bytes). */
function npyBytes(descr: string, shape: number[], values: number[], fortran = false): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const itemSize = Number(descr.slice(2));
  const data = new DataView(new ArrayBuffer(values.length * itemSize));
  values.forEach((v, i) => (itemSize === 4 ? data.setFloat32(i * 4, v, true) : data.setFloat64(i * 8, v, true)));
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer), 10 + header.length);
  return out;
}

function truncated(bytes: Uint8Array, drop: number): Uint8Array {
  return bytes.subarray(0, bytes.length - drop);
}

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'genir-docids-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('.npy float32 and float64, C and Fortran order, parse to row-major float32', () => {
  const f4 = parseNpy(npyBytes('<f4', [2, 3], [1, 2, 3, 4, 5, 6.5]), 'a.npy');
  assert.deepEqual(f4.shape, [2, 3]);
  assert.deepEqual([...f4.data], [1, 2, 3, 4, 5, 6.5]);
  const f8 = parseNpy(npyBytes('<f8', [2, 2], [0.25, -1, 3, 4]), 'b.npy');
  assert.deepEqual([...f8.data], [0.25, -1, 3, 4]);
  // Fortran order stores columns first: [[1, 2], [3, 4]] is written 1, 3, 2, 4.
  const fortran = parseNpy(npyBytes('<f4', [2, 2], [1, 3, 2, 4], true), 'c.npy');
  assert.deepEqual([...fortran.data], [1, 2, 3, 4]);
});

test('.npy files we cannot use fail with a UserError naming the file', () => {
  const cases: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode('{"id": 1}\n'), /x\.npy: not a \.npy file/],
    [npyBytes('<i4', [2, 2], [1, 2, 3, 4]), /x\.npy: dtype <i4 is not supported/],
    [npyBytes('>f4', [1, 2], [1, 2]), /x\.npy: big-endian/],
    [npyBytes('<f4', [4], [1, 2, 3, 4]), /x\.npy: expected a 2-D array/],
    [truncated(npyBytes('<f4', [2, 2], [1, 2, 3, 4]), 8), /x\.npy: shape \(2, 2\) needs 16 data bytes, the file has 8/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => parseNpy(bytes, 'x.npy'),
      (err: unknown) => err instanceof UserError && message.test(err.message),
    );
  }
});

test('a .npy file pairs with its ids file; mismatches are UserErrors', () => {
  withTempDir((dir) => {
    const npy = join(dir, 'vectors.npy');
    writeFileSync(npy, npyBytes('<f4', [3, 2], [1, 0, 0, 1, 1, 1]));
    assert.throws(
      () => readVectorFile(npy),
      (e: unknown) => e instanceof UserError && /needs an ids file/.test(e.message),
    );
    writeFileSync(join(dir, 'vectors.ids.txt'), 'd1\nd2\nd3\n');
    const file = readVectorFile(npy);
    assert.deepEqual(file.ids, ['d1', 'd2', 'd3']);
    assert.equal(file.dim, 2);
    const aligned = alignVectors(file, ['d3', 'd1']);
    assert.deepEqual([...aligned.vectors], [1, 1, 1, 0]);
    assert.throws(
      () => alignVectors(file, ['d1', 'd9']),
      (e: unknown) => e instanceof UserError && e.message.includes('vectors.npy') && /no vector for 1 of 2 .*'d9'/.test(e.message),
    );
    const shortIds = join(dir, 'short.txt');
    writeFileSync(shortIds, 'd1\nd2\n');
    assert.throws(
      () => readVectorFile(npy, shortIds),
      (e: unknown) => e instanceof UserError && /short\.txt: 2 ids, but vectors\.npy has 3 rows/.test(e.message),
    );
    const dupIds = join(dir, 'dup.txt');
    writeFileSync(dupIds, 'd1\nd2\nd1\n');
    assert.throws(
      () => readVectorFile(npy, dupIds),
      (e: unknown) => e instanceof UserError && /dup\.txt:3: duplicate/.test(e.message),
    );
  });
});

test('JSONL vectors: read in order; bad lines name file and line', () => {
  withTempDir((dir) => {
    const good = join(dir, 'v.jsonl');
    writeFileSync(good, '{"id":"a","vector":[1,2]}\n{"id":7,"vector":[3,4]}\n');
    const file = readVectorFile(good);
    assert.deepEqual(file.ids, ['a', '7']);
    assert.deepEqual([...file.vectors], [1, 2, 3, 4]);
    const cases: [string, RegExp][] = [
      ['{"id":"a","vector":[1,2]}\n{"id":"b","vector":[1,2,3]}\n', /bad\.jsonl:2: vector has 3 dimensions, earlier lines have 2/],
      ['{"id":"a","vector":[1,2]}\n{"id":"a","vector":[1,2]}\n', /bad\.jsonl:2: duplicate id 'a'/],
      ['{"id":"a","vector":[1,"x"]}\n', /bad\.jsonl:1: "vector" must be an array of finite numbers/],
      ['{"vector":[1]}\n', /bad\.jsonl:1: missing "id"/],
      ['not json\n', /bad\.jsonl:1: not valid JSON/],
    ];
    const bad = join(dir, 'bad.jsonl');
    for (const [content, message] of cases) {
      writeFileSync(bad, content);
      assert.throws(
        () => readVectorFile(bad),
        (e: unknown) => e instanceof UserError && message.test(e.message),
        message.source,
      );
    }
  });
});

test('TF-IDF rows are unit length, with sublinear tf and smoothed idf', () => {
  const { matrix, terms } = tfidfMatrix(['the cat the cat', 'the dog']);
  assert.deepEqual(terms, ['the', 'cat', 'dog'].sort());
  // doc 0: cat tf 2 df 1, the tf 2 df 2 → weights (1 + ln 2)(ln(3/2) + 1) and (1 + ln 2)(ln(3/3) + 1).
  const cat = (1 + Math.log(2)) * (Math.log(1.5) + 1);
  const the = (1 + Math.log(2)) * 1;
  const norm = Math.hypot(cat, the);
  const row0 = new Map<string, number>();
  for (let p = matrix.indptr[0]; p < matrix.indptr[1]; p++) row0.set(terms[matrix.indices[p]], matrix.values[p]);
  assert.ok(Math.abs(row0.get('cat')! - cat / norm) < 1e-12);
  assert.ok(Math.abs(row0.get('the')! - the / norm) < 1e-12);
});

test('the default TF-IDF analyzer splits scripts written without spaces into words', () => {
  const { terms } = tfidfMatrix(['北京是中国的首都', 'กรุงเทพมหานครเป็นเมืองหลวง'], { langs: ['zh', 'th'] });
  assert.ok(terms.includes('北京') && terms.includes('首都'), terms.join(' '));
  assert.ok(terms.includes('เมือง') || terms.includes('เมืองหลวง'), terms.join(' '));
  assert.deepEqual(multilingualAnalyze()('Running cats', 'en'), ['run', 'cat']);
});

test('LSA vectors: unit length, deterministic per seed, related documents closer', () => {
  const texts = [
    'the cat sat on the mat with another cat',
    'a cat and a kitten sat on a mat',
    'stock markets fell as interest rates rose',
    'interest rates and stock prices moved markets',
  ];
  assert.equal(defaultLsaDims(4, 100), 3);
  const a = lsaEmbeddings(texts, { seed: 5 });
  const b = lsaEmbeddings(texts, { seed: 5 });
  assert.deepEqual([...a.vectors], [...b.vectors]);
  assert.equal(a.dim, 3);
  const dot = (i: number, j: number): number => {
    let sum = 0;
    for (let d = 0; d < a.dim; d++) sum += a.vectors[i * a.dim + d] * a.vectors[j * a.dim + d];
    return sum;
  };
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(dot(i, i) - 1) < 1e-6);
  assert.ok(dot(0, 1) > dot(0, 2) + 0.3 && dot(2, 3) > dot(1, 3) + 0.3, `cos ${dot(0, 1)} ${dot(0, 2)} ${dot(2, 3)} ${dot(1, 3)}`);
});

test('encodeNpy writes what parseNpy (and NumPy) read back: float32 rows, 64-byte aligned data', () => {
  const values = Float32Array.from([1, -2.5, 3, 0.125, 5, 6]);
  const bytes = encodeNpy(values, 3, 2);
  const headerLength = new DataView(bytes.buffer).getUint16(8, true);
  assert.equal((10 + headerLength) % 64, 0);
  assert.match(
    new TextDecoder().decode(bytes.subarray(10, 10 + headerLength)),
    /'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2\)/,
  );
  const parsed = parseNpy(bytes, 'x.npy');
  assert.deepEqual(parsed.shape, [3, 2]);
  assert.deepEqual([...parsed.data], [...values]);
  assert.throws(() => encodeNpy(values, 2, 2), RangeError);
});

test('the TF-IDF matrix of 10,000 documents builds inside a 64 MB heap (counts kept in typed arrays, not a Map per document)', () => {
  const testFile = fileURLToPath(import.meta.url);
  const script = join(testFile, '..', 'testdata', testFile.endsWith('.ts') ? 'tfidf-heap.ts' : 'tfidf-heap.js');
  // One Map of counts per document took ≈ 150 MB of heap here; the typed arrays live outside it.
  const child = spawnSync(process.execPath, [...process.execArgv, '--max-old-space-size=64', script, '10000'], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr.slice(-400));
  assert.equal(Number(child.stdout.trim()), 1_445_877);
});

/** 240 documents on four topics: 20 words of their topic's 30 and 5 of 40 shared words each, seeded. */
function topicTexts(): { texts: string[]; topics: number[] } {
  const rng = new Rng(8);
  const topics = Array.from({ length: 240 }, (_, i) => i % 4);
  const texts = topics.map((topic) =>
    [...Array.from({ length: 20 }, () => `t${topic}w${rng.int(30)}`), ...Array.from({ length: 5 }, () => `shared${rng.int(40)}`)].join(' '),
  );
  return { texts, topics };
}

test('LSA fitted on a sample places every document as the whole fit does (same-topic neighbours, cosines within 0.15, 0.03 on average)', () => {
  const { texts, topics } = topicTexts();
  const analyze = (text: string): string[] => text.split(' ');
  // Four dimensions for four topics: further ones would hold noise that no two fits share.
  const dims = 4;
  const whole = lsaEmbeddings(texts, { dims, seed: 1, analyze });
  const sampled = lsaEmbeddings(texts, { dims, seed: 1, analyze, fitSample: 60 });
  assert.notDeepEqual([...sampled.vectors], [...whole.vectors], 'the sample fit is a different computation');
  const cosine = (v: Float32Array, i: number, j: number): number => {
    let sum = 0;
    for (let d = 0; d < dims; d++) sum += v[i * dims + d] * v[j * dims + d];
    return sum;
  };
  let worst = 0;
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    let nearest = -1;
    for (let j = 0; j < texts.length; j++) {
      if (j === i) continue;
      const difference = Math.abs(cosine(sampled.vectors, i, j) - cosine(whole.vectors, i, j));
      worst = Math.max(worst, difference);
      total += difference;
      if (nearest < 0 || cosine(sampled.vectors, i, j) > cosine(sampled.vectors, i, nearest)) nearest = j;
    }
    assert.equal(topics[nearest], topics[i], `document ${i}'s nearest neighbour`);
    assert.ok(Math.abs(cosine(sampled.vectors, i, i) - 1) < 1e-5);
  }
  const mean = total / (texts.length * (texts.length - 1));
  assert.ok(worst < 0.15 && mean < 0.03, `cosine differences: largest ${worst}, mean ${mean}`);
});
