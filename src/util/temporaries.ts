/**
 * Temporary files and directories must not outlive the process that made them.
 *
 * - `removeOnExit(path)` / `onExitCleanup(action)` register a temporary (or any synchronous
 *   cleanup) until the returned `release()` is called. Whatever is still registered is removed
 *   when the process exits, and on SIGINT or SIGTERM, after which the process exits with
 *   128 + the signal number (130, 143), as the default action would have ended it.
 * - `sweepStaleTemporaries(dir)` removes temporaries left by processes that no longer run
 *   (SIGKILL, a crash of Node itself, power loss): their names carry the pid of the writer.
 *
 * The signal handlers are installed only while something is registered, so a process with
 * nothing to clean up keeps Node's default behaviour (an immediate exit, even inside a long
 * synchronous computation). A handler runs when the event loop next gets a turn; a signal
 * that arrives in the same turn as the last release() is dropped with the handler (a second
 * one then takes the default action).
 */
import { readdirSync, rmSync, type Dirent } from 'node:fs';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { warn } from './errors.js';

/**
 * Names of genir's temporaries: `.<name>.<pid>.tmp` (checkpoint directories),
 * `.<name>.<pid>.<8 hex>.tmp` (atomic writes, model staging directories) and the same with
 * `.old` (a replaced directory moved aside). The pid is the named group `pid`.
 */
export const TEMPORARY_NAME = /^\..+?\.(?<pid>\d+)(?:\.[0-9a-f]{8})?\.tmp(?:\.old)?$/;

const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

interface Registration {
  action: () => void;
}

const registrations = new Set<Registration>();
/** Paths registered by removeOnExit, with how many registrations hold each. */
const registeredPaths = new Map<string, number>();
let installed = false;

/**
 * Runs `action` (synchronous) when the process exits or is interrupted by SIGINT/SIGTERM,
 * unless `release()` was called first. Actions run newest first.
 */
export function onExitCleanup(action: () => void): () => void {
  const registration: Registration = { action };
  registrations.add(registration);
  install();
  return () => {
    if (!registrations.delete(registration)) return;
    if (registrations.size === 0) uninstall();
  };
}

/** Removes `path` (a file or a directory tree) when the process exits or is interrupted, unless released first. */
export function removeOnExit(path: string): () => void {
  const full = resolve(path);
  registeredPaths.set(full, (registeredPaths.get(full) ?? 0) + 1);
  const releaseAction = onExitCleanup(() => rmSync(full, { recursive: true, force: true }));
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const holders = (registeredPaths.get(full) ?? 1) - 1;
    if (holders > 0) registeredPaths.set(full, holders);
    else registeredPaths.delete(full);
    releaseAction();
  };
}

/** Runs every registered cleanup now (newest first) and forgets them; errors are ignored because the process is ending. */
function runCleanups(): void {
  const pending = [...registrations].reverse();
  registrations.clear();
  registeredPaths.clear();
  uninstall();
  for (const registration of pending) {
    try {
      registration.action();
    } catch {
      // Best effort: a temporary that cannot be removed now is swept by the next run.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  // A host program that listens to the signal too decides itself whether the process ends.
  if (process.listenerCount(signal) > 0) return;
  // On a terminal the line may follow a progress bar's unfinished line.
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}genir: interrupted by ${signal}\n`);
  process.exit(128 + constants.signals[signal]);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  process.on('exit', runCleanups);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  process.off('exit', runCleanups);
}

/** Whether the process that wrote a temporary named with `pid` may still be using it. */
function writerAlive(pid: number, path: string): boolean {
  // This process's own temporaries are registered while in use; an unregistered one with
  // this pid was left by an earlier process that had the same pid (common in containers).
  if (pid === process.pid) return registeredPaths.has(resolve(path));
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` whose name matches `pattern` (which must capture the writer's
 * pid as the named group `pid`) and whose writer no longer runs. Entries of live processes,
 * and names that do not match, are left alone; a missing `dir` is nothing to sweep.
 * `recursive` also sweeps inside the subdirectories that are kept. Returns the removed paths.
 */
export function sweepStaleTemporaries(dir: string, pattern: RegExp = TEMPORARY_NAME, options: { recursive?: boolean } = {}): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const match = pattern.exec(entry.name);
    if (match !== null) {
      if (match.groups?.pid === undefined) throw new Error(`sweepStaleTemporaries: pattern ${String(pattern)} has no named group 'pid'`);
      const pid = Number(match.groups.pid);
      if (Number.isSafeInteger(pid) && pid > 0 && !writerAlive(pid, path)) {
        try {
          rmSync(path, { recursive: true, force: true });
          removed.push(path);
        } catch (err) {
          warn(`${path}: cannot remove this temporary left by process ${pid} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
        continue;
      }
    }
    if (options.recursive && entry.isDirectory()) removed.push(...sweepStaleTemporaries(path, pattern, options));
  }
  return removed;
}
