/**
 * The query-augmentation generator G: a seq2seq T5 that reads a query and writes a
 * hypothetical passage for it. Trained first on the source domain's (question → start of its
 * paragraph) pairs, then by RLRF. This file samples and decodes augmentations and scores
 * passages under the generator (RLGF's ranking).
 */
import type { T5Model } from '../../../model/t5.js';
import type { SubwordTokenizer } from '../../../text/tokenizer/index.js';
import { Rng, fnv1a64 } from '../../../util/random.js';
import { decodeRows, encoderInputs, expandEncoded } from '../../../model/generation.js';
import { GroupedScorer } from '../../../model/grouped.js';

export interface NucleusOptions {
  /** Softmax temperature (0.9). */
  temperature: number;
  /** Smallest set of most likely tokens whose mass reaches topP (0.9). */
  topP: number;
}

/**
 * A token drawn by nucleus sampling from `logProbs[offset … offset+vocab)` at `temperature`.
 * Only tokens within a factor 1e-6 of the most likely one are sorted: when their mass already
 * reaches topP they hold the whole nucleus (it is a prefix of the sorted order), which spares a
 * sort of the vocabulary at every step; otherwise every token is sorted.
 */
export function sampleNucleus(
  logProbs: Float32Array,
  offset: number,
  vocab: number,
  options: NucleusOptions,
  rng: Rng,
  exclude: ReadonlySet<number>,
): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (!exclude.has(v) && logProbs[offset + v] > max) max = logProbs[offset + v];
  // Weights relative to the most likely token, computed once (excluded tokens weigh 0).
  const weights = new Float64Array(vocab);
  let total = 0;
  for (let v = 0; v < vocab; v++) {
    if (exclude.has(v)) continue;
    weights[v] = Math.exp((logProbs[offset + v] - max) / options.temperature);
    total += weights[v];
  }
  const weight = (v: number): number => weights[v];
  const pick = (threshold: number): number[] => {
    const ids: number[] = [];
    for (let v = 0; v < vocab; v++) if (!exclude.has(v) && weights[v] >= threshold) ids.push(v);
    return ids.sort((a, b) => weights[b] - weights[a] || a - b);
  };
  let candidates = pick(1e-6);
  const mass = candidates.reduce((s, v) => s + weight(v), 0);
  if (mass < options.topP * total) candidates = pick(0);
  const nucleus: number[] = [];
  let kept = 0;
  for (const v of candidates) {
    nucleus.push(v);
    kept += weight(v);
    if (kept >= options.topP * total) break;
  }
  let u = rng.next() * kept;
  for (const v of nucleus) {
    u -= weight(v);
    if (u < 0) return v;
  }
  return nucleus[nucleus.length - 1];
}

export interface AugmentationSampling extends NucleusOptions {
  /** Augmentations per query (5). */
  samples: number;
  maxTokens: number;
  maxSourceTokens: number;
  seed: number;
  /** Queries decoded together (rows = queries × samples). */
  batchQueries?: number;
}

/**
 * `samples` augmentations per query. Sample j of query q draws from its own RNG seeded by
 * (seed, the query's id, j), so the draws do not depend on batching. Empty samples stay (as '').
 */
export async function sampleAugmentations(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  queries: readonly { id: string; text: string }[],
  options: AugmentationSampling,
): Promise<string[][]> {
  const { padTokenId: pad, eosTokenId: eos, decoderStartTokenId: start } = model.config;
  const vocab = model.config.vocabSize + model.config.docidVocabSize;
  const exclude = new Set([pad, start]);
  const out: string[][] = [];
  const batchQueries = options.batchQueries ?? 16;
  for (let first = 0; first < queries.length; first += batchQueries) {
    const group = queries.slice(first, first + batchQueries);
    const { inputIds, mask, srcLength } = encoderInputs(
      group.map((q) => tokenizer.encode(q.text).subarray(0, options.maxSourceTokens)),
      pad,
      eos,
    );
    const rows = group.flatMap((_, q) => Array.from({ length: options.samples }, () => q));
    const encoded = expandEncoded(await model.encode(inputIds, mask, group.length, srcLength), rows);
    const rngs = rows.map(
      (q, r) => new Rng(Number(fnv1a64(`augment\u0000${options.seed}\u0000${group[q].id}\u0000${r % options.samples}`) & 0xffffffffn)),
    );
    const generated = await decodeRows(model, encoded, options.maxTokens, (logProbs, offset, r) =>
      sampleNucleus(logProbs, offset, vocab, options, rngs[r], exclude),
    );
    group.forEach((_, q) =>
      out.push(
        generated.slice(q * options.samples, (q + 1) * options.samples).map((t) => tokenizer.decode(t, { skipSpecialTokens: true }).trim()),
      ),
    );
  }
  return out;
}

/** One greedy augmentation per query (inference and RLGF). */
export async function greedyAugmentations(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  texts: readonly string[],
  options: { maxTokens: number; maxSourceTokens: number; batch?: number },
): Promise<string[]> {
  const out: string[] = [];
  const batch = options.batch ?? 32;
  for (let first = 0; first < texts.length; first += batch) {
    const sources = texts.slice(first, first + batch).map((t) => tokenizer.encode(t).subarray(0, options.maxSourceTokens));
    const decoded = await model.greedyDecode(sources, options.maxTokens);
    out.push(...decoded.map((t) => tokenizer.decode(t, { skipSpecialTokens: true }).trim()));
  }
  return out;
}

/**
 * The generator's preference among passages for a query: the mean per-token log-probability
 * of the passage's first `passageTokens` tokens given the query (a length-neutral likelihood;
 * the sum would favour short passages). One score per passage of each list.
 */
export async function generatorPassageScores(
  model: T5Model,
  tokenizer: SubwordTokenizer,
  lists: readonly { query: string; passages: readonly string[] }[],
  options: { maxSourceTokens: number; passageTokens: number; threads?: number },
): Promise<number[][]> {
  const scorer = await GroupedScorer.create(model, { threads: options.threads, rowsPerRun: 256 });
  try {
    const groups = lists.map((list) => ({
      source: tokenizer.encode(list.query).subarray(0, options.maxSourceTokens),
      targets: list.passages.map((p) => tokenizer.encode(p).subarray(0, options.passageTokens)),
    }));
    const sums = await scorer.score(groups, {
      padId: model.config.padTokenId,
      eosId: model.config.eosTokenId,
      decoderStartId: model.config.decoderStartTokenId,
    });
    // Each row's score covers its tokens and the EOS.
    return sums.map((row, i) => row.map((sum, j) => sum / (groups[i].targets[j].length + 1)));
  } finally {
    await scorer.release();
  }
}
