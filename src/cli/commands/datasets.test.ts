import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, type CliResult } from '../testing.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-cli-datasets-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function genir(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runGenir(args, { env });
}

test('genir datasets info <unknown id> → exit 2 and one line naming the known ids', async () => {
  const result = await genir(['datasets', 'info', 'no-such-dataset']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    "genir: error: unknown dataset 'no-such-dataset' (known: scifact, squad-dev, xquad, cranfield; or give the path of a BEIR folder or a SQuAD .json file)\n",
  );
});

test('genir datasets list --json lists the registered ids', async () => {
  const result = await genir(['datasets', 'list', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    (JSON.parse(result.stdout) as { id: string }[]).map((d) => d.id),
    ['scifact', 'squad-dev', 'xquad', 'cranfield'],
  );
});

test('genir datasets info scifact prints the counts; --json gives one object', { skip: needsData }, async () => {
  const text = await genir(['datasets', 'info', 'scifact']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^scifact — BEIR SciFact$/m);
  assert.match(text.stdout, /documents {2}5,183/);
  assert.match(text.stdout, /^test \(default\) +300 +339 +339$/m);
  assert.match(text.stdout, /^train +809 +919 +919$/m);
  const json = await genir(['datasets', 'info', 'xquad', '--lang', 'de', '--corpus-lang', 'all', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const info = JSON.parse(json.stdout) as { docs: number; lang: string; corpusLang: string; queries: Record<string, number> };
  assert.deepEqual([info.docs, info.lang, info.corpusLang], [2880, 'de', 'all']);
  const wrongOption = await genir(['datasets', 'info', 'cranfield', '--lang', 'de']);
  assert.equal(wrongOption.code, 2);
  assert.equal(wrongOption.stderr.trim().split('\n').length, 1);
});

test('genir datasets fetch from a local mirror; a corrupted file → exit 2 and an empty cache', { skip: needsData }, async () => {
  let corrupt = false;
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (path.includes('..')) {
      response.writeHead(404).end();
      return;
    }
    fsp.readFile(join(DATA_DIR as string, path)).then(
      (bytes) => {
        if (corrupt) bytes[0] ^= 1;
        response.writeHead(200).end(bytes);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const cache = join(tmp, 'cache');
    const good = await genir(['datasets', 'fetch', 'squad-dev', '--data-dir', cache, '--mirror', mirror]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, `installed: ${join(cache, 'squad-v1.1-dev')}\n`);
    assert.match(good.stderr, /genir: downloading http:\/\/127\.0\.0\.1:\d+\/squad-v1\.1-dev\/dev-v1\.1\.json/);
    corrupt = true;
    const badCache = join(tmp, 'bad-cache');
    const bad = await genir(['datasets', 'fetch', 'cranfield', '--data-dir', badCache], { GENIR_DATASETS_MIRROR: mirror });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^genir: error: checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/cranfield\/cran\.all\.1400: expected sha256 /m,
    );
    assert.deepEqual(await fsp.readdir(badCache), []);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
