import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  openSync,
  promises as fsp,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
  type WriteStream,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UserError, fileSystemReason, isFileSystemError, type FileSystemError } from './errors.js';
import { removeOnExit } from './temporaries.js';

/** A temp path in the same directory as `target`, so the final rename is atomic. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // ENOTDIR: a part of the path is a file, so nothing exists there either.
    if (isFileSystemError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** The path itself or its closest ancestor that exists (as given: relative paths stay relative). */
function nearestExisting(path: string): { path: string; stats: Stats } {
  for (let current = path; ; current = dirname(current)) {
    const stats = statOrUndefined(current);
    if (stats !== undefined) return { path: current, stats };
    if (dirname(current) === current) throw new Error(`nearestExisting: no part of ${path} exists`);
  }
}

/** Creates and removes a file in `folder`: the one check that also catches read-only mounts and root-proof pseudo file systems. */
function probeCreate(folder: string): FileSystemError | undefined {
  const probe = tempPathFor(join(folder, 'genir-write-check'));
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
    return undefined;
  } catch (err) {
    if (isFileSystemError(err)) return err;
    throw err;
  }
}

/** Why a file cannot be written at `target` as far as the paths show (no write attempted), or undefined. */
function pathProblem(target: string): string | undefined {
  if (statOrUndefined(target)?.isDirectory()) return 'is a folder; give the path of a file';
  const folder = dirname(target);
  const existing = nearestExisting(folder);
  if (!existing.stats.isDirectory()) return `${existing.path} is a file, not a folder`;
  if (existing.path !== folder) return `folder ${folder} does not exist`;
  return undefined;
}

function label(path: string, option: string | undefined): string {
  return option === undefined ? path : `${option} ${path}`;
}

/**
 * Checks, before any expensive work, that a file can be written at `target`: it is not a
 * folder, its folder exists, and files can be created there. Throws a one-line UserError
 * naming the option (when given) and the path.
 */
export function checkWritableFile(target: string, option?: string): void {
  const problem = pathProblem(target);
  if (problem !== undefined) throw new UserError(`${label(target, option)}: ${problem}`);
  const failure = probeCreate(dirname(target));
  if (failure !== undefined)
    throw new UserError(`${label(target, option)}: cannot create files in ${dirname(target)} (${fileSystemReason(failure)})`, {
      cause: failure,
    });
}

/**
 * Checks, before any expensive work, that a folder can be written at `dir`: it is a folder
 * or can be created with its missing parents, and files can be created in it. With
 * `besideToo` the folder's parent must take new entries as well (model directories are
 * staged and trained beside their final place).
 */
export function checkWritableFolder(dir: string, options: { option?: string; besideToo?: boolean } = {}): void {
  const name = label(dir, options.option);
  const existing = nearestExisting(dir);
  if (!existing.stats.isDirectory())
    throw new UserError(`${name}: ${existing.path === dir ? 'is a file, not a folder' : `${existing.path} is a file, not a folder`}`);
  const folders = [existing.path];
  if (options.besideToo && existing.path === dir) folders.push(nearestExisting(dirname(dir)).path);
  for (const folder of folders) {
    const failure = probeCreate(folder);
    if (failure !== undefined)
      throw new UserError(`${name}: cannot create files in ${folder} (${fileSystemReason(failure)})`, { cause: failure });
  }
}

/**
 * A failed write as a one-line UserError naming `target` (not the temp file): why the path
 * cannot take a file when that can be seen, else the system's reason. Other errors pass through.
 */
function writeFailure(err: unknown, target: string): unknown {
  if (!isFileSystemError(err)) return err;
  let problem: string | undefined;
  try {
    problem = pathProblem(target);
  } catch {
    problem = undefined;
  }
  return new UserError(`${target}: ${problem ?? `cannot write (${fileSystemReason(err)})`}`, { cause: err });
}

/** Removes a temp file that may never have been created (its folder may not even exist). */
function removeTemp(tmp: string): void {
  try {
    rmSync(tmp, { force: true });
  } catch (err) {
    if (!isFileSystemError(err) || err.code !== 'ENOTDIR') throw err;
  }
}

/** Writes a whole file through a temp file and a rename: readers never see half a file. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    removeTemp(tmp);
    throw writeFailure(err, target);
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  // An await can be interrupted by a signal: the temp file is removed then too.
  const release = removeOnExit(tmp);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    removeTemp(tmp);
    throw writeFailure(err, target);
  } finally {
    release();
  }
}

/**
 * A write stream to a temp file; `commit()` closes it and renames it into place,
 * `abort()` closes it and deletes it. For artifacts too large to hold as one string.
 * The temp file is opened at construction, so a path that cannot take a file fails there,
 * before the caller computes anything; a later failure (disk full) rejects the next
 * `write()` or `commit()` instead of crashing the process with an unhandled 'error' event.
 */
export class AtomicWriteStream {
  readonly stream: WriteStream;
  private readonly tmp: string;
  private failure: unknown;
  private release: () => void = () => {};

  constructor(readonly target: string) {
    this.tmp = tempPathFor(target);
    if (statOrUndefined(target)?.isDirectory()) throw new UserError(`${target}: is a folder; give the path of a file`);
    let fd: number;
    try {
      fd = openSync(this.tmp, 'w');
    } catch (err) {
      throw writeFailure(err, target);
    }
    this.release = removeOnExit(this.tmp);
    this.stream = createWriteStream(this.tmp, { fd });
    this.stream.on('error', (err) => {
      this.failure ??= writeFailure(err, target);
    });
  }

  write(chunk: string | Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.stream.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = () => {
        this.stream.off('drain', onDrain);
        reject(this.failure);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  async commit(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    await new Promise<void>((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(this.failure ?? writeFailure(err, this.target)) : resolve())),
    );
    try {
      await fsp.rename(this.tmp, this.target);
    } catch (err) {
      throw writeFailure(err, this.target);
    }
    this.release();
  }

  async abort(): Promise<void> {
    if (!this.stream.closed) await new Promise<void>((resolve) => this.stream.destroy().once('close', () => resolve()));
    removeTemp(this.tmp);
    this.release();
  }
}

/**
 * Writes `lines` (each with its own line end) to `target` through an AtomicWriteStream, in chunks
 * of about 64 KiB; an error thrown while the lines are produced (a bad id) leaves no file.
 */
export async function writeLinesAtomic(target: string, lines: Iterable<string>): Promise<void> {
  const out = new AtomicWriteStream(target);
  try {
    let chunk = '';
    for (const line of lines) {
      chunk += line;
      if (chunk.length >= 1 << 16) {
        await out.write(chunk);
        chunk = '';
      }
    }
    await out.write(chunk);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}
