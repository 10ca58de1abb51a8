/**
 * `genir experiment linear-baseline`: what a linear bag-of-words classifier reaches on the
 * training examples atomic-docid SFT learns from. An atomic docid is one output token per
 * document, so the seq2seq model's last step is a softmax over the documents; a multinomial
 * logistic regression from the same subword tokens to the same documents, trained on the same
 * examples, is the floor that model should clear.
 *
 * Examples: SFT's own builder (src/train/methods/sft/pipeline.ts `sourcePairs`) over the SFT corpus with
 * the tokenizer SFT would train (same texts, vocabulary size and seed): passage chunks, TF-IDF
 * terms, span pseudo-queries, labelled training queries. Features: the text's subword ids, each
 * weighted (1 + ln tf) · idf (idf over the training examples, smoothed: ln((1 + N) / (1 + df)) + 1),
 * the vector scaled to unit length. Model: logits = Wᵀx + b over the docid keys, softmax
 * cross-entropy, trained with Adam over mini-batches in plain TypeScript. Updates are lazy, as
 * for sparse embeddings: a feature's row (and its moments) changes only in batches where the
 * feature occurs. The epoch with the best dev RR@10 is kept (early stopping); test is scored once.
 * Everything is seeded and single-threaded, so a run is reproducible bit for bit.
 */
import { openDataset } from '../data/registry.js';
import type { Qrels, Query, Run, RunEntry } from '../data/types.js';
import { samplePseudoQueries } from '../docids/pseudoQueries.js';
import { evaluateRun } from '../eval/metrics.js';
import { compareTrecOrder } from '../data/ranking.js';
import type { SubwordTokenizer } from '../text/tokenizer/index.js';
import { loadSftCorpus } from '../data/training-corpus.js';
import { SFT_SOURCES, type SftSource } from '../train/methods/sft/examples.js';
import { sourcePairs, trainSftTokenizer } from '../train/methods/sft/pipeline.js';
import { peakRssMb } from '../train/methods/sft/report.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/random.js';

/** The metrics reported, in this order. */
export const LINEAR_BASELINE_METRICS = ['RR@10', 'R@1', 'R@5', 'R@10', 'nDCG@10'] as const;

export interface LinearBaselineOptions {
  dataset: string;
  dataDir?: string;
  /** XQuAD languages, as for `genir train sft --lang`. */
  lang?: string;
  /** SFT sources to train on (default all four). */
  sources?: readonly SftSource[];
  /** SFT's settings for the examples; defaults are the squad-dev recipe's (docs/results.md). */
  vocabSize?: number;
  chunkTokens?: number;
  maxChunks?: number;
  termCount?: number;
  pseudoPerDoc?: number;
  maxSourceTokens?: number;
  /** Training (defaults: 10 epochs, Adam lr 0.03, 512 examples per update, seed 0; chosen on XQuAD English dev). */
  epochs?: number;
  lr?: number;
  batchSize?: number;
  seed?: number;
  /** Split scored at the end (default test) and split choosing the epoch (default dev; none when the dataset lacks it). */
  split?: string;
  devSplit?: string;
  log?: (line: string) => void;
}

export interface LinearBaselineResult {
  dataset: string;
  split: string;
  /** Classes: the docid keys. */
  docs: number;
  queries: number;
  examples: Record<string, number>;
  features: number;
  metrics: Record<string, number>;
  /** The epoch kept (1-based) and each epoch's mean training loss and dev RR@10 (null without a dev split). */
  bestEpoch: number;
  epochs: { epoch: number; loss: number; devRR10: number | null }[];
  settings: Required<Omit<LinearBaselineOptions, 'dataDir' | 'lang' | 'log' | 'devSplit'>> & {
    lang: string | null;
    devSplit: string | null;
  };
  seconds: number;
  peakRssMb: number;
}

/** Sparse examples in CSR layout: example i's features are [offsets[i], offsets[i + 1]). */
export interface SparseExamples {
  offsets: Uint32Array;
  features: Int32Array;
  values: Float32Array;
  labels: Int32Array;
}

/** Counts of each token id, in first-seen order. */
function termCounts(ids: ArrayLike<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
  return counts;
}

/** Smoothed idf of every token id over the training texts: ln((1 + N) / (1 + df)) + 1. */
export function inverseDocumentFrequencies(texts: readonly ArrayLike<number>[], vocabSize: number): Float32Array {
  const df = new Float64Array(vocabSize);
  for (const ids of texts) for (const id of termCounts(ids).keys()) df[id]++;
  const idf = new Float32Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) idf[id] = Math.log((1 + texts.length) / (1 + df[id])) + 1;
  return idf;
}

/** One text's feature vector: (1 + ln tf) · idf per token id, scaled to unit length; ids ascending. */
export function featureVector(ids: ArrayLike<number>, idf: Float32Array): { features: number[]; values: number[] } {
  const counts = [...termCounts(ids)].sort((a, b) => a[0] - b[0]);
  const values = counts.map(([id, tf]) => (1 + Math.log(tf)) * idf[id]);
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return { features: counts.map(([id]) => id), values: values.map((v) => (norm > 0 ? v / norm : 0)) };
}

export function sparseExamples(texts: readonly ArrayLike<number>[], labels: readonly number[], idf: Float32Array): SparseExamples {
  const offsets = new Uint32Array(texts.length + 1);
  const features: number[] = [];
  const values: number[] = [];
  texts.forEach((ids, i) => {
    const vector = featureVector(ids, idf);
    features.push(...vector.features);
    values.push(...vector.values);
    offsets[i + 1] = features.length;
  });
  return { offsets, features: Int32Array.from(features), values: Float32Array.from(values), labels: Int32Array.from(labels) };
}

/**
 * Multinomial logistic regression over sparse features: W is features × classes, row-major,
 * so one feature's weights are contiguous. Adam with lazy (touched-rows-only) updates.
 */
export class SparseSoftmaxRegression {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly biasM: Float32Array;
  private readonly biasV: Float32Array;
  private step = 0;
  private readonly beta1 = 0.9;
  private readonly beta2 = 0.999;
  private readonly epsilon = 1e-8;

  constructor(
    readonly featureCount: number,
    readonly classCount: number,
  ) {
    this.weights = new Float32Array(featureCount * classCount);
    this.m = new Float32Array(featureCount * classCount);
    this.v = new Float32Array(featureCount * classCount);
    this.bias = new Float32Array(classCount);
    this.biasM = new Float32Array(classCount);
    this.biasV = new Float32Array(classCount);
  }

  /** Logits of one sparse vector into `out`. */
  logits(features: ArrayLike<number>, values: ArrayLike<number>, out: Float64Array, from = 0, to = features.length): Float64Array {
    const classes = this.classCount;
    for (let c = 0; c < classes; c++) out[c] = this.bias[c];
    for (let f = from; f < to; f++) {
      const row = features[f] * classes;
      const x = values[f];
      for (let c = 0; c < classes; c++) out[c] += x * this.weights[row + c];
    }
    return out;
  }

  /**
   * One Adam update on the examples `batch` (indices into `data`); returns their mean
   * cross-entropy. Gradients of the mean loss are accumulated per touched feature row.
   */
  update(data: SparseExamples, batch: ArrayLike<number>, lr: number, scratch: TrainingScratch): number {
    const classes = this.classCount;
    const { probabilities, slotOf, touched } = scratch;
    let touchedCount = 0;
    let grad = scratch.rowGradients;
    const biasGrad = scratch.biasGradient.fill(0);
    let loss = 0;
    const scale = 1 / batch.length;
    for (let b = 0; b < batch.length; b++) {
      const example = batch[b];
      const from = data.offsets[example];
      const to = data.offsets[example + 1];
      // The logits are computed into `probabilities` and turned into them in place.
      const logits = this.logits(data.features, data.values, probabilities, from, to);
      const label = data.labels[example];
      let max = -Infinity;
      for (let c = 0; c < classes; c++) if (logits[c] > max) max = logits[c];
      const labelLogit = logits[label] - max;
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += probabilities[c] = Math.exp(logits[c] - max);
      loss += Math.log(sum) - labelLogit;
      // d loss / d logits = softmax − one-hot, scaled for the batch mean.
      for (let c = 0; c < classes; c++) probabilities[c] = (probabilities[c] / sum) * scale;
      probabilities[label] -= scale;
      for (let c = 0; c < classes; c++) biasGrad[c] += probabilities[c];
      for (let f = from; f < to; f++) {
        const feature = data.features[f];
        let slot = slotOf[feature];
        if (slot < 0) {
          slot = slotOf[feature] = touchedCount;
          touched[touchedCount++] = feature;
          if (touchedCount * classes > grad.length) {
            const grown = new Float64Array(Math.min(this.featureCount, touchedCount * 2) * classes);
            grown.set(grad);
            grad = scratch.rowGradients = grown;
          }
          grad.fill(0, slot * classes, (slot + 1) * classes);
        }
        const x = data.values[f];
        const offset = slot * classes;
        for (let c = 0; c < classes; c++) grad[offset + c] += x * probabilities[c];
      }
    }
    this.step++;
    for (let slot = 0; slot < touchedCount; slot++) {
      const feature = touched[slot];
      this.adam(this.weights, this.m, this.v, feature * classes, grad, slot * classes, lr);
      slotOf[feature] = -1;
    }
    this.adam(this.bias, this.biasM, this.biasV, 0, biasGrad, 0, lr);
    return loss * scale;
  }

  /** Adam on `classCount` parameters from `at`, with gradients from `g[gAt]`. */
  private adam(params: Float32Array, m: Float32Array, v: Float32Array, at: number, g: Float64Array, gAt: number, lr: number): void {
    const beta1 = this.beta1;
    const beta2 = this.beta2;
    const epsilon = this.epsilon;
    const stepSize = lr / (1 - beta1 ** this.step);
    const inverseCorrection2 = 1 / (1 - beta2 ** this.step);
    const end = at + this.classCount;
    for (let i = at, j = gAt; i < end; i++, j++) {
      const gradient = g[j];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gradient);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gradient * gradient);
      params[i] -= (stepSize * mi) / (Math.sqrt(vi * inverseCorrection2) + epsilon);
    }
  }

  /** A copy of the weights and bias (to keep the best epoch). */
  snapshot(): { weights: Float32Array; bias: Float32Array } {
    return { weights: this.weights.slice(), bias: this.bias.slice() };
  }

  restore(snapshot: { weights: Float32Array; bias: Float32Array }): void {
    this.weights.set(snapshot.weights);
    this.bias.set(snapshot.bias);
  }
}

export interface TrainingScratch {
  probabilities: Float64Array;
  biasGradient: Float64Array;
  rowGradients: Float64Array;
  slotOf: Int32Array;
  touched: Int32Array;
}

export function trainingScratch(featureCount: number, classCount: number): TrainingScratch {
  return {
    probabilities: new Float64Array(classCount),
    biasGradient: new Float64Array(classCount),
    rowGradients: new Float64Array(Math.min(featureCount, 256) * classCount),
    slotOf: new Int32Array(featureCount).fill(-1),
    touched: new Int32Array(featureCount),
  };
}

/** The top `depth` classes of each query as a run over `keys` (trec_eval order). */
export function rankQueries(
  model: SparseSoftmaxRegression,
  queries: readonly Query[],
  encode: (text: string) => ArrayLike<number>,
  idf: Float32Array,
  keys: readonly string[],
  depth = 100,
): Run {
  const run: Run = new Map();
  const logits = new Float64Array(model.classCount);
  for (const query of queries) {
    const { features, values } = featureVector(encode(query.text), idf);
    model.logits(features, values, logits);
    const entries: RunEntry[] = Array.from(logits, (score, c) => ({ docId: keys[c], score }));
    entries.sort(compareTrecOrder);
    run.set(query.id, entries.slice(0, depth));
  }
  return run;
}

function positive(value: number, name: string, integer: boolean): number {
  if (!(Number.isFinite(value) && value > 0) || (integer && !Number.isInteger(value)))
    throw new UserError(`${name} ${value}: expected a positive ${integer ? 'integer' : 'number'}`);
  return value;
}

export async function runLinearBaseline(options: LinearBaselineOptions): Promise<LinearBaselineResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings = {
    dataset: options.dataset,
    lang: options.lang ?? null,
    sources: options.sources ?? SFT_SOURCES,
    vocabSize: positive(options.vocabSize ?? 8000, '--vocab', true),
    chunkTokens: positive(options.chunkTokens ?? 40, '--chunk-tokens', true),
    maxChunks: positive(options.maxChunks ?? 10, '--max-chunks', true),
    termCount: positive(options.termCount ?? 20, '--term-count', true),
    pseudoPerDoc: positive(options.pseudoPerDoc ?? 20, '--pseudo-per-doc', true),
    maxSourceTokens: positive(options.maxSourceTokens ?? 128, '--max-source-tokens', true),
    epochs: positive(options.epochs ?? 10, '--epochs', true),
    lr: positive(options.lr ?? 0.03, '--lr', false),
    batchSize: positive(options.batchSize ?? 512, '--batch-size', true),
    seed: options.seed ?? 0,
    split: options.split ?? 'test',
    devSplit: options.devSplit ?? 'dev',
  };
  if (settings.sources.length === 0) throw new UserError('--sources: no source given');

  const corpus = await loadSftCorpus({ dataset: options.dataset, dataDir: options.dataDir, lang: options.lang });
  const evalDataset = await openDataset({
    id: options.dataset,
    dataDir: options.dataDir,
    ...(corpus.languages?.length === 1 ? { lang: corpus.languages[0] } : {}),
  });
  if (!evalDataset.splits.includes(settings.split))
    throw new UserError(`dataset ${evalDataset.id} has no split '${settings.split}' (splits: ${evalDataset.splits.join(', ')})`);
  const devSplit = evalDataset.splits.includes(settings.devSplit) && settings.devSplit !== settings.split ? settings.devSplit : null;
  if (devSplit === null) log(`linear-baseline: no '${settings.devSplit}' split to choose the epoch on; keeping the last epoch`);

  const tokenizer: SubwordTokenizer = trainSftTokenizer(corpus, settings.vocabSize);
  const encode = (text: string): ArrayLike<number> => {
    const ids = tokenizer.encode(text);
    return ids.length > settings.maxSourceTokens ? ids.subarray(0, settings.maxSourceTokens) : ids;
  };
  const count = (text: string) => tokenizer.encode(text).length;
  const pseudo = settings.sources.includes('pseudo')
    ? await samplePseudoQueries(corpus.docs, { perDoc: settings.pseudoPerDoc, seed: settings.seed })
    : [];

  const keys: string[] = [];
  const classOf = new Map<string, number>();
  for (const doc of corpus.docs) {
    const key = corpus.keyOf(doc);
    if (!classOf.has(key)) {
      classOf.set(key, keys.length);
      keys.push(key);
    }
  }
  const texts: ArrayLike<number>[] = [];
  const labels: number[] = [];
  const exampleCounts: Record<string, number> = {};
  for (const source of settings.sources) {
    const pairs = sourcePairs(source, corpus, pseudo, count, settings);
    let kept = 0;
    for (const pair of pairs) {
      const label = classOf.get(pair.key);
      if (label === undefined) continue;
      texts.push(encode(pair.text));
      labels.push(label);
      kept++;
    }
    exampleCounts[source] = kept;
  }
  const vocab = tokenizer.vocabSize;
  const idf = inverseDocumentFrequencies(texts, vocab);
  const data = sparseExamples(texts, labels, idf);
  log(
    `linear-baseline: ${corpus.datasetId}: ${keys.length} classes, ${labels.length} examples (${Object.entries(exampleCounts)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}), ${vocab} features`,
  );

  const load = async (split: string): Promise<{ queries: Query[]; qrels: Qrels }> => {
    const [queries, qrels] = await Promise.all([evalDataset.queries(split), evalDataset.qrels(split)]);
    return { queries, qrels };
  };
  const dev = devSplit === null ? undefined : await load(devSplit);
  const model = new SparseSoftmaxRegression(vocab, keys.length);
  const scratch = trainingScratch(vocab, keys.length);
  const order = Array.from({ length: labels.length }, (_, i) => i);
  const epochs: LinearBaselineResult['epochs'] = [];
  let best: { epoch: number; value: number; snapshot: ReturnType<SparseSoftmaxRegression['snapshot']> } | undefined;
  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const epochStart = performance.now();
    new Rng(settings.seed * 1000 + epoch).shuffle(order);
    let lossSum = 0;
    let batches = 0;
    for (let first = 0; first < order.length; first += settings.batchSize) {
      lossSum += model.update(data, order.slice(first, first + settings.batchSize), settings.lr, scratch);
      batches++;
    }
    const devRR10 =
      dev === undefined ? null : evaluateRun(rankQueries(model, dev.queries, encode, idf, keys, 10), dev.qrels, ['RR@10']).mean['RR@10'];
    epochs.push({ epoch, loss: lossSum / batches, devRR10 });
    log(
      `linear-baseline: epoch ${epoch}/${settings.epochs}: loss ${(lossSum / batches).toFixed(4)}${devRR10 === null ? '' : `, ${devSplit} RR@10 ${devRR10.toFixed(4)}`} (${((performance.now() - epochStart) / 1000).toFixed(1)} s)`,
    );
    // The first best dev value wins; without a dev split the last epoch does.
    if (best === undefined || devRR10 === null || devRR10 > best.value) best = { epoch, value: devRR10 ?? 0, snapshot: model.snapshot() };
  }
  model.restore(best!.snapshot);

  const test = await load(settings.split);
  const run = rankQueries(model, test.queries, encode, idf, keys, 100);
  const metrics = evaluateRun(run, test.qrels, [...LINEAR_BASELINE_METRICS]).mean;
  return {
    dataset: corpus.datasetId,
    split: settings.split,
    docs: keys.length,
    queries: test.queries.length,
    examples: exampleCounts,
    features: vocab,
    metrics,
    bestEpoch: best!.epoch,
    epochs,
    settings: { ...settings, sources: [...settings.sources], devSplit },
    seconds: (performance.now() - started) / 1000,
    peakRssMb: peakRssMb(),
  };
}
