/**
 * Pseudo-queries from a doc2query model (DDRO step 2): a T5 on genir's engine trained on
 * the labelled pairs (paragraph → question), then sampled with top-k sampling, N queries
 * per document. The queries are cached on disk, keyed by a hash of everything that
 * determines them (data, tokenizer, model and sampling settings).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linearSchedule } from '../../../engine/optim/schedule.js';
import { t5Config, type T5Config, type T5Preset } from '../../../model/config.js';
import { T5Model } from '../../../model/t5.js';
import { decodeRows, encoderInputs, expandEncoded } from '../../../model/generation.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { writeFileAtomic } from '../../../util/atomic.js';
import { cacheKey } from '../../../util/cache.js';
import { UserError } from '../../../util/errors.js';
import { progressBar } from '../../../util/progress.js';
import { Rng, fnv1a64 } from '../../../util/random.js';
import type { Seq2SeqExample } from '../../loop/batching.js';
import { seq2seqTrainingData } from '../../loop/seq2seq-data.js';
import { train } from '../../loop/trainer.js';

export interface Doc2QueryPair {
  /** The document text (the model's input). */
  document: string;
  /** A labelled question about it (the target). */
  query: string;
}

export interface Doc2QueryTrainOptions {
  preset: T5Preset;
  /** Changes to the preset (e.g. dModel); vocabulary sizes come from the tokenizer. */
  overrides?: Partial<T5Config>;
  epochs: number;
  /** Optimizer updates in all; when given it replaces `epochs` (a budget that does not depend on the data's size). */
  updates?: number;
  lr: number;
  batchSize: number;
  /** Document tokens kept (default 256). */
  maxSourceTokens?: number;
  /** Question tokens kept (default 48). */
  maxTargetTokens?: number;
  seed: number;
  /** Training-time budget in minutes: training stops when it is spent (default: none). */
  budgetMinutes?: number;
  threads?: number;
  /** Whether idle ORT threads busy-wait (default false). */
  spinning?: boolean;
  /** Checkpoints and the loss curve go here; `resume` continues a killed run. */
  runDir: string;
  resume?: boolean;
  progress?: boolean;
}

export interface SamplingOptions {
  /** Queries per document (DDRO: 10). */
  perDoc: number;
  /** Top-k sampling (DDRO: 10). */
  topK: number;
  /** Longest query in tokens (DDRO: 32). */
  maxTokens: number;
  seed: number;
  /** Document tokens fed to the encoder (default 256). */
  maxSourceTokens?: number;
  /** Documents decoded together (default 16; rows = documents × perDoc). */
  batchDocs?: number;
  progress?: boolean;
}

export interface SampledQuery {
  /** Document id of the source document. */
  docId: string;
  text: string;
}

/** Trains a doc2query model on `pairs` (text vocabulary only, no docid tokens). */
export async function trainDoc2Query(
  pairs: readonly Doc2QueryPair[],
  tokenizer: SubwordTokenizer,
  options: Doc2QueryTrainOptions,
): Promise<{ model: T5Model; updates: number; finalLoss: number | null; seconds: number }> {
  if (pairs.length === 0) throw new UserError('doc2query: no labelled (document, query) pairs to train on');
  const maxSource = options.maxSourceTokens ?? 256;
  const maxTarget = options.maxTargetTokens ?? 48;
  const examples: Seq2SeqExample[] = pairs.map((pair) => ({
    source: tokenizer.encode(pair.document).subarray(0, maxSource),
    target: tokenizer.encode(pair.query).subarray(0, maxTarget),
  }));
  const config = t5Config(options.preset, { ...options.overrides, vocabSize: tokenizer.subwordVocabSize, docidVocabSize: 0 });
  const model = T5Model.create(config, options.seed, { threads: options.threads, spinning: options.spinning ?? false });
  const batchesPerEpoch = Math.ceil(examples.length / options.batchSize);
  const totalUpdates = options.updates ?? Math.max(1, Math.ceil(options.epochs * batchesPerEpoch));
  const started = performance.now();
  const budgetSeconds = options.budgetMinutes === undefined ? Infinity : options.budgetMinutes * 60;
  const result = await train({
    model,
    data: seq2seqTrainingData(examples, {
      batchSize: options.batchSize,
      seed: options.seed,
      padId: tokenizer.padId,
      eosId: tokenizer.eosId,
      decoderStartId: config.decoderStartTokenId,
    }),
    totalUpdates,
    schedule: linearSchedule({ peak: options.lr, warmupSteps: Math.min(100, Math.floor(totalUpdates / 10)), totalSteps: totalUpdates }),
    seed: options.seed,
    runDir: options.runDir,
    resume: options.resume,
    checkpointEvery: 200,
    progress: options.progress,
    label: 'doc2query',
    onUpdate: (record) => (record.elapsedS >= budgetSeconds ? 'stop' : undefined),
  });
  const last = result.records[result.records.length - 1];
  return { model, updates: result.update, finalLoss: last?.loss ?? null, seconds: (performance.now() - started) / 1000 };
}

/** Index of a sample drawn from the `k` most likely tokens of `logProbs[offset … offset+vocab)`, renormalised. */
export function sampleTopK(
  logProbs: Float32Array,
  offset: number,
  vocab: number,
  k: number,
  rng: Rng,
  exclude: ReadonlySet<number>,
): number {
  const ids: number[] = [];
  const values: number[] = [];
  for (let v = 0; v < vocab; v++) {
    if (exclude.has(v)) continue;
    const value = logProbs[offset + v];
    if (ids.length < k) {
      ids.push(v);
      values.push(value);
      continue;
    }
    let smallest = 0;
    for (let i = 1; i < k; i++) if (values[i] < values[smallest]) smallest = i;
    if (value > values[smallest]) {
      ids[smallest] = v;
      values[smallest] = value;
    }
  }
  // Sort so the draw does not depend on the replacement order above.
  const order = ids.map((_, i) => i).sort((a, b) => values[b] - values[a] || ids[a] - ids[b]);
  const max = values[order[0]];
  const weights = order.map((i) => Math.exp(values[i] - max));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[order[j]];
  }
  return ids[order[order.length - 1]];
}

/**
 * Samples `perDoc` queries per document with top-k sampling. Sample j of document d uses
 * its own RNG seeded by (seed, d's id, j), so it does not depend on batching or order.
 * Empty samples are dropped; duplicates are kept (they weigh a likely query more).
 */
export async function sampleQueries(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  docs: readonly { id: string; text: string }[],
  options: SamplingOptions,
): Promise<SampledQuery[]> {
  const { perDoc, topK, maxTokens } = options;
  const maxSource = options.maxSourceTokens ?? 256;
  const batchDocs = options.batchDocs ?? 16;
  const { padTokenId: pad, eosTokenId: eos, decoderStartTokenId: start } = model.config;
  const vocab = model.config.vocabSize + model.config.docidVocabSize;
  const exclude = new Set([pad, start]);
  const out: SampledQuery[] = [];
  const bar = progressBar({ label: 'pseudo-queries', total: docs.length, unit: 'docs', enabled: options.progress });
  try {
    for (let first = 0; first < docs.length; first += batchDocs) {
      const group = docs.slice(first, first + batchDocs);
      const sources = group.map((doc) => tokenizer.encode(doc.text).subarray(0, maxSource));
      const { inputIds, mask, srcLength } = encoderInputs(sources, pad, eos);
      const rows = group.flatMap((_, d) => Array.from({ length: perDoc }, () => d));
      const encoded = expandEncoded(await model.encode(inputIds, mask, group.length, srcLength), rows);
      const rngs = rows.map(
        (d, r) => new Rng(Number(fnv1a64(`doc2query\u0000${options.seed}\u0000${group[d].id}\u0000${r % perDoc}`) & 0xffffffffn)),
      );
      const generated = await decodeRows(model, encoded, maxTokens, (logProbs, offset, r) =>
        sampleTopK(logProbs, offset, vocab, topK, rngs[r], exclude),
      );
      rows.forEach((d, r) => {
        const text = tokenizer.decode(generated[r], { skipSpecialTokens: true }).trim();
        if (text !== '') out.push({ docId: group[d].id, text });
      });
      bar.tick(group.length);
    }
  } finally {
    bar.stop();
  }
  return out;
}

export interface CachedQueries {
  queries: SampledQuery[];
  path: string;
  /** True when the queries came from the cache. */
  hit: boolean;
}

/**
 * Returns the cached queries for `description`, or computes them with `compute` and
 * stores them (`<cacheDir>/pseudo-queries/<key>.jsonl`, with `<key>.json` describing them).
 */
export async function cachedPseudoQueries(
  cacheDir: string,
  description: Record<string, unknown>,
  compute: () => Promise<SampledQuery[]>,
): Promise<CachedQueries> {
  const key = cacheKey(description);
  const folder = join(cacheDir, 'pseudo-queries');
  const path = join(folder, `${key}.jsonl`);
  if (existsSync(path)) {
    const queries: SampledQuery[] = [];
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line === '') return;
        let row: Partial<SampledQuery>;
        try {
          row = JSON.parse(line) as Partial<SampledQuery>;
        } catch {
          throw new UserError(`${path}:${index + 1}: malformed JSON line in the pseudo-query cache (delete the file to rebuild it)`);
        }
        if (typeof row.docId !== 'string' || typeof row.text !== 'string')
          throw new UserError(`${path}:${index + 1}: expected {"docId", "text"} (delete the file to rebuild it)`);
        queries.push({ docId: row.docId, text: row.text });
      });
    return { queries, path, hit: true };
  }
  const queries = await compute();
  mkdirSync(folder, { recursive: true });
  await writeFileAtomic(
    join(folder, `${key}.json`),
    `${JSON.stringify({ ...description, count: queries.length, createdAt: new Date().toISOString() }, null, 2)}\n`,
  );
  await writeFileAtomic(path, queries.map((q) => `${JSON.stringify(q)}\n`).join(''));
  return { queries, path, hit: false };
}
