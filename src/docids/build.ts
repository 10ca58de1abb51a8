/**
 * Builds the docids of a corpus under one of the four schemes; see table.ts for
 * the token space and docs/docids.md for the rules.
 */
import { performance } from 'node:perf_hooks';
import type { Document } from '../data/types.js';
import { getAnalyzer } from '../text/analyzers/index.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { alignVectors, l2NormalizeRows, lsaEmbeddings, readVectorFile, type DocVectors } from './embeddings.js';
import { hierarchicalCodes } from './hierarchical.js';
import { encodePq, trainPq } from './pq.js';
import { distinctFraction, rqDistortion, trainRq } from './rq.js';
import { keywordTexts } from './keywords.js';
import { DOCID_SCHEMES, DocidTable, isTextScheme, type DocidParams, type DocidScheme } from './table.js';
import { multilingualAnalyze, type Analyze } from './tfidf.js';
import { titleTexts } from './title.js';

export type EmbeddingSource =
  /**
   * Built in: TF-IDF → randomized truncated SVD (default). The default analyzer is the
   * BM25 `english` one for an English corpus, else `multilingual` with each document's language.
   */
  | { kind: 'lsa'; dims?: number; analyze?: Analyze; powerIterations?: number }
  /** A user's file: `.npy` (+ ids file) or JSONL `{"id", "vector"}`. */
  | { kind: 'file'; path: string; idsPath?: string }
  /** Vectors already in memory, one row per id. */
  | { kind: 'vectors'; ids: readonly string[]; dim: number; vectors: Float32Array };

export interface BuildDocidsOptions {
  scheme: DocidScheme;
  /** Size of the text tokenizer's vocabulary: docid tokens start here. */
  textVocabSize: number;
  /** The text tokenizer's end-of-sequence id; ends every docid. */
  eosId: number;
  seed?: number;
  /**
   * `relevanceId`: documents sharing a relevance id (the 12 translations of an XQuAD
   * paragraph) share one docid, keyed by that id; the member in `preferLang` (else the
   * first) stands for the group. Default `id`: one docid per document.
   */
  groupBy?: 'id' | 'relevanceId';
  preferLang?: string;
  /** PQ / RQ / semantic only. Default `{ kind: 'lsa' }`. */
  embeddings?: EmbeddingSource;
  /** L2-normalize vectors before quantizing (default true). */
  normalizeEmbeddings?: boolean;
  pq?: { m?: number; k?: number; maxIterations?: number; trainSample?: number };
  /** RQ: levels (default: as PQ's M, so both docids have the same length) and centroids per level (default: as PQ's K). */
  rq?: { levels?: number; k?: number; maxIterations?: number };
  /** RQ: receives each level's centroids (K × dim, row-major): RIPOR initialises the decoder's docid tokens from them. */
  onRqCodebook?: (centroids: readonly Float32Array[], dim: number) => void;
  semantic?: { k?: number; leafSize?: number; maxIterations?: number; trainSample?: number };
  /** Title and keywords: the model's tokenizer. A trailing EOS in its output is dropped. */
  encode?: (text: string) => ArrayLike<number>;
  /** Title only: a document's URL, when the corpus has them. */
  urlOf?: (doc: Document) => string | undefined;
  /** Title and keywords: text tokens kept before EOS (DDRO: 99). */
  titleMaxTokens?: number;
  /** Keywords only: TF-IDF words after the title (default 3). */
  keywords?: number;
  /**
   * Told the seconds each stage took as it ends: `embeddings` (PQ, RQ, semantic), `codes` (the
   * scheme's codes, embeddings excluded), `table` (disambiguation, the table and its trie).
   */
  onStage?: (stage: 'embeddings' | 'codes' | 'table', seconds: number) => void;
}

/** K = the power of two ≤ N/4, within [2, 256]. */
export function defaultPqK(documents: number): number {
  const quarter = Math.max(1, documents / 4);
  return Math.min(256, Math.max(2, 2 ** Math.floor(Math.log2(quarter))));
}

/**
 * M = ⌈4·log2(N) / log2(K)⌉, within [2, 24] and at most the vector dimension: four
 * times the bits needed to tell N documents apart, because PQ codes of similar
 * documents are far from independent (measured on squad-dev, 2,067 paragraphs,
 * K = 256: 2× the bits leaves 14 % of documents colliding, 4× about 1 %).
 */
export function defaultPqM(documents: number, k: number, dim: number): number {
  const wanted = Math.ceil((4 * Math.log2(Math.max(2, documents))) / Math.log2(k));
  return Math.max(1, Math.min(dim, 24, Math.max(2, wanted)));
}

interface Entry {
  key: string;
  doc: Document;
}

function groupDocuments(docs: readonly Document[], groupBy: 'id' | 'relevanceId', preferLang: string): Entry[] {
  const entries: Entry[] = [];
  const byKey = new Map<string, Entry>();
  for (const doc of docs) {
    const key = groupBy === 'relevanceId' ? (doc.relevanceId ?? doc.id) : doc.id;
    const existing = byKey.get(key);
    if (existing) {
      if (groupBy === 'id') throw new UserError(`corpus: duplicate document id '${key}'`);
      if (doc.lang === preferLang && existing.doc.lang !== preferLang) existing.doc = doc;
      continue;
    }
    const entry = { key, doc };
    byKey.set(key, entry);
    entries.push(entry);
  }
  return entries;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UserError(`docids: ${name} must be a positive integer, got ${value}`);
  return value;
}

function embed(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): DocVectors {
  const start = performance.now();
  const vectors = embedVectors(entries, options, params);
  options.onStage?.('embeddings', (performance.now() - start) / 1000);
  return vectors;
}

function embedVectors(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): DocVectors {
  const source = options.embeddings ?? { kind: 'lsa' };
  let vectors: DocVectors;
  const keys = entries.map((e) => e.key);
  if (source.kind === 'lsa') {
    // A title-less document's text as it is: concatenating would hold a second (flattened) copy of every text, 1 GB at 1M documents.
    const texts = entries.map(({ doc }) => (doc.title ? `${doc.title}\n${doc.text}` : doc.text));
    const langs = entries.map(({ doc }) => doc.lang);
    let analyze = source.analyze;
    if (!analyze) {
      const english = langs.every((lang) => lang === undefined || lang === 'en');
      if (english) {
        const analyzer = getAnalyzer('english');
        analyze = (text) => analyzer.analyze(text);
      } else {
        analyze = multilingualAnalyze();
      }
      params.analyzer = english ? 'english' : 'multilingual';
    }
    vectors = lsaEmbeddings(texts, { dims: source.dims, seed: options.seed, analyze, langs, powerIterations: source.powerIterations });
    params.embeddings = 'lsa';
  } else if (source.kind === 'file') {
    vectors = alignVectors(readVectorFile(source.path, source.idsPath), keys);
    params.embeddings = `file:${source.path}`;
  } else {
    if (source.vectors.length !== source.ids.length * source.dim) {
      throw new UserError(`docids: ${source.ids.length} ids × ${source.dim} dims does not match ${source.vectors.length} values`);
    }
    vectors = alignVectors({ file: 'embeddings', ids: [...source.ids], dim: source.dim, vectors: source.vectors }, keys);
    params.embeddings = 'vectors';
  }
  if (options.normalizeEmbeddings ?? true) l2NormalizeRows(vectors.vectors, entries.length, vectors.dim);
  params.dim = vectors.dim;
  return vectors;
}

/** Scheme codes as docid-space (or, for titles, text-space) tokens, before disambiguation. */
interface Codes {
  sequences: number[][];
  codeVocabSize: number;
  labels?: string[];
}

function pqCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const n = entries.length;
  const { dim, vectors } = embed(entries, options, params);
  const k = positiveInteger(options.pq?.k ?? defaultPqK(n), 'PQ K');
  if (k > 65_536) throw new UserError(`docids: PQ K must be ≤ 65536, got ${k}`);
  const m = positiveInteger(options.pq?.m ?? defaultPqM(n, k, dim), 'PQ M');
  if (m > dim) throw new UserError(`docids: PQ M (${m}) cannot exceed the embedding dimension (${dim})`);
  const codebook = trainPq(vectors, n, dim, {
    m,
    k,
    seed: options.seed,
    maxIterations: options.pq?.maxIterations,
    trainSample: options.pq?.trainSample,
  });
  const codes = encodePq(codebook, vectors, n);
  Object.assign(params, { m, k });
  const sequences = entries.map((_, i) => Array.from({ length: m }, (_, j) => j * k + codes[i * m + j]));
  return { sequences, codeVocabSize: m * k };
}

function rqCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const n = entries.length;
  const { dim, vectors } = embed(entries, options, params);
  const k = positiveInteger(options.rq?.k ?? defaultPqK(n), 'RQ K');
  if (k > 65_536) throw new UserError(`docids: RQ K must be ≤ 65536, got ${k}`);
  const levels = positiveInteger(options.rq?.levels ?? Math.min(32, defaultPqM(n, k, Math.max(dim, 24))), 'RQ levels');
  const { codebook, codes } = trainRq(vectors, n, dim, { levels, k, seed: options.seed, maxIterations: options.rq?.maxIterations });
  let energy = 0;
  for (let i = 0; i < n * dim; i++) energy += vectors[i] ** 2;
  const error = rqDistortion(codebook, vectors, codes, n);
  // Reported beside the docids: how many documents the codes alone tell apart, and how much of the vectors they keep.
  Object.assign(params, {
    levels,
    k,
    distinctFraction: distinctFraction(codes, n, levels),
    reconstructionError: error,
    relativeError: energy === 0 ? 0 : error / (energy / n),
  });
  const sequences = entries.map((_, i) => Array.from({ length: levels }, (_, l) => l * k + codes[i * levels + l]));
  options.onRqCodebook?.(codebook.centroids, dim);
  return { sequences, codeVocabSize: levels * k };
}

function semanticCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const n = entries.length;
  const { dim, vectors } = embed(entries, options, params);
  const k = positiveInteger(options.semantic?.k ?? 10, 'semantic k');
  if (k < 2) throw new UserError('docids: semantic k must be at least 2');
  const leafSize = positiveInteger(options.semantic?.leafSize ?? 100, 'semantic leaf size');
  const codes = hierarchicalCodes(vectors, n, dim, {
    k,
    leafSize,
    seed: options.seed,
    maxIterations: options.semantic?.maxIterations,
    trainSample: options.semantic?.trainSample,
  });
  const radix = Math.max(k, leafSize);
  const positions = codes.reduce((most, code) => Math.max(most, code.length), 0);
  Object.assign(params, { k, leafSize, radix, positions });
  const sequences = codes.map((code) => code.map((value, j) => j * radix + value));
  return { sequences, codeVocabSize: positions * radix };
}

/**
 * Shuffled numeric docids (DSI's unstructured baseline): each document gets a distinct number from a
 * seeded random permutation, written in decimal with one digit per position (position j, digit d →
 * token j·10 + d), so the docid carries no information about the document.
 */
function numericCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const n = entries.length;
  const positions = Math.max(1, Math.ceil(Math.log10(n)));
  const numbers = new Rng(options.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
  Object.assign(params, { radix: 10, positions });
  const sequences = numbers.map((number) =>
    Array.from({ length: positions }, (_, j) => j * 10 + (Math.floor(number / 10 ** (positions - 1 - j)) % 10)),
  );
  return { sequences, codeVocabSize: positions * 10 };
}

function titleCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const labels = titleTexts(
    entries.map((e) => e.doc),
    options.urlOf,
  );
  return textCodes(labels, options, params);
}

function keywordCodes(entries: Entry[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const count = positiveInteger(options.keywords ?? 3, 'keywords per docid');
  params.keywords = count;
  return textCodes(
    keywordTexts(
      entries.map((e) => e.doc),
      count,
    ),
    options,
    params,
  );
}

/** Docid texts as text-tokenizer ids (title and keywords schemes). */
function textCodes(labels: string[], options: BuildDocidsOptions, params: DocidParams): Codes {
  const { encode, eosId, textVocabSize } = options;
  if (!encode) throw new Error(`docids: the ${options.scheme} scheme needs the model tokenizer's encode function`);
  const maxTokens = positiveInteger(options.titleMaxTokens ?? 99, 'title max tokens');
  const sequences = labels.map((label) => {
    const ids = Array.from(encode(label));
    if (ids.length > 0 && ids[ids.length - 1] === eosId) ids.pop();
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= textVocabSize || id === eosId) {
        throw new Error(`docids: encode('${label}') returned id ${id}, outside the text vocabulary or EOS`);
      }
    }
    return ids.slice(0, maxTokens);
  });
  params.maxTokens = maxTokens;
  return { sequences, codeVocabSize: 0, labels };
}

/**
 * Builds docids for a corpus. Documents whose codes coincide (or are empty) each get
 * a disambiguating final token, their rank within the collision in corpus order.
 */
export async function buildDocids(corpus: Iterable<Document> | AsyncIterable<Document>, options: BuildDocidsOptions): Promise<DocidTable> {
  const { scheme, textVocabSize, eosId, seed = 0 } = options;
  if (!DOCID_SCHEMES.includes(scheme)) throw new UserError(`docids: unknown scheme '${scheme}' (expected ${DOCID_SCHEMES.join(', ')})`);
  if (!Number.isInteger(textVocabSize) || textVocabSize < 1) throw new Error(`docids: bad textVocabSize ${textVocabSize}`);
  if (!Number.isInteger(eosId) || eosId < 0 || eosId >= textVocabSize) throw new Error(`docids: bad eosId ${eosId}`);
  const docs: Document[] = [];
  for await (const doc of corpus) docs.push(doc);
  const entries = groupDocuments(docs, options.groupBy ?? 'id', options.preferLang ?? 'en');
  if (entries.length === 0) throw new UserError('docids: the corpus has no documents');

  const params: DocidParams = { seed, documents: entries.length, groupBy: options.groupBy ?? 'id' };
  let codes: Codes;
  const codesStart = performance.now();
  let embeddingSeconds = 0;
  // The codes stage reports its time without the embeddings' share.
  const staged: BuildDocidsOptions = {
    ...options,
    onStage: (stage, seconds) => {
      if (stage === 'embeddings') embeddingSeconds = seconds;
      options.onStage?.(stage, seconds);
    },
  };
  if (scheme === 'pq') codes = pqCodes(entries, staged, params);
  else if (scheme === 'rq') codes = rqCodes(entries, staged, params);
  else if (scheme === 'semantic') codes = semanticCodes(entries, staged, params);
  else if (scheme === 'title') codes = titleCodes(entries, options, params);
  else if (scheme === 'keywords') codes = keywordCodes(entries, options, params);
  else if (scheme === 'numeric') codes = numericCodes(entries, options, params);
  else codes = { sequences: entries.map((_, i) => [i]), codeVocabSize: entries.length };

  options.onStage?.('codes', (performance.now() - codesStart) / 1000 - embeddingSeconds);
  const tableStart = performance.now();
  // Code tokens of the non-text schemes live after the text vocabulary.
  const codeOffset = isTextScheme(scheme) ? 0 : textVocabSize;
  const groups = new Map<string, number[]>();
  codes.sequences.forEach((sequence, i) => {
    const signature = sequence.join(',');
    const members = groups.get(signature);
    if (members) members.push(i);
    else groups.set(signature, [i]);
  });
  const disambiguator = new Int32Array(entries.length).fill(-1);
  let disambiguators = 0;
  let collided = 0;
  for (const [signature, members] of groups) {
    if (members.length === 1 && signature !== '') continue;
    members.forEach((i, rank) => (disambiguator[i] = rank));
    disambiguators = Math.max(disambiguators, members.length);
    collided += members.length;
  }
  const offsets = new Int32Array(entries.length + 1);
  const tokens: number[] = [];
  codes.sequences.forEach((sequence, i) => {
    for (const token of sequence) tokens.push(codeOffset + token);
    if (disambiguator[i] >= 0) tokens.push(textVocabSize + codes.codeVocabSize + disambiguator[i]);
    tokens.push(eosId);
    offsets[i + 1] = tokens.length;
  });
  params.collided = collided;
  const table = new DocidTable({
    scheme,
    layout: { textVocabSize, eosId, codeVocabSize: codes.codeVocabSize, docidVocabSize: codes.codeVocabSize + disambiguators },
    keys: entries.map((e) => e.key),
    offsets,
    tokens: Int32Array.from(tokens),
    labels: codes.labels,
    params,
  });
  options.onStage?.('table', (performance.now() - tableStart) / 1000);
  return table;
}
