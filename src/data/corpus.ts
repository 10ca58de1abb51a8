import { UserError, warn, where } from '../util/errors.js';
import type { Document, Qrels, Query } from './types.js';

/** Ids seen so far in one file: a repeated id is a UserError naming the file and line. */
class IdTracker {
  protected readonly seen = new Set<string>();

  constructor(
    protected readonly path: string,
    private readonly what: string,
  ) {}

  add(id: string, lineNo?: number): void {
    if (this.seen.has(id)) throw new UserError(`${where(this.path, lineNo)}duplicate ${this.what} id '${id}'`);
    this.seen.add(id);
  }
}

/**
 * Tracks document ids while a corpus streams by: a repeated id is a UserError naming
 * the file and line, and the finished id set is kept so qrels can be checked against it.
 */
export class DocIdTracker extends IdTracker {
  constructor(path: string) {
    super(path, 'document');
  }

  /** Call once the corpus has been read to the end; an empty corpus is a UserError. */
  finish(): Set<string> {
    if (this.seen.size === 0) throw new UserError(`${this.path}: empty corpus (no documents)`);
    return this.seen;
  }
}

/** Same check for query files: a repeated query id is a UserError. */
export class QueryIdTracker extends IdTracker {
  constructor(path: string) {
    super(path, 'query');
  }
}

/**
 * Warns once, with the count, when judgments name documents that are not in the corpus.
 * The judgments are kept: trec_eval counts them as relevant too (they lower recall), and
 * dropping them silently would make scores look better than the published ones.
 * Returns how many judgments were unknown.
 */
export function warnUnknownJudgedDocs(qrels: Qrels, docIds: ReadonlySet<string>, source: string): number {
  let unknown = 0;
  let example = '';
  for (const [queryId, judged] of qrels) {
    for (const docId of judged.keys()) {
      if (!docIds.has(docId)) {
        unknown += 1;
        if (example === '') example = `${queryId} → ${docId}`;
      }
    }
  }
  if (unknown > 0) {
    warn(
      `${source}: ${unknown} judgment${unknown === 1 ? '' : 's'} name documents that are not in the corpus (first: ${example}); kept as judged`,
    );
  }
  return unknown;
}

/** Keeps the queries that have judgments in `qrels`, in their original order (as BEIR does). */
export function judgedQueries(all: readonly Query[], qrels: Qrels): Query[] {
  return all.filter((query) => qrels.has(query.id));
}

/** Caches one promise per key, so each file is parsed once per Dataset object. */
export class Memo<T> {
  private readonly cache = new Map<string, Promise<T>>();

  get(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.cache.get(key);
    if (value === undefined) {
      value = compute();
      // A failed load is not cached, so a later call reports the error again.
      value.catch(() => this.cache.delete(key));
      this.cache.set(key, value);
    }
    return value;
  }
}

/** Yields documents from an in-memory array (small corpora parsed from one JSON file). */
export async function* fromArray(docs: readonly Document[]): AsyncGenerator<Document> {
  for (const doc of docs) yield doc;
}

/** A UserError for an unknown split, listing the ones that exist. */
export function unknownSplit(datasetId: string, split: string, splits: readonly string[]): UserError {
  return new UserError(`${datasetId}: unknown split '${split}' (available: ${splits.join(', ')})`);
}
