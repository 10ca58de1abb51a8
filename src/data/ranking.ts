/**
 * The order trec_eval ranks a run in. trec_eval ignores the rank column of a run
 * file and sorts each query's documents itself (form_res_rels.c, comp_sim_docno):
 * by score descending, ties by document id descending under strcmp, i.e. by
 * UTF-8 bytes. Every metric and every run writer in genir goes through this order,
 * so a run written by genir and scored by trec_eval gives the same numbers.
 */
import type { RunEntry } from './types.js';

/**
 * Compares two strings as strcmp compares their UTF-8 bytes (= code point order).
 * JavaScript's `<` compares UTF-16 code units, which differs for characters at or
 * above U+D800: a surrogate pair (U+10000 and up) must sort after U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** Negative when `a` ranks before `b`: higher score first, then larger document id first. */
export function compareTrecOrder(a: RunEntry, b: RunEntry): number {
  if (a.score > b.score) return -1;
  if (a.score < b.score) return 1;
  return compareUtf8(b.docId, a.docId);
}

/**
 * The entries in trec_eval's order. Returns `entries` itself when it is already in
 * that order (runs from genir's searchers usually are), otherwise a sorted copy;
 * the input is never modified.
 */
export function sortRanking(entries: readonly RunEntry[]): readonly RunEntry[] {
  for (let i = 1; i < entries.length; i++) {
    if (compareTrecOrder(entries[i - 1], entries[i]) > 0) return entries.slice().sort(compareTrecOrder);
  }
  return entries;
}
