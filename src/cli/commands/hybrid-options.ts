/** `--mode genir|bm25|hybrid` and the fusion options shared by `genir search` and `genir eval --model`. */
import type { Command } from 'commander';
import {
  DEFAULT_BM25_DEPTH,
  DEFAULT_RRF_K,
  FUSION_METHODS,
  SCORE_NORMALIZATIONS,
  type FusionMethod,
  type ScoreNormalization,
} from '../../search/hybrid.js';
import { UserError } from '../../util/errors.js';
import { parseCount, parseNonNegativeNumber, parseUnitInterval, refuseOptions } from '../options.js';

export type RetrievalMode = 'genir' | 'bm25' | 'hybrid';
export const RETRIEVAL_MODES: readonly RetrievalMode[] = ['genir', 'bm25', 'hybrid'];

export interface HybridCommandOptions {
  mode?: string;
  fusion?: string;
  rrfK?: string;
  alpha?: string;
  normalization?: string;
  bm25Depth?: string;
}

export interface HybridSettings {
  mode: RetrievalMode;
  fusion: FusionMethod;
  rrfK: number;
  /** Undefined: tune on a dev split (eval) or required (search). */
  alpha: number | undefined;
  normalization: ScoreNormalization;
  bm25Depth: number;
}

export function addHybridOptions(command: Command): Command {
  return command
    .option('--mode <mode>', 'genir (constrained beam search), bm25 (over the same corpus) or hybrid (both, fused)', 'genir')
    .option(
      '--fusion <method>',
      `with --mode hybrid: rrf (reciprocal-rank fusion) or interp (normalised score interpolation) (default: rrf)`,
    )
    .option('--rrf-k <n>', `with --fusion rrf: rank offset k in 1 / (k + rank) (default: ${DEFAULT_RRF_K})`)
    .option('--alpha <a>', "with --fusion interp: GenIR's weight in [0, 1], BM25 gets 1 − a")
    .option('--normalization <name>', 'with --fusion interp: per-query score normalisation, minmax or zscore (default: minmax)')
    .option('--bm25-depth <n>', `with --mode hybrid: BM25 documents fused per query (default: ${DEFAULT_BM25_DEPTH})`);
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UserError(`${option} ${value}: expected ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`);
  return value as T;
}

/** Validates the options together: each applies only to the mode and fusion it belongs to. */
export function parseHybridOptions(options: HybridCommandOptions): HybridSettings {
  const mode = oneOf(options.mode ?? 'genir', RETRIEVAL_MODES, '--mode');
  if (mode !== 'hybrid') {
    refuseOptions(
      [
        [options.fusion, '--fusion'],
        [options.rrfK, '--rrf-k'],
        [options.alpha, '--alpha'],
        [options.normalization, '--normalization'],
        [options.bm25Depth, '--bm25-depth'],
      ],
      `--mode hybrid, not --mode ${mode}`,
    );
  }
  const fusion = oneOf(options.fusion ?? 'rrf', FUSION_METHODS, '--fusion');
  if (fusion === 'rrf') {
    refuseOptions(
      [
        [options.alpha, '--alpha'],
        [options.normalization, '--normalization'],
      ],
      '--fusion interp, not rrf',
    );
  } else if (options.rrfK !== undefined) {
    throw new UserError('--rrf-k applies to --fusion rrf, not interp');
  }
  let rrfK = DEFAULT_RRF_K;
  if (options.rrfK !== undefined) {
    rrfK = parseNonNegativeNumber(options.rrfK, '--rrf-k');
  }
  let alpha: number | undefined;
  if (options.alpha !== undefined) {
    alpha = parseUnitInterval(options.alpha, '--alpha');
  }
  const normalization = oneOf(options.normalization ?? 'minmax', SCORE_NORMALIZATIONS, '--normalization');
  const bm25Depth = options.bm25Depth === undefined ? DEFAULT_BM25_DEPTH : parseCount(options.bm25Depth, '--bm25-depth');
  return { mode, fusion, rrfK, alpha, normalization, bm25Depth };
}
