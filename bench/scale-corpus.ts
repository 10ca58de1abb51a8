/**
 * Synthetic corpora for the scale bench (bench:scale): documents drawn from a real corpus's
 * word distribution and document-length distribution, any number of them, seeded, each
 * document reproducible on its own (so a query's answer can be regenerated without keeping
 * the corpus), with queries whose answer is known.
 *
 * Words are the real corpus's whitespace-separated words as written (the analyzer sees real
 * punctuation, casing and stop words), sampled by frequency with Walker's alias method; lengths
 * are sampled from the real documents' word counts. The vocabulary is bounded by the real
 * corpora's, so past a few hundred thousand documents it grows more slowly than a real
 * collection's would (Heaps' law): postings lists get longer rather than the term dictionary
 * larger.
 */
import type { Document } from '../src/data/types.js';
import { Rng } from '../src/util/random.js';

export interface CorpusModel {
  /** Distinct words, most frequent first. */
  readonly words: readonly string[];
  /** Corpus frequency of each word. */
  readonly counts: Uint32Array;
  /** Word counts of the real documents. */
  readonly lengths: Int32Array;
  /** Alias table over `words` (probability of keeping the drawn slot, and its alias). */
  readonly keep: Float64Array;
  readonly alias: Int32Array;
}

/** Word and length distributions of real texts (title and text of each document). */
export function corpusModel(texts: Iterable<string>): CorpusModel {
  const frequency = new Map<string, number>();
  const lengths: number[] = [];
  for (const text of texts) {
    let length = 0;
    for (const word of text.split(/\s+/)) {
      if (word === '') continue;
      frequency.set(word, (frequency.get(word) ?? 0) + 1);
      length++;
    }
    if (length > 0) lengths.push(length);
  }
  if (lengths.length === 0) throw new Error('corpusModel: no words in the texts');
  const entries = [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const words = entries.map(([word]) => word);
  const counts = Uint32Array.from(entries, ([, count]) => count);
  const { keep, alias } = aliasTable(counts);
  return { words, counts, lengths: Int32Array.from(lengths), keep, alias };
}

/** Walker's alias method: O(1) draws from a discrete distribution with these weights. */
function aliasTable(weights: ArrayLike<number>): { keep: Float64Array; alias: Int32Array } {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  const scaled = Float64Array.from({ length: n }, (_, i) => (weights[i] * n) / total);
  const keep = new Float64Array(n).fill(1);
  const alias = Int32Array.from({ length: n }, (_, i) => i);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i);
  while (small.length > 0 && large.length > 0) {
    const under = small.pop() as number;
    const over = large[large.length - 1];
    keep[under] = scaled[under];
    alias[under] = over;
    scaled[over] -= 1 - scaled[under];
    if (scaled[over] < 1) {
      large.pop();
      small.push(over);
    }
  }
  return { keep, alias };
}

/** The generator of document `index` of a corpus seeded with `seed`: independent of every other document. */
function documentRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

/** Word ids of document `index` (reproducible from the seed and index alone). */
export function documentWords(model: CorpusModel, seed: number, index: number): Int32Array {
  const rng = documentRng(seed, index);
  const length = model.lengths[rng.int(model.lengths.length)];
  const ids = new Int32Array(length);
  const n = model.words.length;
  for (let i = 0; i < length; i++) {
    const slot = rng.int(n);
    ids[i] = rng.next() < model.keep[slot] ? slot : model.alias[slot];
  }
  return ids;
}

export function generatedDocument(model: CorpusModel, seed: number, index: number): Document {
  const ids = documentWords(model, seed, index);
  const words = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) words[i] = model.words[ids[i]];
  return { id: `g${index}`, title: '', text: words.join(' ') };
}

/** Documents 0 … count − 1 of the seeded corpus, generated as they are read. */
export function* generateCorpus(model: CorpusModel, count: number, seed: number): Generator<Document> {
  for (let index = 0; index < count; index++) yield generatedDocument(model, seed, index);
}

export interface KnownAnswerQuery {
  id: string;
  text: string;
  /** The document the query was made from. */
  answer: string;
}

/**
 * `count` queries, each made of the `words` rarest distinct words (by corpus frequency) of a
 * document drawn at random: that document is the expected best answer.
 */
export function knownAnswerQueries(model: CorpusModel, corpusSize: number, seed: number, count: number, words = 4): KnownAnswerQuery[] {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const queries: KnownAnswerQuery[] = [];
  for (let q = 0; q < count; q++) {
    const index = rng.int(corpusSize);
    // Word ids are frequency ranks: the largest ids are the rarest words.
    const distinct = [...new Set(documentWords(model, seed, index))].sort((a, b) => b - a).slice(0, words);
    queries.push({ id: `q${q}`, text: distinct.map((id) => model.words[id]).join(' '), answer: `g${index}` });
  }
  return queries;
}
