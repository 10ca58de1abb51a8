import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
const cliEntry = join(dirname(here), fromSource ? 'main.ts' : 'main.js');

/**
 * Runs the `genir` command line in a child process, for tests: the compiled entry when the
 * tests run from dist/ (fast start), the TypeScript source under tsx otherwise.
 * `env` entries are added to (or, when undefined, kept from) the current environment.
 */
export function runGenir(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  const argv = [...(fromSource ? ['--import', 'tsx'] : []), cliEntry, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
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
  const child = spawn(process.execPath, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}
