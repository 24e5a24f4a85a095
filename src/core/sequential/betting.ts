/**
 * Anytime-valid one-sided tests for the mean of observations in [0, 1], by betting
 * (Waudby-Smith & Ramdas 2024, "Estimating means of bounded random variables by betting", JRSS-B;
 * the adaptive bet is their aGRAPA).
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

/** Running moments the bets are computed from: strictly the past, never the observation bet on. */
export class RunningMoments {
  n = 0;
  #sum = 0;
  /**
   * Σ (Yᵢ − mean before i)², plus a prior of 1/4 (the largest variance in [0, 1]) with weight 1,
   * so the first bets are cautious until the data says the variance is small.
   */
  #squares = 0.25;

  get mean(): number {
    return this.n === 0 ? 0.5 : this.#sum / this.n;
  }

  get variance(): number {
    return this.#squares / (this.n + 1);
  }

  add(y: number): void {
    const before = this.mean;
    this.#squares += (y - before) * (y - before);
    this.#sum += y;
    this.n++;
  }
}

/** The aGRAPA stake for testing against `boundary` in `direction`, clipped to [0, cap]. */
export function stake(moments: RunningMoments, boundary: number, direction: Direction): number {
  if (moments.n === 0) return 0;
  const edge = direction === "above" ? moments.mean - boundary : boundary - moments.mean;
  if (edge <= 0) return 0;
  const worstLoss = direction === "above" ? boundary : 1 - boundary;
  const cap = worstLoss > 0 ? MAX_STAKE_SHARE / worstLoss : Number.POSITIVE_INFINITY;
  return Math.min(edge / (moments.variance + edge * edge), cap);
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
    const edge = this.direction === "above" ? moments.mean - this.boundary : this.boundary - moments.mean;
    // Second-order expansion of E log(1 + λ(Y − m)).
    const growth = lambda * edge - (lambda * lambda * (moments.variance + edge * edge)) / 2;
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
