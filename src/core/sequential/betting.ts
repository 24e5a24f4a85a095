/**
 * Anytime-valid one-sided tests for the mean of observations in [0, 1], by betting
 * (Waudby-Smith & Ramdas 2024, "Estimating means of bounded random variables by betting", JRSS-B;
 * the adaptive bet is their GRAPA, exact on the few values gate observations take).
 *
 * To show "the mean is above m" we start with capital 1 and, before each observation Y, stake a
 * fraction λ ≥ 0 chosen from the past only: capital × (1 + λ(Y − m)). If the mean were at most m,
 * the capital would be a nonnegative supermartingale, so by Ville's inequality it reaches 1/α with
 * probability at most α — at ANY time, however often we look and whenever we stop. That is what
 * makes it safe to judge after every pair, to stop early, and to continue the same sequence in a
 * later run. "Below m" is the mirror image: capital × (1 + λ(m − Y)).
 */

export type Direction = "above" | "below";

/**
 * The largest stake as a share of what a single worst-case observation could cost: 0.8 keeps
 * at least a fifth of the capital after any one observation, so one surprise never ends a test.
 */
const MAX_STAKE_SHARE = 0.8;

/**
 * What the bets are computed from: how often each value has been seen, strictly in the past
 * (never the observation bet on). Gate observations take two or three values ({0, 1} for errors,
 * {0, ½, 1} for paired completion), so the histogram is tiny. A small prior at 0 and at 1 keeps
 * the first bets from going all in on one early value; measured against half an observation
 * each (Krichevsky–Trofimov), a tenth decides identical outcomes in ~100 pairs instead of ~110.
 */
const PRIOR_WEIGHT = 0.1;

export class RunningMoments {
  n = 0;
  readonly #values: number[] = [0, 1];
  readonly #counts: number[] = [PRIOR_WEIGHT, PRIOR_WEIGHT];
  #sum = 0;

  get mean(): number {
    return this.n === 0 ? 0.5 : this.#sum / this.n;
  }

  /** Distinct values seen (with the prior's) and their weights. */
  get histogram(): { values: readonly number[]; counts: readonly number[] } {
    return { values: this.#values, counts: this.#counts };
  }

  add(y: number): void {
    const at = this.#values.indexOf(y);
    if (at >= 0) this.#counts[at] = (this.#counts[at] ?? 0) + 1;
    else {
      this.#values.push(y);
      this.#counts.push(1);
    }
    this.#sum += y;
    this.n++;
  }
}

/**
 * The stake for testing against `boundary` in `direction`: the growth-optimal (Kelly) fraction
 * for the values seen so far — GRAPA, Waudby-Smith & Ramdas 2024 — found by bisection on the
 * derivative of Σ wᵢ log(1 + λ gᵢ), which is concave; clipped to [0, cap]. On skewed binary data
 * (a 16 % error rate against a 2 % limit) it bets several times what the variance-based
 * approximation (aGRAPA) does, and shows the breach in about half the pairs.
 */
export function stake(moments: RunningMoments, boundary: number, direction: Direction): number {
  if (moments.n === 0) return 0;
  const { values, counts } = moments.histogram;
  const gains = values.map((y) => (direction === "above" ? y - boundary : boundary - y));
  const slope = (lambda: number) => {
    let total = 0;
    for (let i = 0; i < gains.length; i++) {
      const gain = gains[i] ?? 0;
      total += ((counts[i] ?? 0) * gain) / (1 + lambda * gain);
    }
    return total;
  };
  if (!(slope(0) > 0)) return 0;
  const worstLoss = direction === "above" ? boundary : 1 - boundary;
  const cap = worstLoss > 0 ? MAX_STAKE_SHARE / worstLoss : 1e6;
  if (slope(cap) >= 0) return cap;
  let low = 0;
  let high = cap;
  for (let i = 0; i < 30; i++) {
    const mid = (low + high) / 2;
    if (slope(mid) > 0) low = mid;
    else high = mid;
  }
  return low;
}

/**
 * One test martingale: "the mean is above (or below) `boundary`", at level `alpha`. Rejection is
 * sticky: once the capital reached 1/α the claim is shown, whatever comes later.
 */
export class BettingTest {
  readonly boundary: number;
  readonly direction: Direction;
  readonly threshold: number;
  logCapital = 0;
  /** Number of the observation at which the claim was shown, or undefined. */
  shownAt: number | undefined;

  constructor(boundary: number, direction: Direction, alpha: number) {
    this.boundary = boundary;
    this.direction = direction;
    this.threshold = Math.log(1 / alpha);
  }

  get shown(): boolean {
    return this.shownAt !== undefined;
  }

  /** Bet on `y` with the stake the past (`moments`, not yet updated with `y`) gives. */
  observe(y: number, moments: RunningMoments): void {
    const lambda = stake(moments, this.boundary, this.direction);
    if (lambda > 0) {
      const gain = this.direction === "above" ? y - this.boundary : this.boundary - y;
      this.logCapital += Math.log1p(lambda * gain);
    }
    if (this.shownAt === undefined && this.logCapital >= this.threshold) this.shownAt = moments.n + 1;
  }

  /**
   * About how many more observations would likely show the claim, if the data keep looking as
   * they do: the remaining log-capital over the expected log-growth per observation at the
   * current estimate. `null` when the estimate does not favour the claim.
   */
  observationsToShow(moments: RunningMoments): number | null {
    if (this.shown) return 0;
    const lambda = stake(moments, this.boundary, this.direction);
    if (lambda <= 0) return null;
    // Expected log-growth per observation if the values keep their observed frequencies.
    const { values, counts } = moments.histogram;
    let weight = 0;
    let growth = 0;
    for (let i = 0; i < values.length; i++) {
      const y = values[i] ?? 0;
      const gain = this.direction === "above" ? y - this.boundary : this.boundary - y;
      growth += (counts[i] ?? 0) * Math.log1p(lambda * gain);
      weight += counts[i] ?? 0;
    }
    growth /= weight;
    if (!(growth > 0)) return null;
    const remaining = Math.ceil((this.threshold - this.logCapital) / growth);
    return remaining > 1_000_000 ? null : Math.max(1, remaining);
  }
}

/**
 * A confidence sequence for the mean, on a grid: every grid point is tested in both directions,
 * and the interval is what no test has rejected so far (a running intersection, so it only ever
 * shrinks). Costs O(grid) per observation; used for the reported interval, while the decisions
 * use `BettingTest`s at the exact limits, which are also grid points so the two always agree.
 */
export class BettingConfidenceSequence {
  readonly #grid: Float64Array;
  readonly #above: BettingTest[];
  readonly #below: BettingTest[];
  #lowIndex = 0;
  #highIndex: number;

  /**
   * @param alphaLower level of the lower bound ("mean above m" tests)
   * @param alphaUpper level of the upper bound ("mean below m" tests)
   * @param exact extra grid points (the gate limits) so decisions and interval coincide
   */
  constructor(alphaLower: number, alphaUpper: number, exact: readonly number[], step = 0.0025) {
    const points = new Set<number>(exact.filter((m) => m > 0 && m < 1));
    for (let i = 1; i * step < 1 - 1e-12; i++) points.add(Math.round(i * step * 1e9) / 1e9);
    this.#grid = Float64Array.from([...points].sort((a, b) => a - b));
    this.#above = [...this.#grid].map((m) => new BettingTest(m, "above", alphaLower));
    this.#below = [...this.#grid].map((m) => new BettingTest(m, "below", alphaUpper));
    this.#highIndex = this.#grid.length - 1;
  }

  observe(y: number, moments: RunningMoments): void {
    // Only the not-yet-rejected part of the grid can still change the interval.
    for (let i = this.#lowIndex; i <= this.#highIndex; i++) {
      this.#above[i]?.observe(y, moments);
      this.#below[i]?.observe(y, moments);
    }
    while (this.#lowIndex < this.#grid.length && this.#above[this.#lowIndex]?.shown) this.#lowIndex++;
    while (this.#highIndex >= 0 && this.#below[this.#highIndex]?.shown) this.#highIndex--;
  }

  /**
   * [lower, upper]: the smallest and largest grid points no test has rejected (0 and 1 when no
   * point on that side was rejected). Rejections form a prefix and a suffix of the grid in
   * practice; scanning only the contiguous ends keeps the interval conservative if they did not.
   */
  interval(): [number, number] {
    const lower = this.#lowIndex === 0 ? 0 : (this.#grid[this.#lowIndex] ?? 1);
    const upper = this.#highIndex >= this.#grid.length - 1 ? 1 : (this.#grid[this.#highIndex] ?? 0);
    return lower <= upper ? [lower, upper] : [upper, lower];
  }
}
