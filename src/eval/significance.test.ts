import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  logGamma,
  pairedTTest,
  randomizationTest,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTTwoSidedP,
  holmAdjust,
} from './significance.js';

function near(actual: number, expected: number, tolerance: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message ?? ''} expected ${expected} ± ${tolerance}, got ${actual}`);
}

test('log-gamma matches closed forms', () => {
  near(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
  near(logGamma(1), 0, 1e-13);
  near(logGamma(10), Math.log(362880), 1e-12);
  // scipy.special.gammaln(0.1) and gammaln(1e5)
  near(logGamma(0.1), 2.252712651734206, 1e-12);
  near(logGamma(1e5), 1051287.7089736569, 1e-6);
});

test('regularized incomplete beta matches closed forms and scipy.special.betainc', () => {
  near(regularizedIncompleteBeta(0.5, 2, 3), 11 / 16, 1e-14);
  // I_x(1/2, 1/2) = (2/π)·asin(√x)
  near(regularizedIncompleteBeta(0.3, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(0.3)), 1e-13);
  // I_x(a, 1) = x^a
  near(regularizedIncompleteBeta(0.7, 4.5, 1), 0.7 ** 4.5, 1e-14);
  // scipy.special.betainc(50, 3, 0.9)
  near(regularizedIncompleteBeta(0.9, 50, 3), 0.09663328513725222, 1e-13);
  // symmetry I_x(a, b) = 1 − I_{1−x}(b, a)
  near(regularizedIncompleteBeta(0.2, 3.5, 7), 1 - regularizedIncompleteBeta(0.8, 7, 3.5), 1e-14);
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.throws(() => regularizedIncompleteBeta(0.5, 0, 1), RangeError);
});

test('Student t two-sided p-values match published tables and scipy.stats.t', () => {
  // 2 * scipy.stats.t.sf(|t|, df)
  near(studentTTwoSidedP(2.0, 10), 0.07338803477074037, 1e-13);
  near(studentTTwoSidedP(-2.0, 10), 0.07338803477074037, 1e-13);
  near(studentTTwoSidedP(2.228, 10), 0.05001177181711132, 1e-13); // the textbook 5% critical value
  near(studentTTwoSidedP(0.5, 1), 0.7048327646991335, 1e-13); // Cauchy: 1 − (2/π)·atan(0.5)
  near(studentTTwoSidedP(10, 3), 0.0021283990584141503, 1e-15);
  near(studentTTwoSidedP(1.96, 1e6), 0.05, 1e-4); // approaches the normal distribution
  assert.equal(studentTTwoSidedP(0, 5), 1);
  assert.equal(studentTTwoSidedP(Infinity, 5), 0);
  near(studentTCdf(2.0, 10), 1 - 0.07338803477074037 / 2, 1e-13);
  near(studentTCdf(-2.0, 10), 0.07338803477074037 / 2, 1e-13);
});

const SYSTEM_A = [0.5, 0.7, 0.2, 0.9, 0.4, 0.6, 0.3, 0.8];
const SYSTEM_B = [0.4, 0.5, 0.3, 0.6, 0.4, 0.5, 0.1, 0.7];

test('paired t-test matches scipy.stats.ttest_rel', () => {
  // scipy.stats.ttest_rel(SYSTEM_A, SYSTEM_B): statistic 2.5528888301902897, pvalue 0.03794328796316369
  const result = pairedTTest(SYSTEM_A, SYSTEM_B);
  near(result.t, 2.5528888301902897, 1e-12);
  assert.equal(result.df, 7);
  near(result.p, 0.03794328796316369, 1e-12);
  const reversed = pairedTTest(SYSTEM_B, SYSTEM_A);
  near(reversed.t, -result.t, 1e-12);
  near(reversed.p, result.p, 1e-15);
});

test('paired t-test edge cases: identical systems, constant difference, too few pairs, unequal lengths', () => {
  assert.deepEqual(pairedTTest([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), { t: 0, df: 2, p: 1 });
  const constant = pairedTTest([0.5, 0.6, 0.7], [0.4, 0.5, 0.6]);
  assert.equal(constant.p, 0); // a difference with no variance at all
  assert.ok(Number.isNaN(pairedTTest([1], [0]).p));
  assert.throws(() => pairedTTest([1, 2], [1]), RangeError);
});

test('randomization test approximates the exact permutation p-value and is reproducible', () => {
  // Enumerating all 2^8 sign assignments of SYSTEM_A − SYSTEM_B gives an exact p of 20/256 = 0.078125.
  const first = randomizationTest(SYSTEM_A, SYSTEM_B, { trials: 20_000, seed: 1 });
  near(first.p, 0.078125, 0.006);
  assert.deepEqual(randomizationTest(SYSTEM_A, SYSTEM_B, { trials: 20_000, seed: 1 }), first);
  assert.notEqual(randomizationTest(SYSTEM_A, SYSTEM_B, { trials: 20_000, seed: 2 }).p, first.p);
});

test('randomization test edge cases', () => {
  assert.equal(randomizationTest([0.3, 0.4], [0.3, 0.4], { trials: 100 }).p, 1);
  // A large consistent difference over 40 queries: no sign flip reaches it, p = 1 / (trials + 1).
  const better = Array.from({ length: 40 }, (_, i) => 0.6 + (i % 5) / 100);
  const worse = better.map((v) => v - 0.3);
  assert.equal(randomizationTest(better, worse, { trials: 999, seed: 3 }).p, 1 / 1000);
  assert.ok(Number.isNaN(randomizationTest([], []).p));
  assert.throws(() => randomizationTest([1], [1], { trials: 0 }), RangeError);
  assert.throws(() => randomizationTest([1, 2], [1]), RangeError);
});

test("Holm's adjustment: step-down multipliers, monotone in the sorted order, capped at 1, NaN left out", () => {
  // Sorted p: 0.01 (×4), 0.02 (×3), 0.03 (×2), 0.5 (×1): 0.04, 0.06, 0.06 (monotone), 0.5.
  const adjusted = holmAdjust([0.03, 0.5, 0.01, Number.NaN, 0.02]);
  const expected = [0.06, 0.5, 0.04, Number.NaN, 0.06];
  adjusted.forEach((p, i) =>
    Number.isNaN(expected[i]) ? assert.ok(Number.isNaN(p)) : assert.ok(Math.abs(p - expected[i]) < 1e-12, `${i}: ${p}`),
  );
  assert.deepEqual(holmAdjust([0.6, 0.7]), [1, 1]);
  assert.deepEqual(holmAdjust([]), []);
});
