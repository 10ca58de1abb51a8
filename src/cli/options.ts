/**
 * The option layer shared by the commands: the option groups several commands declare (data,
 * runtime, output), the number parsers, and where a command's output goes. A bad value is one
 * UserError naming the option and the value (`--k1 0x1: expected a non-negative number`).
 */
import { Option } from 'commander';
import { WEIGHT_QUANTIZATIONS, type WeightQuantization } from '../model/t5-graph.js';
import { UserError } from '../util/errors.js';

/** Where a command writes what it prints on stdout; injected so the CLI can be run in-process. */
export type Write = (text: string) => void;

export const writeStdout: Write = (text) => {
  process.stdout.write(text);
};

// Decimal numbers only: Number() would also take '' (0), '0x10', '1_0'-free hex/binary/octal
// and 'Infinity', none of which anyone means on a command line.
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const DIGITS = /^\s*\+?\d+\s*$/;

interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** What the message says is expected, e.g. 'a positive integer'. */
  expected: string;
}

/** A finite decimal number within the rule, or a UserError `<option> <value>: expected …`. */
export function parseNumber(value: string, option: string, rule: NumberRule): number {
  const n = Number(value);
  const fits =
    (rule.integer ? DIGITS.test(value) && Number.isSafeInteger(n) : DECIMAL.test(value) && Number.isFinite(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.above === undefined || n > rule.above) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.below === undefined || n < rule.below);
  if (!fits) throw new UserError(`${option} ${value}: expected ${rule.expected}`);
  return n;
}

/** An integer >= 1 (counts: --k, --beam, --threads, --top-k, …). */
export function parseCount(value: string, option: string): number {
  return parseNumber(value, option, { integer: true, min: 1, expected: 'a positive integer' });
}

export function parseNonNegativeInteger(value: string, option: string): number {
  return parseNumber(value, option, { integer: true, min: 0, expected: 'a non-negative integer' });
}

export function parsePositiveNumber(value: string, option: string): number {
  return parseNumber(value, option, { above: 0, expected: 'a positive number' });
}

export function parseNonNegativeNumber(value: string, option: string): number {
  return parseNumber(value, option, { min: 0, expected: 'a non-negative number' });
}

/** A number in [0, 1) (dropout, mixing fractions). */
export function parseFraction(value: string, option: string): number {
  return parseNumber(value, option, { min: 0, below: 1, expected: 'a number in [0, 1)' });
}

/** A number in [0, 1] (BM25's b, an interpolation weight). */
export function parseUnitInterval(value: string, option: string): number {
  return parseNumber(value, option, { min: 0, max: 1, expected: 'a number in [0, 1]' });
}

/** `--seed`: an integer >= 0. */
export function parseSeed(value: string): number {
  return parseNonNegativeInteger(value, '--seed');
}

/** `--threads`: a positive integer, or undefined (every core) when the option is absent. */
export function parseThreads(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseCount(value, '--threads');
}

const DATA_DIR_HELP = 'where datasets live (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)';
const THREADS_HELP = 'ONNX Runtime threads (default: every core)';
const JSON_HELP = 'print one JSON object as the last line of stdout';

/** The data group: `--data-dir <dir>`; `help` replaces the text where a command reads datasets differently. */
export function dataDirOption(help = DATA_DIR_HELP): Option {
  return new Option('--data-dir <dir>', help);
}

/** The runtime group: `--threads <n>` (parsed by parseThreads). */
export function threadsOption(help = THREADS_HELP): Option {
  return new Option('--threads <n>', help);
}

/**
 * `--option a,b` where each value is one of `allowed`: trimmed, duplicates dropped, at least one;
 * `noun` names a value in the one-line errors.
 */
export function parseChoiceList<T extends string>(list: string, option: string, allowed: readonly T[], noun: string): T[] {
  const values = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (values.length === 0) throw new UserError(`${option}: no ${noun} given`);
  for (const value of values)
    if (!(allowed as readonly string[]).includes(value))
      throw new UserError(`${option} ${list}: unknown ${noun} '${value}' (${allowed.join(', ')})`);
  return [...new Set(values)] as T[];
}

/**
 * The inference group: `--quantize int8` builds the inference graphs with int8 weights from the
 * model's weights at load (docs/serving.md, "int8 inference"); without it, the float32 graphs.
 */
export function quantizeOption(): Option {
  return new Option(
    '--quantize <int8>',
    'search with int8 weight matrices (faster on CPUs with VNNI/AMX; rankings change slightly, docs/serving.md) instead of float32',
  );
}

/** `--quantize`'s value, or undefined (float32) when the option is absent. */
export function parseQuantize(value: string | undefined): WeightQuantization | undefined {
  if (value === undefined) return undefined;
  if (!(WEIGHT_QUANTIZATIONS as readonly string[]).includes(value))
    throw new UserError(`--quantize ${value}: expected ${WEIGHT_QUANTIZATIONS.join(' or ')} (leave the option out for float32)`);
  return value as WeightQuantization;
}

/** The output group: `--json`. */
export function jsonOption(help = JSON_HELP): Option {
  return new Option('--json', help);
}

/**
 * Refuses options given where they mean nothing: the first of `given` with a value is one
 * line, "<flag> applies to <where>" (exit code 2), rather than an option silently ignored.
 */
export function refuseOptions(given: readonly (readonly [unknown, string])[], where: string): void {
  for (const [value, flag] of given) if (value !== undefined) throw new UserError(`${flag} applies to ${where}`);
}
