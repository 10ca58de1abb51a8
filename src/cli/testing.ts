import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
// Compiled tests (dist/src/cli/testing.js) start the installed command's own entry, bin/genir.js.
const cliEntry = fromSource ? join(dirname(here), 'main.ts') : join(dirname(here), '..', '..', '..', 'bin', 'genir.js');

/**
 * Runs the `genir` command line in a child process, for tests: the installed bin's entry when the
 * tests run from dist/ (fast start), the TypeScript source under tsx otherwise.
 * `env` entries are added to (or, when undefined, kept from) the current environment; `input`
 * is written to its stdin. A crash reports 128 + the signal number as a shell does (139: SIGSEGV).
 */
export function runGenir(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  const argv = [...(fromSource ? ['--import', 'tsx'] : []), cliEntry, ...args];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      argv,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // A process killed by a signal (a crash) has no exit code; 128 + signal number is what a shell reports.
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : error.signal ? 128 + osConstants.signals[error.signal] : -1;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Settles when the process has exited and its output is read; `code` is null and `signal` set when a signal killed it. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the `genir` command line in a child process without waiting for it, for tests that signal it while it runs. */
export function spawnGenir(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): SpawnedCli {
  const argv = [...(fromSource ? ['--import', 'tsx'] : []), cliEntry, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export interface ServedGenir {
  /** http://127.0.0.1:port, from the server's "listening on" line. */
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (128 + signal number when killed by a signal). */
  exited: Promise<number>;
}

/**
 * Starts `genir serve <args>` (pass `--port 0`) in a child process and resolves once it prints
 * its "ready" line; rejects with its output if it exits or stays silent for `timeoutMs`.
 */
export function serveGenir(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ServedGenir> {
  const argv = [...(fromSource ? ['--import', 'tsx'] : []), cliEntry, 'serve', ...args];
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + osConstants.signals[signal] : -1))),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`genir serve did not become ready in ${options.timeoutMs ?? 60_000} ms; stdout: ${out} stderr: ${err}`));
    }, options.timeoutMs ?? 60_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url !== undefined && /genir serve: ready/.test(out)) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve({ url, child, stdout: () => out, stderr: () => err, exited });
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`genir serve exited with ${code} before it was ready; stdout: ${out} stderr: ${err}`));
    });
  });
}

/** `genir train sft` of a tiny model with `docids` on `dataset` into `out`, then `extra` (e.g. toyTrainingFlags). */
export function trainSftArgs(dataset: string, docids: string, out: string, extra: readonly string[] = []): string[] {
  return ['train', 'sft', '--dataset', dataset, '--docids', docids, '--model', 'tiny', '--out', out, ...extra];
}
