/**
 * RIPOR's starting point for a seq2seq retriever with residual-quantization docids built from
 * a dense model's document vectors (Zeng et al. 2024, "Scalable and Effective Generative
 * Information Retrieval"):
 *
 * - the docid-token vectors start from the codebooks' centroids: the output row of the token
 *   for (level l, code c) is centroid C_l[c], so a docid's summed logit starts as the inner
 *   product of the decoder state with the document's quantized vector, as the dense score is
 *   the inner product of the query vector with the document's vector; the input embedding
 *   of that token gets the same direction at the scale of the other input embeddings;
 * - the encoder starts as the dense model's encoder (same tokenizer and sizes), as RIPOR's T5
 *   encoder is the dense encoder it quantized.
 *
 * The decoder itself is new, so the seq2seq score only starts *towards* the dense score; the
 * SFT stages then train as usual. `parts` applies some of it only (`--ripor-parts`), to measure
 * what each part is worth.
 */
import type { Document } from '../../../data/types.js';
import type { DocidTable } from '../../../docids/table.js';
import { loadDenseModelDirectory, type LoadedDenseDirectory } from '../../../retriever/dense-directory.js';
import type { T5Model } from '../../../model/t5.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { UserError } from '../../../util/errors.js';
import { passageText } from '../../../model/dense.js';

/**
 * The parts of RIPOR's initialisation, which `--ripor-parts` can take apart: `inputs`, the docid
 * tokens' input embeddings from the centroids; `outputs`, their output-head rows from the
 * centroids (an untied head only); `encoder`, the encoder (and text-token embeddings) copied from
 * the dense model.
 */
export const RIPOR_PARTS = ['inputs', 'outputs', 'encoder'] as const;
export type RiporPart = (typeof RIPOR_PARTS)[number];

export interface RiporInitReport {
  /** Docid tokens whose vectors (input embedding, output row, or both: `parts`) now come from a centroid. */
  docidTokens: number;
  /** Whether the untied output head's docid rows hold the centroids (the lexical prior then keeps them). */
  outputRows: boolean;
  /** Whether the encoder (and the text-token embeddings) were copied from the dense model. */
  encoderCopied: boolean;
  /** Why the encoder was not copied, when it was not. */
  encoderSkipped?: string;
}

/**
 * The vector of each docid key for quantization, from a dense model directory: the stored
 * vector of the key's representative document (its `preferLang` translation when the corpus
 * pools translations, else the first), or, for documents the model did not encode, a fresh
 * encoding. Rows follow `keys`.
 */
export async function denseKeyVectors(
  dense: LoadedDenseDirectory,
  docs: readonly Document[],
  keyOf: (doc: Document) => string,
  keys: readonly string[],
  preferLang = 'en',
): Promise<Float32Array> {
  const representative = new Map<string, Document>();
  for (const doc of docs) {
    const key = keyOf(doc);
    const current = representative.get(key);
    if (current === undefined || (doc.lang === preferLang && current.lang !== preferLang)) representative.set(key, doc);
  }
  const rowOf = new Map(dense.ids.map((id, row) => [id, row]));
  const dim = dense.dim;
  const out = new Float32Array(keys.length * dim);
  const missing: { index: number; doc: Document }[] = [];
  keys.forEach((key, i) => {
    const doc = representative.get(key);
    if (doc === undefined) throw new UserError(`docids: no document for key '${key}'`);
    const row = rowOf.get(doc.id);
    if (row === undefined) missing.push({ index: i, doc });
    else out.set(dense.vectors.subarray(row * dim, (row + 1) * dim), i * dim);
  });
  if (missing.length > 0) {
    const encoded = await dense.model.encode(missing.map(({ doc }) => dense.model.passageTokens(dense.tokenizer, passageText(doc))));
    missing.forEach(({ index }, j) => out.set(encoded.subarray(j * dim, (j + 1) * dim), index * dim));
  }
  return out;
}

/** Opens a dense model directory given as `--embeddings`, for docids and RIPOR's initialisation. */
export function openDenseEmbeddings(dir: string): Promise<LoadedDenseDirectory> {
  return loadDenseModelDirectory(dir, { bakeInferenceWeights: true });
}

/**
 * Applies RIPOR's initialisation to a freshly created seq2seq model, in place. `centroids[l]`
 * holds level l's K centroids (K × dim); docid token (l, c) is output id textVocabSize + l·K + c.
 * `parts` picks which halves are applied (default both).
 */
export function riporInitialise(
  model: T5Model,
  docids: DocidTable,
  centroids: readonly Float32Array[],
  dense: LoadedDenseDirectory | undefined,
  tokenizer: SubwordTokenizer,
  parts: readonly RiporPart[] = RIPOR_PARTS,
): RiporInitReport {
  const config = model.config;
  const d = config.dModel;
  if (docids.scheme !== 'rq') throw new UserError(`RIPOR initialisation needs rq docids, not ${docids.scheme}`);
  if (centroids.length === 0) throw new Error('riporInitialise: no codebook');
  const k = docids.params.k as number;
  const dim = centroids[0].length / k;
  if (dim !== d)
    throw new UserError(
      `RIPOR initialisation: the codebooks have dimension ${dim}, the seq2seq model's d_model is ${d}; train both with the same --d-model`,
    );
  const weight = (name: string): Float32Array => {
    const p = model.parameters.find((param) => param.name === name);
    if (p === undefined) throw new Error(`riporInitialise: no parameter ${name}`);
    return p.data;
  };
  const shared = weight('shared.weight');
  const head = config.tieWordEmbeddings ? undefined : weight('lm_head.weight');
  // Input embeddings are initialised with unit variance per coordinate (norm √d); centroids of unit vectors have norm ≤ 1.
  const inputScale = Math.sqrt(d);
  const inputs = parts.includes('inputs');
  const outputs = parts.includes('outputs') && head !== undefined;
  let tokens = 0;
  if (inputs || outputs)
    centroids.forEach((table, level) => {
      for (let c = 0; c < k; c++) {
        const row = docids.layout.textVocabSize + level * k + c;
        const centroid = table.subarray(c * d, (c + 1) * d);
        if (inputs) for (let j = 0; j < d; j++) shared[row * d + j] = centroid[j] * inputScale;
        if (outputs) head.set(centroid, row * d);
        tokens++;
      }
    });
  const done = { docidTokens: tokens, outputRows: outputs };
  if (!parts.includes('encoder')) return { ...done, encoderCopied: false, encoderSkipped: 'not asked (--ripor-parts)' };
  if (dense === undefined) return { ...done, encoderCopied: false, encoderSkipped: 'no dense model' };
  const denseConfig = dense.model.config;
  const sameShape = (
    ['dModel', 'dKv', 'dFf', 'numLayers', 'numHeads', 'relativeAttentionNumBuckets', 'relativeAttentionMaxDistance'] as const
  ).every((key) => denseConfig[key] === config[key]);
  if (!sameShape) return { ...done, encoderCopied: false, encoderSkipped: 'the dense encoder has other sizes' };
  if (dense.tokenizer.subwordVocabSize !== tokenizer.subwordVocabSize || !sameSubwords(dense.tokenizer, tokenizer)) {
    return { ...done, encoderCopied: false, encoderSkipped: 'the dense model has another tokenizer' };
  }
  const denseWeights = dense.model.weights();
  for (const param of model.parameters) {
    if (param.name.startsWith('encoder.')) param.data.set(denseWeights.get(param.name)!);
  }
  // Text-token rows of the shared embedding; docid rows keep their centroids.
  shared.set(denseWeights.get('shared.weight')!.subarray(0, tokenizer.subwordVocabSize * d));
  return { ...done, encoderCopied: true };
}

function sameSubwords(a: SubwordTokenizer, b: SubwordTokenizer): boolean {
  for (let id = 0; id < a.subwordVocabSize; id++) if (a.idToToken(id) !== b.idToToken(id)) return false;
  return true;
}
