import type { Delta } from "./result.ts";

/**
 * Statistics behind the KPI deltas and the gates (docs/results.md). Pure and deterministic:
 * every random draw comes from a PRNG seeded by a string, so the same input gives the same
 * report on every machine and every rerun.
 */

// ---------------------------------------------------------------------------------------
// Normal quantile: Wichura, Algorithm AS 241 (PPND16), Applied Statistics 37 (1988) 477–484.
// Chosen over Acklam's because it reaches ~1e-16 relative accuracy without a refinement
// step, which would need an erfc that JavaScript does not have.
// Coefficients are in ascending powers (constant term first), written as the nearest
// doubles of the published 20-digit values (what JavaScript would round them to anyway).

const AS241_CENTRAL_NUM = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const AS241_CENTRAL_DEN = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const AS241_NEAR_NUM = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const AS241_NEAR_DEN = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const AS241_FAR_NUM = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const AS241_FAR_DEN = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

function horner(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + (coefficients[i] ?? 0);
  return value;
}

/** The standard normal quantile Φ⁻¹(p); ±Infinity at 0 and 1. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_CENTRAL_NUM, r)) / horner(AS241_CENTRAL_DEN, r);
  }
  // Tails: work with the smaller of p and 1 − p so no precision is lost near 1.
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const tail =
    r <= 5
      ? horner(AS241_NEAR_NUM, r - 1.6) / horner(AS241_NEAR_DEN, r - 1.6)
      : horner(AS241_FAR_NUM, r - 5) / horner(AS241_FAR_DEN, r - 5);
  return q < 0 ? -tail : tail;
}

/** Two-sided 95 % critical value, z₀.₉₇₅ ≈ 1.959964. */
export const Z_975 = normalQuantile(0.975);
/** Power term for 80 % power, z₀.₈ ≈ 0.841621. */
export const Z_80 = normalQuantile(0.8);

// ---------------------------------------------------------------------------------------
// Student t quantile, for the paired mean-difference intervals of count KPIs. With 20 cases
// t₁₉ is 2.09, not 1.96: the normal value would understate the noise of small runs.

/**
 * P(T ≤ t) for integer degrees of freedom, from the finite trigonometric series of
 * Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df); exact up to rounding.
 */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`studentTCdf: df must be a positive integer`);
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const cos2 = Math.cos(theta) ** 2;
  let central: number; // P(|T| ≤ |t|)
  if (df % 2 === 1) {
    let sum = 0;
    if (df > 1) {
      let term = 1;
      sum = 1;
      for (let j = 1; j <= (df - 3) / 2; j++) {
        term *= ((2 * j) / (2 * j + 1)) * cos2;
        sum += term;
      }
    }
    central = (2 / Math.PI) * (theta + Math.sin(theta) * Math.cos(theta) * sum);
  } else {
    let term = 1;
    let sum = 1;
    for (let j = 1; j <= (df - 2) / 2; j++) {
      term *= ((2 * j - 1) / (2 * j)) * cos2;
      sum += term;
    }
    central = Math.sin(theta) * sum;
  }
  return t >= 0 ? 0.5 + central / 2 : 0.5 - central / 2;
}

/** The Student t quantile, by bisection on the exact CDF (monotone, so bisection cannot miss). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (p === 0.5) return 0;
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-13 * high; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

// ---------------------------------------------------------------------------------------
// Quantiles of data

/**
 * The q-quantile of ascending data by linear interpolation between order statistics
 * (Hyndman & Fan type 7: R's and NumPy's default), so p95 of a small run moves smoothly
 * instead of jumping from one observed latency to the next. `null` for no data.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const lower = sorted[below] ?? 0;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] ?? lower;
  return lower + (position - below) * (upper - lower);
}

/** Sorted copy. A typed array sorts numerically without a comparator call per step: bootstraps sort thousands of times. */
export function ascending(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

// ---------------------------------------------------------------------------------------
// Single proportion

function assertCounts(successes: number, trials: number, what: string): void {
  const valid =
    Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 && successes <= trials;
  if (!valid)
    throw new RangeError(`${what}: need integers 0 ≤ successes ≤ trials, got ${successes}/${trials}`);
}

/**
 * Wilson score interval for k successes in n trials (Wilson 1927), without continuity
 * correction. Unlike the Wald interval it stays inside [0, 1] and does not collapse to a
 * point at 0 or n successes, which is exactly where error rates live. `null` when n = 0.
 */
export function wilson(k: number, n: number, z = Z_975): [number, number] | null {
  assertCounts(k, n, "wilson");
  if (n === 0) return null;
  const p = k / n;
  const z2 = z * z;
  const shrink = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / shrink;
  const halfWidth = (z / shrink) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // The bounds are exactly 0 and 1 at the extremes; pin them so rounding never shows 1e-17.
  const lower = k === 0 ? 0 : Math.max(0, center - halfWidth);
  const upper = k === n ? 1 : Math.min(1, center + halfWidth);
  return [lower, upper];
}

/**
 * Upper end of the two-sided 95 % Wilson interval of an error rate. With 0 errors in n cases
 * it is z²/(n + z²) ≈ 3.84/(n + 3.84): a little above the "rule of three" 3/n (the one-sided
 * exact bound) and close to the two-sided exact bound 1 − 0.025^(1/n) ≈ 3.69/n.
 */
export function errorRateUpperBound(errors: number, n: number): number | null {
  return wilson(errors, n)?.[1] ?? null;
}

// ---------------------------------------------------------------------------------------
// Paired difference of two proportions: Newcombe (1998), Stat Med 17:2635–2650, method 10.

/** The paired 2×2 table of one binary outcome on the same cases, base vs head. */
export interface PairedTable {
  both: number;
  headOnly: number;
  baseOnly: number;
  neither: number;
}

/** Pairs are `[base, head]`: the outcome (e.g. "completed") on each side of one case. */
export type OutcomePair = readonly [base: boolean, head: boolean];

export function pairedTable(pairs: readonly OutcomePair[]): PairedTable {
  const table: PairedTable = { both: 0, headOnly: 0, baseOnly: 0, neither: 0 };
  for (const [base, head] of pairs) {
    if (base && head) table.both++;
    else if (head) table.headOnly++;
    else if (base) table.baseOnly++;
    else table.neither++;
  }
  return table;
}

/**
 * Correlation of the two sides' outcomes with Newcombe's correction for method 10: a positive
 * cross-product ad − bc is shrunk by n/2 (floored at 0) before dividing, which keeps the
 * interval from getting too narrow on small tables; 0 when a margin is empty.
 */
function newcombeCorrectedPhi(t: PairedTable): number {
  const n = t.both + t.headOnly + t.baseOnly + t.neither;
  const headMargins = (t.both + t.headOnly) * (t.baseOnly + t.neither);
  const baseMargins = (t.both + t.baseOnly) * (t.headOnly + t.neither);
  if (headMargins === 0 || baseMargins === 0) return 0;
  const cross = t.both * t.neither - t.headOnly * t.baseOnly;
  const corrected = cross > n / 2 ? cross - n / 2 : Math.min(cross, 0);
  return corrected / (Math.sqrt(headMargins) * Math.sqrt(baseMargins));
}

/**
 * head rate − base rate on paired cases with Newcombe's hybrid score interval (method 10):
 * each side's Wilson interval gives the distance to its bounds, and the two distances are
 * combined "square and add" with the within-case correlation taken out. It is closed-form,
 * stays within [−1, 1] and behaves at 0 and 100 % where the Wald interval collapses.
 */
export function newcombePairedInterval(t: PairedTable, z = Z_975): Delta {
  const n = t.both + t.headOnly + t.baseOnly + t.neither;
  if (n === 0) return { delta: null, ci95: null };
  const headRate = (t.both + t.headOnly) / n;
  const baseRate = (t.both + t.baseOnly) / n;
  const [headLow, headHigh] = wilson(t.both + t.headOnly, n, z) ?? [0, 1];
  const [baseLow, baseHigh] = wilson(t.both + t.baseOnly, n, z) ?? [0, 1];
  const phi = newcombeCorrectedPhi(t);
  const delta = (t.headOnly - t.baseOnly) / n;
  const down = squareAndAdd(headRate - headLow, baseHigh - baseRate, phi);
  const up = squareAndAdd(headHigh - headRate, baseRate - baseLow, phi);
  return { delta, ci95: [Math.max(-1, delta - down), Math.min(1, delta + up)] };
}

function squareAndAdd(first: number, second: number, correlation: number): number {
  return Math.sqrt(Math.max(0, first * first - 2 * correlation * first * second + second * second));
}

/** head − base of a binary outcome on paired cases (pairs are `[base, head]`); nulls for none. */
export function pairedRateDelta(pairs: readonly OutcomePair[]): Delta {
  return newcombePairedInterval(pairedTable(pairs));
}

// ---------------------------------------------------------------------------------------
// Independent difference of two proportions: Newcombe (1998), Stat Med 17:873–890, method 10.

export interface Proportion {
  successes: number;
  trials: number;
}

/** first − second for two independent samples (production arms), hybrid score interval. */
export function newcombeIndependentInterval(first: Proportion, second: Proportion, z = Z_975): Delta {
  const firstBounds = wilson(first.successes, first.trials, z);
  const secondBounds = wilson(second.successes, second.trials, z);
  if (!firstBounds || !secondBounds) return { delta: null, ci95: null };
  const p1 = first.successes / first.trials;
  const p2 = second.successes / second.trials;
  const delta = p1 - p2;
  const down = squareAndAdd(p1 - firstBounds[0], secondBounds[1] - p2, 0);
  const up = squareAndAdd(firstBounds[1] - p1, p2 - secondBounds[0], 0);
  return { delta, ci95: [Math.max(-1, delta - down), Math.min(1, delta + up)] };
}

// ---------------------------------------------------------------------------------------
// Paired mean difference (count KPIs such as retries and tool calls per case)

/**
 * Mean of per-case differences (head − base) with a Student t interval. One case gives a
 * point estimate but no interval: there is no spread to measure noise from.
 */
export function pairedMeanDelta(differences: readonly number[]): Delta {
  const n = differences.length;
  if (n === 0) return { delta: null, ci95: null };
  const mean = differences.reduce((sum, d) => sum + d, 0) / n;
  if (n === 1) return { delta: mean, ci95: null };
  const halfWidth = (studentTQuantile(0.975, n - 1) * sampleSd(differences, mean)) / Math.sqrt(n);
  return { delta: mean, ci95: [mean - halfWidth, mean + halfWidth] };
}

function sampleSd(values: readonly number[], mean: number): number {
  const squares = values.reduce((sum, v) => sum + (v - mean) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
}

// ---------------------------------------------------------------------------------------
// Minimum detectable effect

/**
 * Smallest completion-rate change (absolute, 0..1) a paired run of this size detects with
 * 80 % power at two-sided 5 %: (z₀.₉₇₅ + z₀.₈)·s_d/√n, s_d the SD of d_i = head − base.
 *
 * When every case agrees on both sides (s_d = 0, or a single case) the observed spread says
 * nothing about the true one, and the formula would claim a run of 10 identical cases can
 * see any change. Then s_d is taken from the binomial worst case the data allow: the base
 * rate within its 95 % Wilson interval that is nearest 50 %, with the sides uncorrelated,
 * s_d = √(2·p(1−p)). Capped at 1: no completion change is larger.
 */
export function minDetectableEffect(pairs: readonly OutcomePair[]): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  const differences = pairs.map(([base, head]) => Number(head) - Number(base));
  const mean = differences.reduce((sum, d) => sum + d, 0) / n;
  const observedSd = n > 1 ? sampleSd(differences, mean) : 0;
  const sd = observedSd > 0 ? observedSd : worstCaseDifferenceSd(pairs);
  return Math.min(1, ((Z_975 + Z_80) * sd) / Math.sqrt(n));
}

function worstCaseDifferenceSd(pairs: readonly OutcomePair[]): number {
  const basePasses = pairs.filter(([base]) => base).length;
  const [low, high] = wilson(basePasses, pairs.length) ?? [0, 1];
  const rate = Math.min(Math.max(0.5, low), high);
  return Math.sqrt(2 * rate * (1 - rate));
}

// ---------------------------------------------------------------------------------------
// Seeded PRNG and the paired bootstrap

/** FNV-1a, 32 bit: turns a seed string into PRNG state. */
function hashSeed(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, and identical on every JavaScript engine; uniform in [0, 1). */
export function seededRandom(seed: string): () => number {
  let state = hashSeed(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** Resamples drawn; 2000 keeps the Monte Carlo error of a 2.5 % quantile small. */
  iterations?: number;
  /** Same seed and same input order, same interval. */
  seed?: string;
}

export const DEFAULT_BOOTSTRAP_ITERATIONS = 2000;
export const DEFAULT_BOOTSTRAP_SEED = "modelgate";

/**
 * Below this share of resamples with a defined statistic (e.g. a side with no completed case
 * drawn), the percentile interval would describe only the lucky resamples: report none.
 */
export const MIN_DEFINED_RESAMPLE_SHARE = 0.95;

/**
 * Percentile bootstrap over cases: each resample draws n cases with replacement, both sides
 * of a case together, so the pairing (same prompt, same difficulty) stays in the noise
 * estimate. Returns the 2.5 % and 97.5 % quantiles of the statistic, or `null`.
 */
export function pairedBootstrapInterval<T>(
  items: readonly T[],
  statistic: (sample: readonly T[]) => number | null,
  options: BootstrapOptions = {},
): [number, number] | null {
  const n = items.length;
  const iterations = options.iterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  if (n === 0 || iterations < 1) return null;
  const random = seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const replicates: number[] = [];
  const sample: T[] = new Array<T>(n);
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < n; j++) sample[j] = items[Math.floor(random() * n)] as T;
    const value = statistic(sample);
    if (value !== null && Number.isFinite(value)) replicates.push(value);
  }
  if (replicates.length < MIN_DEFINED_RESAMPLE_SHARE * iterations) return null;
  const sorted = ascending(replicates);
  return [quantileSorted(sorted, 0.025) ?? 0, quantileSorted(sorted, 0.975) ?? 0];
}

/** One side's contribution of one case to a per-completed-task ratio. */
export interface RatioTerm {
  /** e.g. all tokens or all cost of the case's attempts. */
  numerator: number;
  /** 1 when the case completed, else 0. */
  denominator: number;
}

export interface RatioPair {
  base: RatioTerm;
  head: RatioTerm;
}

export interface RatioBootstrapOptions extends BootstrapOptions {
  /** `difference`: head − base; `relative`: head / base − 1 (0.25 = +25 %). */
  contrast?: "difference" | "relative";
}

/** Ratio of sums (Σ numerator / Σ denominator), `null` when nothing is in the denominator. */
export function ratioOfSums(terms: readonly RatioTerm[]): number | null {
  let numerator = 0;
  let denominator = 0;
  for (const term of terms) {
    numerator += term.numerator;
    denominator += term.denominator;
  }
  return denominator === 0 ? null : numerator / denominator;
}

function ratioContrast(pairs: readonly RatioPair[], contrast: "difference" | "relative"): number | null {
  const base = ratioOfSums(pairs.map((p) => p.base));
  const head = ratioOfSums(pairs.map((p) => p.head));
  if (base === null || head === null) return null;
  if (contrast === "difference") return head - base;
  return base === 0 ? null : head / base - 1;
}

/**
 * Change in a per-completed-task ratio (tokens or cost per completed case), head vs base.
 * Point estimate: the ratio of sums on each side. Interval: paired percentile bootstrap over
 * case IDs. `null` when a side has no completed case (nothing to divide by).
 */
export function bootstrapRatioDelta(pairs: readonly RatioPair[], options: RatioBootstrapOptions = {}): Delta {
  const contrast = options.contrast ?? "difference";
  const delta = ratioContrast(pairs, contrast);
  if (delta === null) return { delta: null, ci95: null };
  const ci95 = pairedBootstrapInterval(pairs, (sample) => ratioContrast(sample, contrast), options);
  return { delta, ci95 };
}
