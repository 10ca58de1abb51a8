import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { removeOnExit } from './temporaries.js';

/**
 * A temp path in the same directory as `target`, so the final rename is atomic. The name
 * carries this process's pid, so a later run can tell a stale one (sweepStaleTemporaries).
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes a whole file through a temp file and a rename: readers never see half a file. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  // Asynchronous, so a signal can arrive while the temp file exists.
  const release = removeOnExit(tmp);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  } finally {
    release();
  }
}

/**
 * A write stream to a temp file; `commit()` closes it and renames it into place,
 * `abort()` closes it and deletes it. For artifacts too large to hold as one string.
 */
export class AtomicWriteStream {
  readonly stream: WriteStream;
  private readonly tmp: string;
  private readonly release: () => void;

  constructor(readonly target: string) {
    this.tmp = tempPathFor(target);
    this.release = removeOnExit(this.tmp);
    this.stream = createWriteStream(this.tmp);
  }

  write(chunk: string | Uint8Array): Promise<void> {
    if (this.stream.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }

  async commit(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await fsp.rename(this.tmp, this.target);
    this.release();
  }

  async abort(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    await fsp.rm(this.tmp, { force: true });
    this.release();
  }
}
