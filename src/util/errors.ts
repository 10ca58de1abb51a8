/**
 * A mistake the user can fix (bad file, unknown id, wrong option). The CLI prints
 * its message on one line and exits with code 2, without a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode = 2;
}

/** A command-line mistake (Commander's, or a command's own): one line, and where the command's help is. */
export class UsageError extends UserError {
  constructor(
    message: string,
    /** The command whose help to see, e.g. `genir train sft`. */
    readonly command: string,
  ) {
    super(message);
  }
}

/** Formats a location prefix such as `corpus.jsonl:17: ` for error messages. */
export function where(file: string, line?: number): string {
  return line === undefined ? `${file}: ` : `${file}:${line}: `;
}

/** Prints a warning on stderr (one line, prefixed so scripts can grep it). */
export function warn(message: string): void {
  process.stderr.write(`genir: warning: ${message}\n`);
}

/** What each filesystem error code a user can cause or fix means, in words. */
const FILE_SYSTEM_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EXDEV: 'cannot move across file systems',
  EBUSY: 'resource busy',
  ETXTBSY: 'file busy',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** A Node filesystem error (`code` such as ENOENT or EACCES, usually with the `path` it concerns). */
export type FileSystemError = NodeJS.ErrnoException & { code: string };

export function isFileSystemError(err: unknown): err is FileSystemError {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (err as NodeJS.ErrnoException).code! in FILE_SYSTEM_REASONS
  );
}

/** The reason of a filesystem error in words (`permission denied`), for one-line messages. */
export function fileSystemReason(err: FileSystemError): string {
  return FILE_SYSTEM_REASONS[err.code];
}

/**
 * One line for a filesystem error: `<path>: <reason>`, with the rename destination when there
 * is one, or the failed operation when the error names no path (a write to an open file).
 */
export function describeFileSystemError(err: FileSystemError): string {
  const reason = fileSystemReason(err);
  if (err.path === undefined) return `${reason}${err.syscall === undefined ? '' : ` (${err.syscall})`}`;
  const dest = (err as { dest?: unknown }).dest;
  return typeof dest === 'string' ? `${err.path} → ${dest}: ${reason}` : `${err.path}: ${reason}`;
}
