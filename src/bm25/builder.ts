import type { Document } from '../data/types.js';
import { compareUtf8 } from '../data/ranking.js';
import type { Analyzer } from '../text/analyzers/types.js';
import { UserError } from '../util/errors.js';
import { progressBar } from '../util/progress.js';
import { GrowableUint32Array, sharedUint16, sharedUint32, sharedUint8 } from './growable.js';
import { rememberVocabulary } from './searcher.js';
import { intToByte4 } from './small-float.js';
import { FIELD_NAMES, type FieldMode, type FieldPostings, type IndexData } from './types.js';

/** What the builder needs of a document. */
export type IndexableDocument = Pick<Document, 'id' | 'title' | 'text' | 'lang'>;

export interface BuildOptions {
  analyzer: Analyzer;
  /** `flat` (default): title and text concatenated into one field; `multi`: one field each. */
  fieldMode?: FieldMode;
}

/** Postings of one field while documents are still arriving, in document order. */
class FieldAccumulator {
  readonly termIds = new GrowableUint32Array(1 << 16);
  readonly docs = new GrowableUint32Array(1 << 16);
  readonly freqs = new GrowableUint32Array(1 << 16);
  readonly norms = new GrowableUint32Array(1 << 12);
  docCount = 0;
  sumTotalTermFreq = 0;
  maxFreq = 0;

  constructor(readonly name: string) {}
}

/**
 * Builds a BM25 index one document at a time. Postings are appended as (term, doc, tf)
 * triples in document order and grouped by term with one counting sort at the end, so
 * no object is allocated per posting.
 */
export class Bm25IndexBuilder {
  readonly fieldMode: FieldMode;
  private readonly analyzer: Analyzer;
  private readonly vocabulary = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly docIds: string[] = [];
  private readonly fields: FieldAccumulator[];
  /** Scratch: frequency of each term in the field being added (zero between documents). */
  private counts = new Uint32Array(1 << 16);
  private readonly seenTerms = new GrowableUint32Array(256);
  private finished = false;

  constructor(options: BuildOptions) {
    this.analyzer = options.analyzer;
    this.fieldMode = options.fieldMode ?? 'flat';
    this.fields = FIELD_NAMES[this.fieldMode].map((name) => new FieldAccumulator(name));
  }

  get size(): number {
    return this.docIds.length;
  }

  add(doc: IndexableDocument): void {
    if (this.finished) throw new Error('Bm25IndexBuilder.add after finish');
    const docIndex = this.docIds.length;
    this.docIds.push(doc.id);
    const title = doc.title ?? '';
    if (this.fieldMode === 'flat') {
      this.addField(this.fields[0], docIndex, title === '' ? doc.text : `${title} ${doc.text}`, doc.lang);
    } else {
      this.addField(this.fields[0], docIndex, title, doc.lang);
      this.addField(this.fields[1], docIndex, doc.text, doc.lang);
    }
  }

  private addField(field: FieldAccumulator, docIndex: number, text: string, lang: string | undefined): void {
    const tokens = text === '' ? [] : this.analyzer.analyze(text, lang);
    const seen = this.seenTerms;
    seen.length = 0;
    for (const token of tokens) {
      let termId = this.vocabulary.get(token);
      if (termId === undefined) {
        termId = this.terms.length;
        this.vocabulary.set(token, termId);
        this.terms.push(token);
        if (termId >= this.counts.length) {
          const grown = new Uint32Array(this.counts.length * 2);
          grown.set(this.counts);
          this.counts = grown;
        }
      }
      if (this.counts[termId]++ === 0) seen.push(termId);
    }
    const seenTerms = seen.view();
    for (let i = 0; i < seenTerms.length; i++) {
      const termId = seenTerms[i];
      const freq = this.counts[termId];
      this.counts[termId] = 0;
      field.termIds.push(termId);
      field.docs.push(docIndex);
      field.freqs.push(freq);
      if (freq > field.maxFreq) field.maxFreq = freq;
    }
    field.norms.push(intToByte4(tokens.length));
    if (tokens.length > 0) field.docCount++;
    field.sumTotalTermFreq += tokens.length;
  }

  /** Groups the postings by term and returns the finished index data. */
  finish(): IndexData {
    if (this.finished) throw new Error('Bm25IndexBuilder.finish called twice');
    this.finished = true;
    if (this.docIds.length === 0) throw new UserError('cannot build a BM25 index over an empty corpus');
    const vocabularySize = this.terms.length;
    const fields = this.fields.map((field) => groupByTerm(field, vocabularySize, this.docIds.length));
    const data: IndexData = {
      analyzer: { ...this.analyzer.spec },
      fieldMode: this.fieldMode,
      docIds: this.docIds,
      docIdOrder: stringOrderRanks(this.docIds),
      terms: this.terms,
      fields,
    };
    rememberVocabulary(data, this.vocabulary);
    return data;
  }
}

function groupByTerm(field: FieldAccumulator, vocabularySize: number, docCountTotal: number): FieldPostings {
  const termIds = field.termIds.view();
  const postingCount = termIds.length;
  const offsets = sharedUint32(vocabularySize + 1);
  for (let i = 0; i < postingCount; i++) offsets[termIds[i] + 1]++;
  for (let t = 0; t < vocabularySize; t++) offsets[t + 1] += offsets[t];
  const cursor = offsets.slice(0, vocabularySize);
  const docs = sharedUint32(postingCount);
  const freqs = field.maxFreq > 0xffff ? sharedUint32(postingCount) : sharedUint16(postingCount);
  const sourceDocs = field.docs.view();
  const sourceFreqs = field.freqs.view();
  // A stable scatter: documents stay ascending within each term.
  for (let i = 0; i < postingCount; i++) {
    const slot = cursor[termIds[i]]++;
    docs[slot] = sourceDocs[i];
    freqs[slot] = sourceFreqs[i];
  }
  const norms = sharedUint8(docCountTotal);
  norms.set(field.norms.view());
  return { name: field.name, offsets, docs, freqs, norms, docCount: field.docCount, sumTotalTermFreq: field.sumTotalTermFreq };
}

/** rank[i] = position of ids[i] in ascending UTF-8 byte order, trec_eval's order (ids are unique). */
export function stringOrderRanks(ids: readonly string[]): Uint32Array {
  const order = Array.from(ids.keys()).sort((a, b) => compareUtf8(ids[a], ids[b]) || a - b);
  const ranks = sharedUint32(ids.length);
  for (let r = 0; r < order.length; r++) ranks[order[r]] = r;
  return ranks;
}

export interface BuildFromStreamOptions extends BuildOptions {
  /** Number of documents, for the progress bar's percentage and ETA; the bar is hidden without it. */
  totalDocs?: number;
  /** Show a progress bar (default: when stderr is a terminal and totalDocs is known). */
  progress?: boolean;
}

/** Builds an index from a document stream (a dataset's `docs()`), with a progress bar. */
export async function buildIndexFromDocuments(
  docs: AsyncIterable<IndexableDocument> | Iterable<IndexableDocument>,
  options: BuildFromStreamOptions,
): Promise<IndexData> {
  const builder = new Bm25IndexBuilder(options);
  const total = options.totalDocs;
  const bar =
    total !== undefined && total > 0
      ? progressBar({ label: 'indexing', total, unit: 'docs', ...(options.progress === undefined ? {} : { enabled: options.progress }) })
      : undefined;
  let sinceTick = 0;
  try {
    for await (const doc of docs) {
      builder.add(doc);
      if (bar !== undefined && ++sinceTick === 256) {
        bar.tick(sinceTick);
        sinceTick = 0;
      }
    }
    bar?.tick(sinceTick);
  } finally {
    bar?.stop();
  }
  return builder.finish();
}
