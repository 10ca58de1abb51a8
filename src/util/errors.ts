/**
 * A mistake the user can fix (bad file, unknown id, wrong option). The CLI prints
 * its message on one line and exits with code 2, without a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode = 2;
}

/** Formats a location prefix such as `corpus.jsonl:17: ` for error messages. */
export function where(file: string, line?: number): string {
  return line === undefined ? `${file}: ` : `${file}:${line}: `;
}

/** Prints a warning on stderr (one line, prefixed so scripts can grep it). */
export function warn(message: string): void {
  process.stderr.write(`genir: warning: ${message}\n`);
}
