import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import {
  parseCount,
  parseFraction,
  parseNonNegativeInteger,
  parseNonNegativeNumber,
  parsePositiveNumber,
  parseSeed,
  parseThreads,
  parseUnitInterval,
} from './options.js';
import { main } from './program.js';
import { runGenir } from './testing.js';

type Parser = (value: string, option: string) => number;

// Number() turns '' into 0, '0x10' into 16 and 'Infinity' into a number; none of them is what
// a user meant, and each reached a command before the option layer.
const rejected: [string, Parser, string, string][] = [
  ['parseCount', parseCount, '0x10', 'a positive integer'],
  ['parseCount', parseCount, '', 'a positive integer'],
  ['parseCount', parseCount, '2.5', 'a positive integer'],
  ['parseCount', parseCount, '0', 'a positive integer'],
  ['parseCount', parseCount, '1e3', 'a positive integer'],
  ['parseNonNegativeInteger', parseNonNegativeInteger, ' ', 'a non-negative integer'],
  ['parseNonNegativeInteger', parseNonNegativeInteger, '-1', 'a non-negative integer'],
  ['parsePositiveNumber', parsePositiveNumber, 'NaN', 'a positive number'],
  ['parsePositiveNumber', parsePositiveNumber, 'Infinity', 'a positive number'],
  ['parsePositiveNumber', parsePositiveNumber, '0', 'a positive number'],
  ['parseNonNegativeNumber', parseNonNegativeNumber, '0b1', 'a non-negative number'],
  ['parseNonNegativeNumber', parseNonNegativeNumber, '', 'a non-negative number'],
  ['parseFraction', parseFraction, '1', 'a number in [0, 1)'],
  ['parseUnitInterval', parseUnitInterval, '1.5', 'a number in [0, 1]'],
  ['parseUnitInterval', parseUnitInterval, '0x1', 'a number in [0, 1]'],
];

for (const [name, parse, value, expected] of rejected) {
  test(`${name} rejects '${value}' with one line naming the option`, () => {
    assert.throws(
      () => parse(value, '--opt'),
      (err: unknown) => err instanceof UserError && err.message === `--opt ${value}: expected ${expected}`,
    );
  });
}

test('the parsers accept plain decimal numbers, with spaces around them', () => {
  assert.equal(parseCount(' 12 ', '--k'), 12);
  assert.equal(parseNonNegativeInteger('0', '--warmup'), 0);
  assert.equal(parsePositiveNumber('1e-3', '--lr'), 0.001);
  assert.equal(parsePositiveNumber('.5', '--lr'), 0.5);
  assert.equal(parseNonNegativeNumber('0.9', '--k1'), 0.9);
  assert.equal(parseFraction('0', '--dropout'), 0);
  assert.equal(parseUnitInterval('1', '--b'), 1);
  assert.equal(parseSeed('7'), 7);
  assert.equal(parseThreads(undefined), undefined);
  assert.equal(parseThreads('2'), 2);
  assert.throws(() => parseSeed(''), /^UserError: --seed : expected a non-negative integer$/);
});

test('genir bm25 --k1 0x1 is one line and exit code 2 (it used to run with k1 = 1)', async () => {
  const result = await runGenir(['bm25', '--dataset', 'cranfield', '--k1', '0x1']);
  assert.deepEqual(result, { code: 2, stdout: '', stderr: 'genir: error: --k1 0x1: expected a non-negative number\n' });
});

test('genir train sft --seed "" is refused before any work (it used to train with seed 0)', async () => {
  const result = await runGenir([
    'train',
    'sft',
    '--dataset',
    'cranfield',
    '--docids',
    'title',
    '--model',
    'tiny',
    '--out',
    'never-written',
    '--seed',
    '',
  ]);
  assert.deepEqual(result, { code: 2, stdout: '', stderr: 'genir: error: --seed : expected a non-negative integer\n' });
});

test("main() writes a command's output and --version to the stream it is given, not to process.stdout", async () => {
  let written = '';
  const original = process.stdout.write.bind(process.stdout);
  let leaked = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    leaked += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await main(['node', 'genir', 'datasets', 'list', '--json'], (text) => (written += text)), 0);
    const listed = JSON.parse(written) as { id: string }[];
    assert.ok(
      listed.some((d) => d.id === 'scifact'),
      written,
    );
    written = '';
    assert.equal(await main(['node', 'genir', '--version'], (text) => (written += text)), 0);
    assert.match(written, /^\d+\.\d+\.\d+\n$/);
  } finally {
    process.stdout.write = original;
  }
  assert.equal(leaked, '');
});
