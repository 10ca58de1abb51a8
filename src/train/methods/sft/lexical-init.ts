/**
 * A corpus prior for the lexical head (`--lexical-init bm25`): lexical_head.weight[t, k] starts
 * as the BM25 weight of subword t in the documents that docid token k names, so that before any
 * update the head's term for a query is its BM25 score over the model's own subwords (divided by
 * the query's length, times the head's scale). With atomic docids (one token per document) the
 * generator's first-step ranking then *is* subword BM25; training moves the weights from there,
 * as RIPOR starts its docid tokens from the dense model's centroids instead of from noise.
 *
 * The weights follow Lucene's BM25 (idf = ln(1 + (N − df + 0.5)/(df + 0.5)), tf part
 * tf / (tf + k1·(1 − b + b·dl/avgdl)), k1 0.9, b 0.4, Anserini's defaults) over the documents'
 * `title text` as the tokenizer splits it. Documents sharing a docid key (translations in a
 * pooled corpus) are one bag of subwords; a docid token shared by several keys (pq, rq,
 * semantic codes) gets the mean of their weights. No label is read: this is corpus statistics.
 *
 * The docid rows of the untied output head (lm_head) start at 0 as well: the trunk starts from
 * noise, and its random docid logits would otherwise be added to the prior (measured on
 * squad-dev: subword BM25 RR@10 0.800 alone, 0.744 with a random trunk's logits added). Its
 * gradients are not zero (the decoder states are not), so the trunk's docid rows still learn.
 * Rows that RIPOR's initialisation set from rq centroids are kept (`keepTrunkDocidRows`).
 */
import { DEFAULT_BM25_PARAMS, bm25Idf } from '../../../bm25/index.js';
import type { Document } from '../../../data/types.js';
import type { DocidTable } from '../../../docids/table.js';
import { DEFAULT_LEXICAL_HEAD_SCALE, LEXICAL_HEAD_WEIGHT } from '../../../model/config.js';
import type { T5Model } from '../../../model/t5.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';

export const LEXICAL_INITS = ['zeros', 'bm25'] as const;
export type LexicalInit = (typeof LEXICAL_INITS)[number];

/**
 * How `genir train sft` starts the lexical head when nothing is said: atomic docids trained from
 * scratch start from the BM25 prior (squad-dev test RR@10 0.82 against 0.01 without it,
 * docs/results.md); other schemes, whose codes the prior only averages, and checkpoints get no head.
 */
export function defaultLexicalInit(docids: string, fromCheckpoint: boolean): LexicalInit | undefined {
  return docids === 'atomic' && !fromCheckpoint ? 'bm25' : undefined;
}

export interface LexicalInitReport {
  init: LexicalInit;
  /** Non-zero weights written. */
  nonZero: number;
  /** Docid tokens that got a column (the others stay 0). */
  docidTokens: number;
  /** Whether the docid rows of lm_head were set to 0 (untied head only). */
  trunkDocidRowsZeroed: boolean;
  k1: number;
  b: number;
}

const { k1: K1, b: B } = DEFAULT_BM25_PARAMS;

/** Subword counts of each docid key's documents (title and text), in docid-table order. */
function keyBags(docids: DocidTable, docs: readonly Document[], keyOf: (doc: Document) => string, tokenizer: SubwordTokenizer) {
  const bags = docids.keys.map(() => new Map<number, number>());
  const lengths = new Float64Array(docids.keys.length);
  for (const doc of docs) {
    const row = docids.indexOf(keyOf(doc));
    if (row < 0) continue;
    const ids = tokenizer.encode(`${doc.title} ${doc.text}`.trim());
    const bag = bags[row];
    for (const id of ids) bag.set(id, (bag.get(id) ?? 0) + 1);
    lengths[row] += ids.length;
  }
  return { bags, lengths };
}

/**
 * Writes the BM25 prior into the model's lexical head (which must exist) and returns what it
 * wrote. Text tokens never seen in the corpus keep weight 0 in every column.
 */
export function bm25LexicalInitialise(
  model: T5Model,
  docids: DocidTable,
  docs: readonly Document[],
  keyOf: (doc: Document) => string,
  tokenizer: SubwordTokenizer,
  options: { keepTrunkDocidRows?: boolean } = {},
): LexicalInitReport {
  const config = model.config;
  const head = model.parameters.find((p) => p.name === LEXICAL_HEAD_WEIGHT);
  if (head === undefined) throw new Error('bm25LexicalInitialise: the model has no lexical head');
  const columns = config.docidVocabSize;
  const textVocab = config.vocabSize;
  const { bags, lengths } = keyBags(docids, docs, keyOf, tokenizer);
  const n = bags.length;
  const avgLength = lengths.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const documentFrequency = new Map<number, number>();
  for (const bag of bags) for (const id of bag.keys()) documentFrequency.set(id, (documentFrequency.get(id) ?? 0) + 1);

  const weights = head.data;
  weights.fill(0);
  const keysPerColumn = new Int32Array(columns);
  const { textVocabSize } = docids.layout;
  bags.forEach((bag, row) => {
    const norm = K1 * (1 - B + (B * lengths[row]) / avgLength);
    const columnsOfRow: number[] = [];
    for (let p = docids.offsets[row]; p < docids.offsets[row + 1]; p++) {
      const token = docids.tokens[p];
      if (token >= textVocabSize) columnsOfRow.push(token - textVocabSize);
    }
    for (const column of columnsOfRow) keysPerColumn[column]++;
    for (const [id, tf] of bag) {
      if (id >= textVocab) continue;
      const df = documentFrequency.get(id)!;
      const weight = bm25Idf(df, n) * (tf / (tf + norm));
      for (const column of columnsOfRow) weights[id * columns + column] += weight;
    }
  });
  let nonZero = 0;
  let docidTokens = 0;
  for (let column = 0; column < columns; column++) {
    const count = keysPerColumn[column];
    if (count === 0) continue;
    docidTokens++;
    if (count === 1) continue;
    for (let id = 0; id < textVocab; id++) weights[id * columns + column] /= count;
  }
  // The prior is 10 × the mean BM25 weight whatever the head's scale: a larger scale is a larger
  // learning rate for the head (Adam moves a weight by about lr per update), not another prior.
  const unit = DEFAULT_LEXICAL_HEAD_SCALE / config.lexicalHeadScale;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    weights[i] *= unit;
    nonZero++;
  }
  // Rows RIPOR's initialisation set from the centroids are not noise (they start the trunk's
  // docid logits as the dense score), so `keepTrunkDocidRows` leaves them.
  const lmHead =
    config.tieWordEmbeddings || options.keepTrunkDocidRows === true ? undefined : model.parameters.find((p) => p.name === 'lm_head.weight');
  lmHead?.data.fill(0, docids.layout.textVocabSize * config.dModel, (textVocabSize + columns) * config.dModel);
  return { init: 'bm25', nonZero, docidTokens, trunkDocidRowsZeroed: lmHead !== undefined, k1: K1, b: B };
}
