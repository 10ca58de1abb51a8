/**
 * Paired significance tests between two systems' per-query scores: the two-sided
 * paired t-test and the paired randomization (sign-flip) test that IR papers use
 * (Smucker, Allan & Carterette, CIKM 2007).
 */
import { Rng } from '../util/random.js';

/** Lanczos approximation (g = 7, 9 terms) of ln Γ(x) for x > 0; ~15 significant digits. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/**
 * The regularized incomplete beta function I_x(a, b), by its continued fraction
 * (evaluated with the modified Lentz method) on the side of x where it converges fast.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0 (got ${a}, ${b})`);
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b));
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-16;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let fraction = d;
  for (let m = 1; m <= 10000; m++) {
    const twoM = 2 * m;
    // Even step: m(b - m)x / ((a + 2m - 1)(a + 2m)).
    let coefficient = (m * (b - m) * x) / ((a + twoM - 1) * (a + twoM));
    d = 1 + coefficient * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coefficient / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    fraction *= d * c;
    // Odd step: -(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)).
    coefficient = (-(a + m) * (a + b + m) * x) / ((a + twoM) * (a + twoM + 1));
    d = 1 + coefficient * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coefficient / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    fraction *= step;
    if (Math.abs(step - 1) < epsilon) return fraction;
  }
  return fraction;
}

/** P(|T| >= |t|) for Student's t with `df` degrees of freedom. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Student's t cumulative distribution function P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTTwoSidedP(t, df) / 2;
  return t >= 0 ? 1 - tail : tail;
}

function checkPaired(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new RangeError(`paired test needs equally long score lists (got ${a.length} and ${b.length})`);
}

/**
 * Two-sided paired t-test of mean(a − b) = 0. With fewer than two pairs the result is
 * NaN; when every difference is exactly 0 the systems are indistinguishable: t = 0, p = 1.
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): { t: number; df: number; p: number } {
  checkPaired(a, b);
  const n = a.length;
  const df = n - 1;
  if (n < 2) return { t: Number.NaN, df, p: Number.NaN };
  let meanDiff = 0;
  for (let i = 0; i < n; i++) meanDiff += a[i] - b[i];
  meanDiff /= n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const deviation = a[i] - b[i] - meanDiff;
    squares += deviation * deviation;
  }
  const standardError = Math.sqrt(squares / df / n);
  if (standardError === 0) {
    return meanDiff === 0 ? { t: 0, df, p: 1 } : { t: meanDiff > 0 ? Infinity : -Infinity, df, p: 0 };
  }
  const t = meanDiff / standardError;
  return { t, df, p: studentTTwoSidedP(t, df) };
}

export interface RandomizationOptions {
  /** Number of random sign assignments (default 10,000). */
  trials?: number;
  /** Seed of the sign flips (default 0); the same seed gives the same p. */
  seed?: number;
}

/**
 * Two-sided paired randomization test: under the null hypothesis each query's
 * difference a_i − b_i is as likely to have either sign, so the signs are flipped at
 * random `trials` times and p is the share of trials whose |mean difference| reaches
 * the observed one, counting the observed assignment itself: p = (hits + 1) / (trials + 1),
 * which is never 0 and is a valid p-value for a Monte Carlo test.
 */
export function randomizationTest(a: readonly number[], b: readonly number[], options: RandomizationOptions = {}): { p: number } {
  checkPaired(a, b);
  const trials = options.trials ?? 10_000;
  if (!Number.isSafeInteger(trials) || trials < 1) throw new RangeError(`trials must be a positive integer (got ${trials})`);
  const n = a.length;
  if (n === 0) return { p: Number.NaN };
  const diffs = new Float64Array(n);
  let observed = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    diffs[i] = a[i] - b[i];
    observed += diffs[i];
    scale += Math.abs(diffs[i]);
  }
  // Sums in another order differ in the last bits; a tie with the observed sum must count.
  const threshold = Math.abs(observed) - scale * 1e-12;
  const rng = new Rng(options.seed ?? 0);
  let hits = 0;
  for (let trial = 0; trial < trials; trial++) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < n; i++) {
      // One 32-bit draw gives 32 signs (Rng.next() is a 32-bit integer over 2^32).
      if ((i & 31) === 0) bits = (rng.next() * 4294967296) >>> 0;
      sum += bits & 1 ? -diffs[i] : diffs[i];
      bits >>>= 1;
    }
    if (Math.abs(sum) >= threshold) hits++;
  }
  return { p: (hits + 1) / (trials + 1) };
}

/**
 * Holm's step-down adjustment of p-values for m simultaneous tests (family-wise error rate):
 * the i-th smallest p becomes max over j ≤ i of min(1, (m − j + 1) · p_(j)). Adjusted values
 * come back in the input's order; NaN stays NaN and is not counted in m.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).filter(({ p }) => !Number.isNaN(p));
  order.sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = pValues.map(() => Number.NaN);
  const m = order.length;
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
