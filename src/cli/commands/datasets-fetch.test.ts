/**
 * `genir datasets fetch` as a process: Ctrl-C in the middle of a download leaves nothing
 * behind, and a mirror that never answers ends in one clear error after the timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenir, spawnGenir } from '../testing.js';

const tmp = mkdtempSync(join(tmpdir(), 'genir-cli-fetch-'));
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** Responses the stalling server holds open; it has sent their first bytes. */
const stalled: ServerResponse[] = [];
let stallingUrl = '';
let silentUrl = '';

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  stallingUrl = await listen(
    createServer((_request, response) => {
      response.writeHead(200, { 'content-length': 1_000_000 });
      response.write(Buffer.alloc(64 * 1024, 0x61));
      stalled.push(response);
    }),
  );
  silentUrl = await listen(createTcpServer(() => {}));
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  rmSync(tmp, { recursive: true, force: true });
});

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} in the middle of a download removes the temporary folder`, { timeout: 30_000 }, async () => {
    const cache = join(tmp, `interrupted-${signal}`);
    const { child, done } = spawnGenir([
      'datasets',
      'fetch',
      'cranfield',
      '--data-dir',
      cache,
      '--mirror',
      stallingUrl,
      '--idle-timeout',
      '60',
    ]);
    let stderr = '';
    const exited = done.then((end) => {
      stderr = end.stderr;
      return { code: end.code, signal: end.signal };
    });
    const before = stalled.length;
    // The server has sent the first bytes and the partial download is on disk.
    await until(() => stalled.length > before, 'the download to start');
    await until(
      () => readdirSync(cache).some((name) => name.startsWith('.genir-fetch-') && readdirSync(join(cache, name)).includes('.download')),
      'the partial download',
    );
    child.kill(signal);
    const end = await exited;
    assert.deepEqual(end, { code: null, signal }, `ended by the signal, as without a handler; stderr: ${stderr}`);
    assert.deepEqual(readdirSync(cache), [], 'no .genir-fetch-* left in the data folder');
  });
}

test('a mirror that never answers: one error line after the timeout and the retries, exit 2, fast', { timeout: 30_000 }, async () => {
  const cache = join(tmp, 'silent');
  const started = performance.now();
  const result = await runGenir([
    'datasets',
    'fetch',
    'cranfield',
    '--data-dir',
    cache,
    '--mirror',
    silentUrl,
    '--timeout',
    '0.3',
    '--retries',
    '1',
    '--retry-delay',
    '0.1',
  ]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0], /^genir: downloading http:\/\/127\.0\.0\.1:\d+\/cranfield\/cran\.all\.1400$/);
  assert.match(
    lines[1],
    /^genir: http:\/\/127\.0\.0\.1:\d+\/cranfield\/cran\.all\.1400: no response within 0\.3 s; retrying in 0\.1 s \(attempt 2 of 2\)$/,
  );
  assert.match(
    lines[2],
    /^genir: error: could not download http:\/\/127\.0\.0\.1:\d+\/cranfield\/cran\.all\.1400: no response within 0\.3 s \(gave up after 2 attempts\); allow longer with --timeout/,
  );
  assert.equal(lines.length, 3, result.stderr);
  assert.ok(seconds < 10, `took ${seconds} s`);
  assert.deepEqual(readdirSync(cache), []);

  const fromEnv = await runGenir(['datasets', 'fetch', 'cranfield', '--data-dir', cache, '--mirror', silentUrl], {
    env: { GENIR_FETCH_TIMEOUT: '0.3', GENIR_FETCH_RETRIES: '0' },
  });
  assert.equal(fromEnv.code, 2);
  assert.match(fromEnv.stderr, /error: could not download .*: no response within 0\.3 s; allow longer/);
});

test('bad --timeout / --retries values are one-line user errors', async () => {
  const badTimeout = await runGenir(['datasets', 'fetch', 'cranfield', '--data-dir', join(tmp, 'bad'), '--timeout', 'soon']);
  assert.equal(badTimeout.code, 2);
  assert.equal(badTimeout.stderr, 'genir: error: --timeout "soon": expected a number of seconds > 0\n');
  const badRetries = await runGenir(['datasets', 'fetch', 'cranfield', '--data-dir', join(tmp, 'bad'), '--retries', '1.5']);
  assert.equal(badRetries.code, 2);
  assert.equal(badRetries.stderr, 'genir: error: --retries "1.5": expected a whole number ≥ 0\n');
});
