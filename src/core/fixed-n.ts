import { inverseRegularizedIncompleteBeta } from "./incomplete-beta.ts";
import type { Delta } from "./result.ts";
import {
  ascending,
  DEFAULT_BOOTSTRAP_ITERATIONS,
  DEFAULT_BOOTSTRAP_SEED,
  normalQuantile,
  type PairedTable,
  quantileSorted,
  type RatioPair,
  seededRandom,
} from "./stats.ts";

/**
 * Fixed-N intervals for `evals.sequential: false`: exact or calibrated at the
 * sample sizes teams have, where the Wilson / Newcombe / percentile-bootstrap intervals miss
 * their nominal 2.5 % per side (issue 10). Pure and deterministic. Calibration: `bench/fixed-n.ts`.
 */

function assertAlpha(alpha: number, what: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`${what}: alpha must be in (0, 1), got ${alpha}`);
}

function assertCounts(k: number, n: number, what: string): void {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && k <= n))
    throw new RangeError(`${what}: need integers 0 ≤ k ≤ n, got ${k}/${n}`);
}

// ---------------------------------------------------------------------------------------
// Clopper–Pearson (1934): the exact binomial interval, from beta quantiles.

/**
 * One-sided exact upper bound: the p at which seeing k or fewer events in n has probability
 * `oneSidedAlpha`, i.e. the 1 − α quantile of Beta(k + 1, n − k). Its miss rate is at most α for
 * every true p (never above: the binomial is discrete, so it is conservative). `null` for n = 0.
 */
export function clopperPearsonUpper(k: number, n: number, oneSidedAlpha: number): number | null {
  assertCounts(k, n, "clopperPearsonUpper");
  assertAlpha(oneSidedAlpha, "clopperPearsonUpper");
  if (n === 0) return null;
  if (k === n) return 1;
  // Closed form at k = 0 (the "rule of three" family): P(0 events) = (1 − p)^n = α.
  if (k === 0) return -Math.expm1(Math.log(oneSidedAlpha) / n);
  return inverseRegularizedIncompleteBeta(1 - oneSidedAlpha, k + 1, n - k);
}

/** One-sided exact lower bound: the α quantile of Beta(k, n − k + 1); 0 when k = 0. */
export function clopperPearsonLower(k: number, n: number, oneSidedAlpha: number): number | null {
  assertCounts(k, n, "clopperPearsonLower");
  assertAlpha(oneSidedAlpha, "clopperPearsonLower");
  if (n === 0) return null;
  if (k === 0) return 0;
  // Closed form at k = n: P(n events) = p^n = α.
  if (k === n) return Math.exp(Math.log(oneSidedAlpha) / n);
  return inverseRegularizedIncompleteBeta(oneSidedAlpha, k, n - k + 1);
}

/** Two-sided exact interval, α/2 in each tail (R's `binom.test(k, n)$conf.int`). `null` for n = 0. */
export function clopperPearson(k: number, n: number, alpha = 0.05): [number, number] | null {
  assertAlpha(alpha, "clopperPearson");
  const lower = clopperPearsonLower(k, n, alpha / 2);
  const upper = clopperPearsonUpper(k, n, alpha / 2);
  return lower === null || upper === null ? null : [lower, upper];
}

// ---------------------------------------------------------------------------------------
// Tango (1998), Stat Med 17:891–908: score interval for the difference of paired proportions.

/**
 * Tango's score statistic for H0: head rate − base rate = δ, on the discordant counts
 * b = headOnly, c = baseOnly of n pairs:
 *   T(δ) = (b − c − nδ) / √(n(2q̂ + δ(1 − δ))),
 * where q̂ is the maximum-likelihood P(base only) under H0 (P(head only) = q + δ), the admissible
 * root of 2n q² + B q + C = 0 with B = −b − c + (2n − b + c)δ and C = −c δ(1 − δ). T decreases
 * in δ; it is ±∞ where the null variance is 0 but the data disagree (δ = ±1).
 */
export function tangoScore(b: number, c: number, n: number, delta: number): number {
  const q = tangoRestrictedMle(b, c, n, delta);
  const numerator = b - c - n * delta;
  const variance = n * (2 * q + delta * (1 - delta));
  if (!(variance > 0)) return numerator === 0 ? 0 : numerator > 0 ? Infinity : -Infinity;
  return numerator / Math.sqrt(variance);
}

/** The restricted MLE of P(base only) under δ, clamped to where every cell is a probability. */
export function tangoRestrictedMle(b: number, c: number, n: number, delta: number): number {
  const quadratic = 2 * n;
  const linear = -b - c + (2 * n - b + c) * delta;
  const constant = -c * delta * (1 - delta);
  const root = Math.sqrt(Math.max(0, linear * linear - 4 * quadratic * constant));
  // The larger root, written so it never subtracts two nearly equal numbers.
  const q = linear > 0 ? (-2 * constant) / (linear + root) : (root - linear) / (2 * quadratic);
  // Admissible: q ≥ 0, q + δ ≥ 0 (head-only cell), 2q + δ ≤ 1 (concordant cells). Only rounding
  // can leave this region.
  return Math.min(Math.max(q, 0, -delta), (1 - delta) / 2);
}

/**
 * Head − base rate on paired cases with Tango's score interval: the δ whose two-sided score test
 * at level α does not reject. Unlike Newcombe's hybrid it is a direct test inversion, so its
 * one-sided errors stay near α/2 at the completion gate's limit (bench/fixed-n.ts). Stays in
 * [−1, 1], has positive width with no discordant pairs (±z²/(n + z²)), reaches ±1 exactly when
 * every pair is discordant one way. `{ delta: null, ci95: null }` for no pairs.
 */
export function tangoPairedInterval(table: PairedTable, alpha = 0.05): Delta {
  assertAlpha(alpha, "tangoPairedInterval");
  const { both, headOnly: b, baseOnly: c, neither } = table;
  for (const count of [both, b, c, neither])
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`tangoPairedInterval: cell counts must be non-negative integers`);
  const n = both + b + c + neither;
  if (n === 0) return { delta: null, ci95: null };
  const delta = (b - c) / n;
  const z = normalQuantile(1 - alpha / 2);
  const score = (d: number) => tangoScore(b, c, n, d);
  const lower = c === n ? -1 : bisectDecreasing(score, z, -1, delta);
  const upper = b === n ? 1 : bisectDecreasing(score, -z, delta, 1);
  return { delta, ci95: [lower, upper] };
}

/**
 * The crossing of a decreasing f with `target` inside [low, high] (f(low) ≥ target ≥ f(high)),
 * bisected until the bracket cannot be split in floating point. The end points themselves are
 * never evaluated: at ±1 the statistic is infinite by construction.
 */
function bisectDecreasing(f: (x: number) => number, target: number, low: number, high: number): number {
  for (;;) {
    const mid = low + (high - low) / 2;
    if (mid <= low || mid >= high) return mid;
    if (f(mid) > target) low = mid;
    else high = mid;
  }
}

// ---------------------------------------------------------------------------------------
// Studentized (bootstrap-t) interval for a per-completed-task ratio contrast, over case IDs.

/**
 * Fewer completed cases than this on either side and the ratio interval is undecidable: with a
 * handful of completions the resampled standard errors are themselves noise (or 0) and the
 * pivot's quantiles go wild (issue 10: 1–2 cases gave zero-width intervals). Measured just above
 * it (14 cases, ≈ 12.6 completed per side, lognormal costs at the limit, 2,000 runs) the
 * symmetric bootstrap-t missed 2.6 % / 3.1 % per side; the percentile bootstrap 4.6 % / 5.1 %.
 */
export const MIN_COMPLETED_CASES_PER_SIDE = 10;

export interface StudentizedRatioOptions {
  /** `difference`: head − base; `relative`: head / base − 1 (0.10 = +10 %). */
  contrast?: "difference" | "relative";
  /** Two-sided level; α/2 in each tail. */
  alpha?: number;
  /** Resamples; the default (2000) puts ~50 resamples beyond each 2.5 % quantile. */
  iterations?: number;
  /** Same seed and same input order, same interval. */
  seed?: string;
  /**
   * `symmetric` (default): θ̂ ± c·SE with c the 1 − α quantile of |t*| (Hall 1988). `equal-tailed`:
   * the α/2 and 1 − α/2 quantiles of t*. On skewed costs (lognormal σ = 1, ratio exactly at the
   * limit) the equal-tailed pivot let the cost through 3.0–4.3 % of the time at n = 20–100; the
   * symmetric one 3.1 % at n = 20 and 2.3–2.9 % at n = 50–200 (4,000 runs each; bench/fixed-n.ts).
   */
  tails?: "symmetric" | "equal-tailed";
}

/**
 * Below this share of resamples with a defined statistic and standard error, the t quantiles
 * would describe only the lucky resamples: undecidable.
 */
const MIN_DEFINED_RESAMPLE_SHARE = 0.95;

/** Why the ratio interval cannot be computed from these pairs, or `null` when it can. */
export function studentizedRatioBlocker(
  pairs: readonly RatioPair[],
  contrast: "difference" | "relative" = "difference",
): string | null {
  let baseCompleted = 0;
  let headCompleted = 0;
  let baseTotal = 0;
  let headTotal = 0;
  for (const pair of pairs) {
    baseCompleted += pair.base.denominator;
    headCompleted += pair.head.denominator;
    baseTotal += pair.base.numerator;
    headTotal += pair.head.numerator;
  }
  const minimum = MIN_COMPLETED_CASES_PER_SIDE;
  if (baseCompleted < minimum)
    return `base has ${baseCompleted} completed cases, a ratio interval needs at least ${minimum}`;
  if (headCompleted < minimum)
    return `head has ${headCompleted} completed cases, a ratio interval needs at least ${minimum}`;
  if (contrast === "relative" && !(baseTotal > 0))
    return "base's total is 0, so a relative change is undefined";
  // The relative contrast is studentized on the log scale, which has no image for a free head.
  if (contrast === "relative" && !(headTotal > 0)) return "head's total is 0, so its log ratio is undefined";
  return null;
}

/**
 * The pairs as one typed array, four numbers per case (base numerator, base denominator, head
 * numerator, head denominator), so a resample reads adjacent memory instead of four separate arrays.
 */
type RatioColumns = Float64Array;
const STRIDE = 4;

/** The contrast on the scale it is studentized on, and its delta-method standard error. */
export interface Studentized {
  estimate: number;
  se: number;
}

/**
 * θ and its standard error for the cases at `indices` (a resample, or every case). The ratio
 * of sums R = ΣN/ΣD has influence (N_i − R·D_i)/D̄ per case; the contrast's influence ψ_i is
 * the head's minus the base's (difference), or each divided by its R (log ratio), and
 * SE = √(Σψ_i²)/m. The relative contrast is studentized as log(R_head/R_base): a ratio of
 * skewed costs is far closer to normal on the log scale, so the pivot is steadier.
 * `null` when a side has nothing to divide by or the SE is 0.
 */
function studentize(
  columns: RatioColumns,
  indices: Int32Array,
  contrast: "difference" | "relative",
): Studentized | null {
  const m = indices.length;
  let baseN = 0;
  let baseD = 0;
  let headN = 0;
  let headD = 0;
  for (let j = 0; j < m; j++) {
    const at = (indices[j] ?? 0) * STRIDE;
    baseN += columns[at] ?? 0;
    baseD += columns[at + 1] ?? 0;
    headN += columns[at + 2] ?? 0;
    headD += columns[at + 3] ?? 0;
  }
  if (baseD === 0 || headD === 0) return null;
  const baseRatio = baseN / baseD;
  const headRatio = headN / headD;
  const relative = contrast === "relative";
  if (relative && !(baseRatio > 0 && headRatio > 0)) return null;
  // Influence ψ_i, with the 1/D̄ (difference) or 1/(R·D̄) = m/ΣN (log ratio) factor per side.
  const baseScale = relative ? m / baseN : m / baseD;
  const headScale = relative ? m / headN : m / headD;
  let squares = 0;
  for (let j = 0; j < m; j++) {
    const at = (indices[j] ?? 0) * STRIDE;
    const baseInfluence = ((columns[at] ?? 0) - baseRatio * (columns[at + 1] ?? 0)) * baseScale;
    const headInfluence = ((columns[at + 2] ?? 0) - headRatio * (columns[at + 3] ?? 0)) * headScale;
    const psi = headInfluence - baseInfluence;
    squares += psi * psi;
  }
  const se = Math.sqrt(squares) / m;
  if (!(se > 0 && Number.isFinite(se))) return null;
  const estimate = relative ? Math.log(headRatio / baseRatio) : headRatio - baseRatio;
  return { estimate, se };
}

/**
 * Change in a per-completed-task ratio (cost or tokens per completed case), head vs base, with
 * a studentized bootstrap (bootstrap-t) interval over case IDs: each resample draws n cases with
 * replacement (both sides of a case together), computes t* = (θ* − θ̂)/SE*, with SE* from the
 * delta method on the resample (no nested bootstrap), and the interval is θ̂ ± c·SE with c the
 * 1 − α quantile of |t*| (or, `equal-tailed`, [θ̂ − t*₁₋α/₂·SE, θ̂ − t*α/₂·SE]), back-transformed
 * from the log scale for `relative`. The pivot carries how much the SE itself is underestimated
 * on small skewed samples, which made the percentile interval pass a cost at its limit up to
 * 5 % of the time (issue 10). BCa (jackknife-free, acceleration from the same influence values)
 * was measured too and was worse than both bootstrap-t variants: 5.0 % per side at n = 20,
 * 3.3–5.3 % at n = 50–200 (σ = 1, 1,000 runs), so it is not offered.
 * `ci95` is `null` (undecidable) when `studentizedRatioBlocker` names a reason, when the SE is
 * 0, or when too few resamples are defined; `delta` is `null` when the contrast is undefined.
 */
export function studentizedBootstrapRatio(
  pairs: readonly RatioPair[],
  options: StudentizedRatioOptions = {},
): Delta {
  const contrast = options.contrast ?? "difference";
  const alpha = options.alpha ?? 0.05;
  assertAlpha(alpha, "studentizedBootstrapRatio");
  const iterations = options.iterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  const symmetric = (options.tails ?? "symmetric") === "symmetric";
  const n = pairs.length;
  const columns = ratioColumns(pairs);
  const delta = pointContrast(columns, contrast);
  if (delta === null) return { delta: null, ci95: null };
  const observed =
    studentizedRatioBlocker(pairs, contrast) === null ? studentize(columns, allIndices(n), contrast) : null;
  if (observed === null || iterations < 1) return { delta, ci95: null };

  const random = seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const pivots: number[] = [];
  const sample = new Int32Array(n);
  for (let r = 0; r < iterations; r++) {
    for (let j = 0; j < n; j++) sample[j] = Math.floor(random() * n);
    const resampled = studentize(columns, sample, contrast);
    if (resampled === null) continue;
    const pivot = (resampled.estimate - observed.estimate) / resampled.se;
    pivots.push(symmetric ? Math.abs(pivot) : pivot);
  }
  if (pivots.length < MIN_DEFINED_RESAMPLE_SHARE * iterations) return { delta, ci95: null };
  const sorted = ascending(pivots);
  const tHigh = quantileSorted(sorted, symmetric ? 1 - alpha : 1 - alpha / 2) ?? 0;
  const tLow = symmetric ? -tHigh : (quantileSorted(sorted, alpha / 2) ?? 0);
  const low = observed.estimate - tHigh * observed.se;
  const high = observed.estimate - tLow * observed.se;
  if (contrast === "difference") return { delta, ci95: [low, high] };
  return { delta, ci95: [Math.expm1(low), Math.expm1(high)] };
}

/**
 * The contrast on its studentized scale (head − base, or ln(head/base) for `relative`) with its
 * delta-method standard error, over all pairs; `null` when undefined or the SE is 0.
 */
export function ratioContrastWithSe(
  pairs: readonly RatioPair[],
  contrast: "difference" | "relative" = "difference",
): Studentized | null {
  return studentize(ratioColumns(pairs), allIndices(pairs.length), contrast);
}

function ratioColumns(pairs: readonly RatioPair[]): RatioColumns {
  const columns = new Float64Array(pairs.length * STRIDE);
  pairs.forEach((pair, i) => {
    columns.set(
      [pair.base.numerator, pair.base.denominator, pair.head.numerator, pair.head.denominator],
      i * STRIDE,
    );
  });
  return columns;
}

function allIndices(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function pointContrast(columns: RatioColumns, contrast: "difference" | "relative"): number | null {
  const totals = [0, 0, 0, 0];
  columns.forEach((value, at) => {
    totals[at % STRIDE] = (totals[at % STRIDE] ?? 0) + value;
  });
  const [baseN = 0, baseD = 0, headN = 0, headD = 0] = totals;
  if (baseD === 0 || headD === 0) return null;
  const baseRatio = baseN / baseD;
  const headRatio = headN / headD;
  if (contrast === "difference") return headRatio - baseRatio;
  return baseRatio === 0 ? null : headRatio / baseRatio - 1;
}
