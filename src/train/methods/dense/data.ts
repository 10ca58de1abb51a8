/**
 * Training pairs for the dense retriever and their batches.
 *
 * A pair is a query-side text and a passage-side text of one docid key. Labelled training
 * queries pair with their relevant documents and get BM25 hard negatives (Tevatron's recipe:
 * negatives from BM25's top ranks that are not judged relevant, and a query whose relevant
 * document is not in BM25's top `bm25Depth` is dropped). Synthetic pairs come from the
 * corpus itself: inverse cloze (a sentence of a paragraph as the query, the paragraph without
 * it as the passage, ORQA's recipe) and two crops of one document (a short span as the query,
 * a long crop as the passage, Contriever's). In a pooled multilingual corpus (translations
 * share a key) a crop's passage may be a translation, which teaches the two languages one space.
 *
 * A batch holds `batchSize` pairs; every passage in it is a candidate for every query
 * (in-batch negatives), plus `hardNegatives` BM25 negatives per labelled query. A passage
 * whose key is relevant to a query but is not that query's target is masked out of its row.
 */
import type { Document } from '../../../data/types.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { type DenseBatch, padSequences } from '../../../model/dense.js';
import { MASKED } from '../../../model/t5-graph.js';
import { Rng } from '../../../util/random.js';
import { epochSeed } from '../../loop/batching.js';
import { keyedRng } from '../../sources/negatives/bands.js';
import type { TrainingData } from '../../loop/trainer.js';

/** A passage-side text with the key it stands for. */
export interface PassageText {
  key: string;
  text: string;
}

/** One training pair before tokenisation. */
export interface DensePair {
  query: string;
  /** Passages that may serve as the positive (one is drawn per epoch), indices into the passage list. */
  positives: number[];
  /** Keys relevant to the query: masked when they appear as another row's passage. */
  relevantKeys: string[];
  /** Hard negative candidates (passage indices), best-ranked first. */
  negatives: number[];
  source: 'labelled' | 'ict' | 'crop';
}

export interface SyntheticOptions {
  /** Inverse-cloze pairs per document. */
  ictPerDoc: number;
  /** Two-crop pairs per document. */
  cropsPerDoc: number;
  seed: number;
}

const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });
const sentenceSegmenter = new Intl.Segmenter('und', { granularity: 'sentence' });

/** Sentences of a text (ICU segmentation), trimmed, with at least `minWords` words. */
export function sentencesOf(text: string, minWords = 4): string[] {
  const out: string[] = [];
  for (const s of sentenceSegmenter.segment(text)) {
    const sentence = s.segment.trim();
    let words = 0;
    for (const w of wordSegmenter.segment(sentence)) if (w.isWordLike) words++;
    if (words >= minWords) out.push(sentence);
  }
  return out;
}

/** Word boundaries [start, end) of a text, by ICU segmentation. */
function wordSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const s of wordSegmenter.segment(text)) if (s.isWordLike) spans.push([s.index, s.index + s.segment.length]);
  return spans;
}

/** The text from word `first` to word `last` inclusive (original spacing kept). */
function wordRange(text: string, spans: [number, number][], first: number, last: number): string {
  return text.slice(spans[first][0], spans[last][1]);
}

/**
 * Synthetic pairs of one document (deterministic in the seed and the document id):
 * inverse cloze (a sentence → the document without it, 90 % of the time, else the whole
 * document, as ORQA does so the model still learns word overlap) and two crops (a span of
 * 4–16 words → a crop of half the document or more). `passageOf(text)` registers a passage
 * text and returns its index; `translations` are other-language documents with the same key,
 * any of which may be a crop's passage.
 */
export function syntheticPairs(
  doc: Document,
  key: string,
  passageOf: (passage: PassageText) => number,
  options: SyntheticOptions,
  translations: readonly Document[] = [],
): DensePair[] {
  const rng = keyedRng(options.seed, `dense-synthetic\u0000${doc.id}`);
  const pairs: DensePair[] = [];
  const sentences = sentencesOf(doc.text);
  const title = doc.title ? `${doc.title}\n` : '';
  for (let i = 0; i < options.ictPerDoc && sentences.length >= 2; i++) {
    const pick = rng.int(sentences.length);
    const rest = rng.next() < 0.9 ? sentences.filter((_, j) => j !== pick).join(' ') : doc.text;
    pairs.push({
      query: sentences[pick],
      positives: [passageOf({ key, text: `${title}${rest}` })],
      relevantKeys: [key],
      negatives: [],
      source: 'ict',
    });
  }
  const spans = wordSpans(doc.text);
  for (let i = 0; i < options.cropsPerDoc && spans.length >= 8; i++) {
    const length = Math.min(spans.length, 4 + rng.int(13));
    const start = rng.int(spans.length - length + 1);
    const query = wordRange(doc.text, spans, start, start + length - 1);
    const source = translations.length > 0 && rng.next() < 0.5 ? translations[rng.int(translations.length)] : doc;
    const sourceSpans = source === doc ? spans : wordSpans(source.text);
    if (sourceSpans.length === 0) continue;
    const cropLength = Math.max(1, Math.ceil(sourceSpans.length * (0.5 + 0.5 * rng.next())));
    const cropStart = rng.int(sourceSpans.length - cropLength + 1);
    const crop = wordRange(source.text, sourceSpans, cropStart, cropStart + cropLength - 1);
    const sourceTitle = source.title ? `${source.title}\n` : '';
    pairs.push({
      query,
      positives: [passageOf({ key, text: `${sourceTitle}${crop}` })],
      relevantKeys: [key],
      negatives: [],
      source: 'crop',
    });
  }
  return pairs;
}

/** Pairs and passages as token ids. */
export interface TokenizedPairs {
  queries: Int32Array[];
  pairs: readonly DensePair[];
  passages: Int32Array[];
  passageKeys: string[];
}

export interface DenseDataOptions {
  batchSize: number;
  /** BM25 negatives per labelled query in a batch (default 1). */
  hardNegatives: number;
  seed: number;
  padId: number;
}

/** A batch as planned for one epoch: which pairs. */
export interface DensePlan {
  epoch: number;
  pairs: number[];
}

/** The trainer's view of the pairs: a seeded shuffle per epoch, batches materialised on demand. */
export function denseTrainingData(
  data: TokenizedPairs,
  options: DenseDataOptions,
): TrainingData<DensePlan, DenseBatch> & { batchesPerEpoch: number } {
  const { batchSize, hardNegatives, seed, padId } = options;
  if (data.pairs.length === 0) throw new RangeError('denseTrainingData: no training pairs');
  const batchesPerEpoch = Math.max(1, Math.floor(data.pairs.length / batchSize));
  return {
    batchesPerEpoch,
    plan(epoch: number): DensePlan[] {
      const order = new Rng(epochSeed(seed, epoch)).shuffle(data.pairs.map((_, i) => i));
      // Full batches only: a short last batch would have fewer in-batch negatives.
      return Array.from({ length: batchesPerEpoch }, (_, b) => ({ epoch, pairs: order.slice(b * batchSize, (b + 1) * batchSize) }));
    },
    materialize(plan: DensePlan): DenseBatch {
      const rows = new Map<number, number>();
      const passages: number[] = [];
      const rowOf = (passage: number): number => {
        let row = rows.get(passage);
        if (row === undefined) {
          row = passages.length;
          rows.set(passage, row);
          passages.push(passage);
        }
        return row;
      };
      const targets = plan.pairs.map((p) => {
        const pair = data.pairs[p];
        const rng = keyedRng(seed, `dense-batch\u0000${plan.epoch}\u0000${p}`);
        const target = rowOf(pair.positives[rng.int(pair.positives.length)]);
        // Hard negatives are drawn from the candidates without replacement.
        const candidates = [...pair.negatives];
        for (let n = 0; n < hardNegatives && candidates.length > 0; n++) rowOf(candidates.splice(rng.int(candidates.length), 1)[0]);
        return target;
      });
      const query = padSequences(
        plan.pairs.map((p) => data.queries[p]),
        padId,
      );
      const docs = padSequences(
        passages.map((p) => data.passages[p]),
        padId,
      );
      const bias = new Float32Array(plan.pairs.length * passages.length);
      plan.pairs.forEach((p, q) => {
        const relevant = new Set(data.pairs[p].relevantKeys);
        passages.forEach((passage, d) => {
          if (d !== targets[q] && relevant.has(data.passageKeys[passage])) bias[q * passages.length + d] = MASKED;
        });
      });
      return {
        queries: plan.pairs.length,
        queryLength: query.length,
        queryIds: query.ids,
        queryMask: query.mask,
        docs: passages.length,
        docLength: docs.length,
        docIds: docs.ids,
        docMask: docs.mask,
        targets: BigInt64Array.from(targets.map(BigInt)),
        bias,
      };
    },
    examples: (batch) => batch.queries,
  };
}

/** Tokenises pairs and passages with the dense model's marked query and passage forms. */
export function tokenizePairs(
  pairs: readonly DensePair[],
  passages: readonly PassageText[],
  tokenizer: SubwordTokenizer,
  encode: {
    query: (tokenizer: SubwordTokenizer, text: string) => Int32Array;
    passage: (tokenizer: SubwordTokenizer, text: string) => Int32Array;
  },
): TokenizedPairs {
  return {
    queries: pairs.map((p) => encode.query(tokenizer, p.query)),
    pairs,
    passages: passages.map((p) => encode.passage(tokenizer, p.text)),
    passageKeys: passages.map((p) => p.key),
  };
}
