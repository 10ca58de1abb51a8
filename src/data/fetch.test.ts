import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { fetchDataset, installSources, mirrorSources, officialSources, readTarGz } from './fetch.js';
import { datasetInfo } from './registry.js';
import { UserError } from '../util/errors.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-fetch-test-'));
const served = join(tmp, 'served');

/** Paths whose bytes the server alters (one byte flipped), to simulate a corrupted download. */
const corrupted = new Set<string>();
let server: Server;
let baseUrl = '';

/** Serves DATA_DIR under /data/ and the test's own files under /files/, on 127.0.0.1 only. */
before(async () => {
  await fsp.mkdir(served, { recursive: true });
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const [root, rest] = path.startsWith('/data/')
      ? [DATA_DIR ?? '/nonexistent', path.slice(6)]
      : path.startsWith('/files/')
        ? [served, path.slice(7)]
        : ['', ''];
    const file = normalize(join(root, rest));
    if (root === '' || !file.startsWith(normalize(root))) {
      response.writeHead(404).end();
      return;
    }
    fsp.readFile(file).then(
      (bytes) => {
        if (corrupted.has(path)) bytes[Math.floor(bytes.length / 2)] ^= 0x20;
        response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');
const cacheDir = (name: string): string => join(tmp, 'caches', name);

test('the official sources are pinned with checksums', () => {
  const squad = officialSources('squad-dev');
  assert.deepEqual(squad, [
    {
      url: 'https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json',
      checksum: { algorithm: 'md5', hex: '3e85deb501d4e538b6bc56f786231552' },
      kind: 'file',
      target: 'dev-v1.1.json',
    },
  ]);
  assert.equal(officialSources('scifact')[0].checksum.hex, '5f7d1de60b170fc8027bb7898e2efca1');
  assert.equal(officialSources('cranfield')[0].checksum.hex, '1730f7be572d95a5a4b56c59a7b900a5');
  const xquad = officialSources('xquad');
  assert.equal(xquad.length, 13);
  assert.ok(
    xquad.every((s) => s.url.startsWith('https://raw.githubusercontent.com/google-deepmind/xquad/') && s.checksum.hex.length === 64),
  );
  assert.throws(() => officialSources('nope'), /unknown dataset 'nope'/);
  assert.equal(mirrorSources('cranfield', 'http://m.example/base')[0].url, 'http://m.example/base/cranfield/cran.all.1400');
  assert.throws(() => mirrorSources('cranfield', 'not a url'), /is not a URL/);
});

test('the local copies match the pinned checksums (SQuAD md5 3e85deb5…)', { skip: needsData }, () => {
  assert.equal(md5(readFileSync(join(DATA_DIR as string, 'squad-v1.1-dev', 'dev-v1.1.json'))), '3e85deb501d4e538b6bc56f786231552');
  for (const id of ['scifact', 'squad-dev', 'xquad', 'cranfield']) {
    for (const source of mirrorSources(id, 'http://x/')) {
      const folder = new URL(source.url).pathname.split('/')[1];
      const bytes = readFileSync(join(DATA_DIR as string, folder, source.target as string));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), source.checksum.hex, `${id}: ${source.target}`);
    }
  }
});

test('fetch from a mirror on 127.0.0.1 lands a verified, usable dataset in the cache', { skip: needsData }, async () => {
  const cache = cacheDir('good');
  const lines: string[] = [];
  const result = await fetchDataset('cranfield', { dataDir: cache, mirror: `${baseUrl}/data/`, log: (line) => lines.push(line) });
  assert.equal(result.downloaded, true);
  assert.deepEqual(result.files.sort(), ['cran.all.1400', 'cran.qry', 'cranqrel', 'cranqrel.readme']);
  assert.deepEqual(readdirSync(cache), ['cranfield'], 'only the dataset folder, no temp files');
  assert.deepEqual(readFileSync(join(cache, 'cranfield', 'cranqrel')), readFileSync(join(DATA_DIR as string, 'cranfield', 'cranqrel')));
  assert.equal(lines.filter((line) => line.startsWith('downloading ')).length, 4);
  const info = await datasetInfo('cranfield', cache);
  assert.deepEqual([info.docs, info.queries.test], [1400, 225]);
  const again = await fetchDataset('cranfield', { dataDir: cache, mirror: `${baseUrl}/data/` });
  assert.equal(again.downloaded, false);
});

test('GENIR_DATASETS_MIRROR is used when no mirror option is given', { skip: needsData }, async () => {
  const saved = process.env.GENIR_DATASETS_MIRROR;
  process.env.GENIR_DATASETS_MIRROR = `${baseUrl}/data`;
  try {
    const cache = cacheDir('env');
    const result = await fetchDataset('squad-dev', { dataDir: cache });
    assert.deepEqual(result.files, ['dev-v1.1.json']);
    assert.equal(md5(readFileSync(join(cache, 'squad-v1.1-dev', 'dev-v1.1.json'))), '3e85deb501d4e538b6bc56f786231552');
  } finally {
    if (saved === undefined) delete process.env.GENIR_DATASETS_MIRROR;
    else process.env.GENIR_DATASETS_MIRROR = saved;
  }
});

test('a corrupted download → checksum UserError, and nothing is left in the cache', { skip: needsData }, async () => {
  const cache = cacheDir('corrupt');
  corrupted.add('/data/xquad/xquad.hi.json');
  try {
    await assert.rejects(fetchDataset('xquad', { dataDir: cache, mirror: `${baseUrl}/data/` }), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.match(
        err.message,
        /^checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/data\/xquad\/xquad\.hi\.json: expected sha256 df2cce35\w+, got [0-9a-f]{64}; the download was discarded and nothing was installed$/,
      );
      return true;
    });
  } finally {
    corrupted.clear();
  }
  assert.deepEqual(readdirSync(cache), [], 'no dataset folder and no temp files');
});

test('an HTTP error or an unreachable server is a UserError, and nothing is left behind', async () => {
  const cache = cacheDir('missing');
  await assert.rejects(
    fetchDataset('cranfield', { dataDir: cache, mirror: `${baseUrl}/nothing-here/` }),
    /could not download http:\/\/127\.0\.0\.1:\d+\/nothing-here\/cranfield\/cran\.all\.1400: HTTP 404/,
  );
  assert.deepEqual(readdirSync(cache), []);
  await assert.rejects(
    fetchDataset('cranfield', { dataDir: cache, mirror: 'http://127.0.0.1:9/' }),
    /could not download http:\/\/127\.0\.0\.1:9\/cranfield\/cran\.all\.1400: /,
  );
  assert.deepEqual(readdirSync(cache), []);
});

/** A minimal ustar archive (what `tar -c` writes for plain files). */
function tarOf(files: Record<string, string>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

test('archives: a verified zip and tar.gz are extracted into place; a wrong md5 installs nothing', async () => {
  const zip = zipSync({
    'scifact/corpus.jsonl': Buffer.from('{"_id":"1","text":"a"}\n'),
    'scifact/qrels/test.tsv': Buffer.from('q\t1\t1\n'),
    '__MACOSX/scifact/._corpus.jsonl': Buffer.from('junk'),
  });
  const tgz = gzipSync(tarOf({ './cran.qry': '.I 001\n.W\nq\n', cranqrel: '1 1 1\n' }));
  assert.deepEqual([...readTarGz(tgz, 'test').keys()], ['cran.qry', 'cranqrel']);
  await fsp.writeFile(join(served, 'a.zip'), zip);
  await fsp.writeFile(join(served, 'a.tar.gz'), tgz);
  const folder = join(cacheDir('archives'), 'ds');
  const written = await installSources(
    [
      {
        url: `${baseUrl}/files/a.zip`,
        checksum: { algorithm: 'md5', hex: md5(zip) },
        kind: 'zip',
        members: { 'scifact/corpus.jsonl': 'corpus.jsonl', 'scifact/qrels/test.tsv': 'qrels/test.tsv' },
      },
      {
        url: `${baseUrl}/files/a.tar.gz`,
        checksum: { algorithm: 'md5', hex: md5(tgz) },
        kind: 'tar.gz',
        members: { 'cran.qry': 'cran.qry', cranqrel: 'cranqrel' },
      },
    ],
    folder,
  );
  assert.deepEqual(written, ['corpus.jsonl', 'qrels/test.tsv', 'cran.qry', 'cranqrel']);
  assert.equal(readFileSync(join(folder, 'qrels', 'test.tsv'), 'utf8'), 'q\t1\t1\n');
  assert.equal(readFileSync(join(folder, 'cran.qry'), 'utf8'), '.I 001\n.W\nq\n');

  const other = join(cacheDir('archives-bad'), 'ds');
  await assert.rejects(
    installSources(
      [
        {
          url: `${baseUrl}/files/a.zip`,
          checksum: { algorithm: 'md5', hex: '0'.repeat(32) },
          kind: 'zip',
          members: { 'corpus.jsonl': 'corpus.jsonl' },
        },
      ],
      other,
    ),
    /checksum mismatch .*a\.zip: expected md5 0{32}/,
  );
  await assert.rejects(
    installSources(
      [
        {
          url: `${baseUrl}/files/a.zip`,
          checksum: { algorithm: 'md5', hex: md5(zip) },
          kind: 'zip',
          members: { 'queries.jsonl': 'queries.jsonl' },
        },
      ],
      other,
    ),
    /a\.zip: the archive has no 'queries\.jsonl'/,
  );
  assert.deepEqual(readdirSync(cacheDir('archives-bad')), []);
});
