/**
 * Temporary paths that name their owner (host and process id), so that they are removed when
 * the process is interrupted (SIGINT, SIGTERM, SIGHUP) and, when it died without a chance to
 * clean up (SIGKILL, power loss), swept by the next process that looks: a temporary whose
 * owner is not alive on this host is garbage. Another host's temporaries (a cache on a shared
 * file system) are never touched, since their process ids mean nothing here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

let cachedHostTag: string | undefined;

/** Eight hex digits standing for this host in temporary names. */
export function hostTag(): string {
  return (cachedHostTag ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 8));
}

/** `<dir>/<prefix><host>-<pid>-<random>`: a fresh temporary path owned by this process. */
export function ownedTempPath(dir: string, prefix: string): string {
  return join(dir, `${prefix}${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export interface OwnedTemp {
  name: string;
  path: string;
  pid: number;
  /** Whatever follows the owner part of the name (e.g. `.old-scifact`), '' for none. */
  suffix: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a process with this id exists (one of another user's counts: EPERM). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The entries of `dir` named by `ownedTempPath(dir, prefix)` on this host whose process is gone. */
export async function deadTemps(dir: string, prefix: string): Promise<OwnedTemp[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${escapeRegExp(prefix)}([0-9a-f]{8})-(\\d+)-[0-9a-f]{8}(.*)$`);
  const dead: OwnedTemp[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null || match[1] !== hostTag()) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    dead.push({ name, path: join(dir, name), pid, suffix: match[3] });
  }
  return dead;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const registered = new Set<string>();

function removeAllSync(): void {
  for (const path of registered) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Best effort while the process is going down; the next start sweeps what is left.
    }
  }
  registered.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAllSync();
  uninstall();
  // Die of the signal as if no handler had been installed (exit status 128 + n), unless
  // another part of the program also listens and so decides itself how to end.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', removeAllSync);
}

function uninstall(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener('exit', removeAllSync);
}

/**
 * Removes `path` (file or folder) if the process is interrupted or exits before the returned
 * function is called. Signal handlers are installed only while something is registered, so
 * the default behaviour of Ctrl-C is back as soon as there is nothing to clean.
 */
export function removeOnInterrupt(path: string): () => void {
  if (registered.size === 0) install();
  registered.add(path);
  return () => {
    if (!registered.delete(path)) return;
    if (registered.size === 0) uninstall();
  };
}
