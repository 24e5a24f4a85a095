/**
 * An asymptotic confidence sequence for the per-completed-task ratio of head over base
 * (cost per completed task), on the log scale: Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas
 * (2024), "Time-uniform central limit theory and asymptotic confidence sequences", Annals of
 * Statistics — the Robbins normal-mixture boundary with a plug-in variance.
 *
 * Costs have no bound a betting test could use, so this gate's guarantee is asymptotic: it holds
 * as the number of pairs grows, which is why the gate waits for a minimum of completed cases
 * on each side (docs/gates.md) and why its validity is measured, not assumed (test/sequential-*).
 *
 * log R = log(Σ head cost / Σ head completed) − log(Σ base cost / Σ base completed). Its
 * influence function per pair is a/ā − b/b̄ − c/c̄ + d/d̄ (a, b: head cost and completed; c, d:
 * base), whose variance is kept from running sums of the 4×4 second moments: O(1) per pair.
 */

/**
 * The time the boundary is tightest at (ρ is tuned for it). Fixed, never taken from the run,
 * so the same sequence gives the same boundary however many cases a run selected.
 */
const TUNED_FOR_PAIRS = 250;

export interface RatioObservation {
  headCost: number;
  headCompleted: number;
  baseCost: number;
  baseCompleted: number;
}

export class RatioSequence {
  n = 0;
  readonly #sums = new Float64Array(4);
  /** Σ xᵢxⱼ for i ≤ j over (head cost, head completed, base cost, base completed). */
  readonly #products = new Float64Array(16);
  #lowerLog = Number.NEGATIVE_INFINITY;
  #upperLog = Number.POSITIVE_INFINITY;
  readonly #alphaLower: number;
  readonly #alphaUpper: number;
  readonly #minimum: number;

  /**
   * @param minimum pairs, and completed cases on each side, before the bounds start: a plug-in
   *   variance from a handful of skewed costs is too often small, and a running intersection
   *   would keep that fluke forever (measured: 4 % false fails at a 0.8 % level without it).
   */
  constructor(alphaLower: number, alphaUpper: number, minimum: number) {
    this.#alphaLower = alphaLower;
    this.#alphaUpper = alphaUpper;
    this.#minimum = minimum;
  }

  observe(o: RatioObservation): void {
    const x = [o.headCost, o.headCompleted, o.baseCost, o.baseCompleted];
    for (let i = 0; i < 4; i++) {
      this.#sums[i] = (this.#sums[i] ?? 0) + (x[i] ?? 0);
      for (let j = i; j < 4; j++)
        this.#products[i * 4 + j] = (this.#products[i * 4 + j] ?? 0) + (x[i] ?? 0) * (x[j] ?? 0);
    }
    this.n++;
    if (this.n < this.#minimum || this.fewestCompleted < this.#minimum) return;
    const estimate = this.logRatio();
    const sd = this.standardDeviation();
    if (estimate === null || sd === null) return;
    // A running intersection: each bound only ever tightens.
    this.#lowerLog = Math.max(this.#lowerLog, estimate - sd * boundary(this.n, this.#alphaLower));
    this.#upperLog = Math.min(this.#upperLog, estimate + sd * boundary(this.n, this.#alphaUpper));
  }

  /** Completed cases on the less-completed side. */
  get fewestCompleted(): number {
    return Math.min(this.#sums[1] ?? 0, this.#sums[3] ?? 0);
  }

  /** log of (head cost per completed task / base cost per completed task); null when undefined. */
  logRatio(): number | null {
    const [a = 0, b = 0, c = 0, d = 0] = this.#sums;
    if (a <= 0 || b <= 0 || c <= 0 || d <= 0) return null;
    return Math.log(a / b) - Math.log(c / d);
  }

  /** Standard deviation of the influence function, per pair; null while undefined or zero. */
  standardDeviation(): number | null {
    const n = this.n;
    const means = [...this.#sums].map((s) => s / n);
    if (means.some((m) => !(m > 0))) return null;
    const weights = [1 / (means[0] ?? 1), -1 / (means[1] ?? 1), -1 / (means[2] ?? 1), 1 / (means[3] ?? 1)];
    // Var ψ = wᵀ Σ w with Σ the covariance of the four variables; E ψ = 0 by construction.
    let second = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const [lo, hi] = i <= j ? [i, j] : [j, i];
        const covariance = (this.#products[lo * 4 + hi] ?? 0) / n - (means[i] ?? 0) * (means[j] ?? 0);
        second += (weights[i] ?? 0) * (weights[j] ?? 0) * covariance;
      }
    }
    return second > 0 ? Math.sqrt(second) : null;
  }

  /** The interval for log R as of now (running intersection), or null before it is defined. */
  logInterval(): [number, number] | null {
    if (!Number.isFinite(this.#lowerLog) || !Number.isFinite(this.#upperLog)) return null;
    return this.#lowerLog <= this.#upperLog
      ? [this.#lowerLog, this.#upperLog]
      : [this.#upperLog, this.#lowerLog];
  }

  /**
   * About how many more pairs would likely bring the bound on the limit's side past it, if
   * the estimate and its spread stay as they are; null when the estimate sits on the limit.
   */
  pairsToSeparate(logLimit: number): number | null {
    const estimate = this.logRatio();
    const sd = this.standardDeviation();
    if (estimate === null || sd === null) return null;
    const gap = Math.abs(estimate - logLimit);
    const alpha = estimate < logLimit ? this.#alphaUpper : this.#alphaLower;
    for (let t = Math.max(this.n, 1); t <= 1_000_000; t = Math.ceil(t * 1.05) + 1) {
      if (sd * boundary(t, alpha) < gap) return Math.max(1, t - this.n);
    }
    return null;
  }
}

/**
 * Half-width of the Robbins normal-mixture boundary per unit standard deviation after t
 * observations, at level α: sqrt(2(tρ²+1)/(t²ρ²) · log(sqrt(tρ²+1)/α)), ρ tuned for
 * TUNED_FOR_PAIRS (Waudby-Smith et al., eq. for ρ*).
 */
export function boundary(t: number, alpha: number): number {
  const logTerm = -2 * Math.log(alpha);
  const rho2 = (logTerm + Math.log(logTerm + 1)) / TUNED_FOR_PAIRS;
  const tr = t * rho2 + 1;
  return Math.sqrt(((2 * tr) / (t * t * rho2)) * Math.log(Math.sqrt(tr) / alpha));
}
