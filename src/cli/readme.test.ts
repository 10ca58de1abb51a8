// Runs the README's commands exactly as a newcomer types them: through `npx genir …` in the
// checkout, so the installed bin (not a direct `node main.js`) is what gets exercised.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'genir') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('readme.test: no genir package.json above the test file');
    dir = parent;
  }
}

const root = findRepoRoot();
// A newcomer's empty cache: the first quickstart trains, a later one (--serve) reuses its model.
const cacheDir = mkdtempSync(join(tmpdir(), 'genir-readme-cache-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
const env = { ...process.env, GENIR_CACHE_DIR: cacheDir };
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Every `npx genir …` the README shows, in code spans or fenced blocks, with `# comments` cut. */
export function readmeCommands(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/`(npx genir [^`\n]+)`/g)) found.add(match[1].trim());
  for (const block of text.matchAll(/```(?:sh|bash|console)?\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const command = line.replace(/\s+#.*$/, '').trim();
      if (command.startsWith('npx genir ')) found.add(command);
    }
  }
  return [...found];
}

/** Splits a command line the way a POSIX shell does for plain words and double/single quotes. */
function shellWords(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function npx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', args, { cwd: root, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const dataDir = process.env.GENIR_DATA_DIR;
const commands = readmeCommands(readme);

test('the README shows the main job and a BM25 command through npx', () => {
  assert.ok(commands.includes('npx genir quickstart --json'), commands.join('\n'));
  assert.ok(
    commands.some((c) => c.startsWith('npx genir bm25 ')),
    commands.join('\n'),
  );
});

test('npx genir --version prints the package version', async () => {
  const result = await npx(['genir', '--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), version);
});

test('npx genir with an unknown command is one line on stderr and exit 2', async () => {
  const result = await npx(['genir', 'no-such-command']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /unknown command/);
});

/**
 * A README command that serves (`--serve`, `genir serve`) runs until stopped: it is started on a
 * free port (`--port 0` added), and must reach its ready line, show the search page and answer a
 * search; then SIGTERM to the server (its pid is on the listening line: npx and the shells npm
 * puts between would not pass the signal on) must end the whole command with exit code 0.
 */
async function npxServe(args: string[]): Promise<void> {
  const child = spawn('npx', [...args, '--port', '0'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let pid: number | undefined;
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const listening = /listening on (http:\/\/\S+) \(pid (\d+)/.exec(stdout);
        if (listening !== null && stdout.includes('genir serve: ready')) {
          pid = Number(listening[2]);
          resolve(listening[1]);
        }
      });
      void exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code} before serving\n${stderr.slice(-3000)}`)));
    });
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>genir search<\/title>/);
    const search = await fetch(`${url}/search?q=${encodeURIComponent('When was the university founded?')}&mode=hybrid`);
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { hits: unknown[] }).hits.length, 10);
    const json = stdout.split('\n').filter((line) => line.startsWith('{'));
    if (args.includes('--json')) assert.ok(json.length === 1, stdout);
  } finally {
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
    else child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr.slice(-3000));
}

for (const command of commands) {
  // Placeholders such as <dir> or … are for the reader to fill in, not runnable as written.
  if (/[<>…]/.test(command)) continue;
  if (command.includes(' --serve') || command.startsWith('npx genir serve ')) {
    test(`README: ${command}`, { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false, timeout: 20 * 60_000 }, () =>
      npxServe(shellWords(command)),
    );
    continue;
  }
  test(`README: ${command}`, { skip: dataDir === undefined ? 'GENIR_DATA_DIR is not set' : false, timeout: 20 * 60_000 }, async () => {
    const result = await npx(shellWords(command));
    assert.equal(result.code, 0, `${command}\n${result.stderr}`);
    const lines = result.stdout.trimEnd().split('\n');
    assert.ok(result.stdout.trim().length > 0, `${command} printed nothing`);
    if (command.includes('--json')) {
      const last = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
      if (command.startsWith('npx genir quickstart')) {
        const genir = last.genir as Record<string, number>;
        const bm25 = last.bm25 as Record<string, number>;
        // BM25's floor catches a broken pipeline; GenIR's is issue 10's target for the quickstart
        // (at least 0.9 × BM25's RR@10; measured 0.94 against 0.96, docs/results.md).
        assert.ok(bm25['RR@10'] > 0.9, JSON.stringify(last));
        assert.ok(genir['RR@10'] >= 0.9 * bm25['RR@10'], JSON.stringify(last));
      }
    }
  });
}
