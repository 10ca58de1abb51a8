/**
 * Keys and the folder of genir's on-disk caches (pseudo-queries, triples, the stages of a training
 * run, the experiments' trained models): every stage that caches derived data names it by a hash
 * of everything that determines it.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where genir caches derived data: `GENIR_CACHE_DIR`, else `~/.cache/genir`. */
export function resolveCacheDir(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const fromEnv = process.env.GENIR_CACHE_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(homedir(), '.cache', 'genir');
}

/** A stable hash of a JSON-serialisable description (object keys sorted). */
export function cacheKey(description: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(description)))
    .digest('hex')
    .slice(0, 24);
}

/** A digest of many strings, for cache keys that must change when the data does. */
export function textsDigest(texts: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const text of texts) hash.update(text).update('\u0000');
  return hash.digest('hex').slice(0, 24);
}
