/**
 * The downloader against servers that misbehave (never answer, stall mid-body, fail once),
 * installed datasets that were damaged afterwards, and temporaries left by dead fetches.
 * Every server listens on 127.0.0.1 only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { hostTag } from '../util/temp-sweep.js';
import { INSTALL_RECORD, downloadVerified, fetchDataset, installSources, type DownloadSource } from './fetch.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-fetch-robust-'));
const servers: Server[] = [];
const sockets = new Set<Socket>();

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  rmSync(tmp, { recursive: true, force: true });
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts TCP connections and never sends a byte. */
let silentUrl = '';
let silentConnections = 0;

/** HTTP: `handler` answers; `requests` counts per path. */
let httpUrl = '';
const requests = new Map<string, number>();
let handler: (path: string, attempt: number, response: ServerResponse) => void = (_path, _attempt, response) =>
  response.writeHead(404).end();

before(async () => {
  silentUrl = await listen(createTcpServer(() => silentConnections++));
  httpUrl = await listen(
    createHttpServer((request: IncomingMessage, response: ServerResponse) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
      const attempt = (requests.get(path) ?? 0) + 1;
      requests.set(path, attempt);
      handler(path, attempt, response);
    }),
  );
});

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');
const BODY = Buffer.from('0123456789'.repeat(1000));

/** Sends the headers and the first 100 bytes of BODY, then nothing. */
function stallMidBody(response: ServerResponse): void {
  response.writeHead(200, { 'content-length': BODY.length });
  response.write(BODY.subarray(0, 100));
}

test(
  'a server that accepts the connection and never answers: timeout, bounded retries, one clear error, fast',
  { timeout: 10_000 },
  async () => {
    const dest = join(tmp, 'silent.bin');
    const lines: string[] = [];
    const started = performance.now();
    await assert.rejects(
      downloadVerified(
        `${silentUrl}/file`,
        dest,
        { algorithm: 'sha256', hex: sha256(BODY) },
        { timeout: 0.2, retries: 2, retryDelay: 0.05, log: (l) => lines.push(l) },
      ),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(
          err.message,
          /^could not download http:\/\/127\.0\.0\.1:\d+\/file: no response within 0\.2 s \(gave up after 3 attempts\); allow longer with --timeout\/--idle-timeout \(GENIR_FETCH_TIMEOUT, GENIR_FETCH_IDLE_TIMEOUT\) or try another --mirror$/,
        );
        return true;
      },
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 3, `took ${seconds} s`);
    assert.equal(silentConnections, 3);
    assert.deepEqual(
      lines.map((l) => l.replace(/^.*\/file: /, '')),
      ['no response within 0.2 s; retrying in 0.05 s (attempt 2 of 3)', 'no response within 0.2 s; retrying in 0.1 s (attempt 3 of 3)'],
    );
    assert.ok(!existsSync(dest));
  },
);

test('a server that stalls mid-body: idle timeout, the partial file is removed', { timeout: 10_000 }, async () => {
  handler = (_path, _attempt, response) => stallMidBody(response);
  const dest = join(tmp, 'stalled.bin');
  const started = performance.now();
  await assert.rejects(
    downloadVerified(
      `${httpUrl}/stall`,
      dest,
      { algorithm: 'sha256', hex: sha256(BODY) },
      { timeout: 5, idleTimeout: 0.2, retries: 1, retryDelay: 0.05 },
    ),
    /^UserError: could not download http:\/\/127\.0\.0\.1:\d+\/stall: no data for 0\.2 s \(gave up after 2 attempts\); allow longer/,
  );
  assert.ok(performance.now() - started < 3000);
  assert.equal(requests.get('/stall'), 2);
  assert.ok(!existsSync(dest));
});

test(
  'a transient failure (stall, HTTP 503) is retried and the install succeeds; HTTP 404 is not retried',
  { timeout: 10_000 },
  async () => {
    handler = (path, attempt, response) => {
      if (path === '/flaky-stall' && attempt === 1) return stallMidBody(response);
      if (path === '/flaky-503' && attempt === 1) return void response.writeHead(503, 'Service Unavailable').end();
      if (path.startsWith('/flaky-')) return void response.writeHead(200, { 'content-length': BODY.length }).end(BODY);
      response.writeHead(404, 'Not Found').end();
    };
    const folder = join(tmp, 'flaky', 'ds');
    const lines: string[] = [];
    const sources: DownloadSource[] = ['stall', '503'].map((name) => ({
      url: `${httpUrl}/flaky-${name}`,
      checksum: { algorithm: 'sha256', hex: sha256(BODY) },
      kind: 'file',
      target: `${name}.txt`,
    }));
    const written = await installSources(sources, folder, { idleTimeout: 0.2, retryDelay: 0.05, log: (l) => lines.push(l) });
    assert.deepEqual(written, ['stall.txt', '503.txt']);
    assert.deepEqual(readFileSync(join(folder, 'stall.txt')), BODY);
    assert.equal(lines.filter((l) => /retrying in 0\.05 s \(attempt 2 of 4\)$/.test(l)).length, 2, lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('flaky-503: HTTP 503 Service Unavailable; retrying')));

    await assert.rejects(
      downloadVerified(`${httpUrl}/missing`, join(tmp, 'missing.bin'), { algorithm: 'sha256', hex: sha256(BODY) }, { retryDelay: 0.05 }),
      /could not download .*\/missing: HTTP 404 Not Found$/,
    );
    assert.equal(requests.get('/missing'), 1);
  },
);

test('timeouts and retries come from GENIR_FETCH_* when not given; a bad value is a UserError naming it', { timeout: 10_000 }, async () => {
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { GENIR_FETCH_TIMEOUT: '0.2', GENIR_FETCH_RETRIES: '0' });
    // No "(gave up after …)": GENIR_FETCH_RETRIES=0 allows one attempt.
    await assert.rejects(
      downloadVerified(`${silentUrl}/env`, join(tmp, 'env.bin'), { algorithm: 'sha256', hex: sha256(BODY) }),
      /: no response within 0\.2 s; allow longer/,
    );
    process.env.GENIR_FETCH_TIMEOUT = 'soon';
    await assert.rejects(
      downloadVerified(`${silentUrl}/env`, join(tmp, 'env.bin'), { algorithm: 'sha256', hex: sha256(BODY) }),
      /^UserError: GENIR_FETCH_TIMEOUT "soon": expected a number of seconds > 0$/,
    );
    delete process.env.GENIR_FETCH_TIMEOUT;
    await assert.rejects(
      downloadVerified(`${silentUrl}/env`, join(tmp, 'env.bin'), { algorithm: 'sha256', hex: sha256(BODY) }, { retries: -1 }),
      /^UserError: --retries -1: expected a whole number ≥ 0$/,
    );
  } finally {
    for (const key of ['GENIR_FETCH_TIMEOUT', 'GENIR_FETCH_RETRIES']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

/** Serves DATA_DIR in genir's layout (the mirror layout), counting requests. */
function serveDataDir(): void {
  handler = (path, _attempt, response) => {
    const file = join(DATA_DIR as string, path);
    if (path.includes('..') || !existsSync(file)) return void response.writeHead(404).end();
    const bytes = readFileSync(file);
    response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  };
}

const downloads = (prefix: string): number =>
  [...requests].filter(([path]) => path.startsWith(prefix)).reduce((n, [, count]) => n + count, 0);

test('"already present" means verified: a truncated file is downloaded again, a good copy is not', { skip: needsData }, async () => {
  serveDataDir();
  const cache = join(tmp, 'verify');
  const first = await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl });
  assert.equal(first.downloaded, true);
  const record = JSON.parse(readFileSync(join(cache, 'cranfield', INSTALL_RECORD), 'utf8')) as {
    files: { path: string; bytes: number; sha256: string }[];
  };
  const reference = readFileSync(join(DATA_DIR as string, 'cranfield', 'cran.all.1400'));
  assert.deepEqual(
    record.files.find((f) => f.path === 'cran.all.1400'),
    { path: 'cran.all.1400', bytes: reference.length, sha256: sha256(reference) },
  );

  const before = downloads('/cranfield/');
  const present = await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl });
  assert.equal(present.downloaded, false);
  assert.equal(downloads('/cranfield/'), before, 'nothing downloaded for an intact copy');

  truncateSync(join(cache, 'cranfield', 'cran.all.1400'), 1000);
  const lines: string[] = [];
  const again = await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl, log: (l) => lines.push(l) });
  assert.equal(again.downloaded, true);
  assert.match(
    lines[0],
    new RegExp(
      `^cranfield: .*cran\\.all\\.1400 has 1000 bytes, ${reference.length} as installed \\(\\.genir-install\\.json\\): it is truncated or was changed; downloading it again$`,
    ),
  );
  assert.deepEqual(readFileSync(join(cache, 'cranfield', 'cran.all.1400')), reference);

  // Same length, one byte changed: only the checksum can tell.
  const changed = Buffer.from(reference);
  changed[500] ^= 1;
  writeFileSync(join(cache, 'cranfield', 'cran.all.1400'), changed);
  lines.length = 0;
  assert.equal((await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl, log: (l) => lines.push(l) })).downloaded, true);
  assert.match(
    lines[0],
    /cran\.all\.1400 does not match as installed \(\.genir-install\.json\): it is damaged or was changed; downloading it again$/,
  );
  assert.deepEqual(readFileSync(join(cache, 'cranfield', 'cran.all.1400')), reference);
});

test('a dataset folder copied in by hand (no install record) is checked against the pinned checksums', { skip: needsData }, async () => {
  serveDataDir();
  const cache = join(tmp, 'by-hand');
  mkdirSync(cache, { recursive: true });
  cpSync(join(DATA_DIR as string, 'cranfield'), join(cache, 'cranfield'), { recursive: true });
  const before = downloads('/cranfield/');
  assert.equal((await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl })).downloaded, false);
  assert.equal(downloads('/cranfield/'), before);

  truncateSync(join(cache, 'cranfield', 'cranqrel'), 10);
  const lines: string[] = [];
  assert.equal((await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl, log: (l) => lines.push(l) })).downloaded, true);
  assert.match(lines[0], /cranqrel does not match the pinned checksum: it is damaged or was changed; downloading it again$/);
  assert.deepEqual(readFileSync(join(cache, 'cranfield', 'cranqrel')), readFileSync(join(DATA_DIR as string, 'cranfield', 'cranqrel')));
});

test('installed folders and files are readable by other users (0755 / 0644 under umask 022)', { skip: needsData }, async () => {
  serveDataDir();
  const cache = join(tmp, 'modes');
  const previous = process.umask(0o022);
  try {
    await fetchDataset('scifact', { dataDir: cache, mirror: httpUrl });
  } finally {
    process.umask(previous);
  }
  const folder = join(cache, 'scifact');
  assert.equal(statSync(folder).mode & 0o777, 0o755);
  assert.equal(statSync(join(folder, 'qrels')).mode & 0o777, 0o755);
  for (const file of ['corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv', 'qrels/train.tsv', INSTALL_RECORD]) {
    assert.equal(statSync(join(folder, file)).mode & 0o777, 0o644, file);
  }
});

test(
  'temporaries of dead fetches on this host are swept at the next start; live, foreign and recent ones stay',
  { skip: needsData },
  async () => {
    serveDataDir();
    const cache = join(tmp, 'sweep');
    mkdirSync(cache, { recursive: true });
    // The id of a process that has exited.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid as number;
    const host = hostTag();
    const otherHost = host === 'ffffffff' ? 'eeeeeeee' : 'ffffffff';
    const entries = {
      dead: `.genir-fetch-${host}-${deadPid}-0123abcd`,
      live: `.genir-fetch-${host}-${process.pid}-0123abcd`,
      foreign: `.genir-fetch-${otherHost}-${deadPid}-0123abcd`,
      legacyOld: '.genir-fetch-Ab12Cd',
      legacyRecent: '.genir-fetch-Zz99Yy',
      deadOldCopy: `.genir-fetch-${host}-${deadPid}-4567cdef.old-squad-v1.1-dev`,
    };
    for (const name of Object.values(entries)) {
      mkdirSync(join(cache, name));
      writeFileSync(join(cache, name, '.download'), 'partial');
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(join(cache, entries.legacyOld), twoDaysAgo, twoDaysAgo);

    const lines: string[] = [];
    await fetchDataset('cranfield', { dataDir: cache, mirror: httpUrl, log: (l) => lines.push(l) });
    assert.deepEqual(
      readdirSync(cache).sort(),
      ['cranfield', entries.foreign, entries.legacyRecent, entries.live, 'squad-v1.1-dev'].sort(),
    );
    // The dead process's moved-aside copy was the only copy of squad-v1.1-dev: it is back in place.
    assert.equal(readFileSync(join(cache, 'squad-v1.1-dev', '.download'), 'utf8'), 'partial');
    assert.ok(lines.some((l) => l.startsWith(`removed ${join(cache, entries.dead)}, left by an interrupted fetch (process ${deadPid})`)));
    assert.ok(lines.some((l) => l.startsWith(`restored ${join(cache, 'squad-v1.1-dev')} from an interrupted fetch`)));
  },
);
