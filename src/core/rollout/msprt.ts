/**
 * The one-sided normal-mixture sequential probability ratio test (mSPRT) of Johari, Pekelis &
 * Walsh ("Always valid inference", Operations Research 70(3), 2022; arXiv:1512.04922, 2017),
 * for production gates that are checked again and again while a phase's traffic grows.
 *
 * Model: an estimate θ̂ with information I = 1 / Var(θ̂) (counts grow, so I grows). In
 * information time the score S = I·(θ̂ − θ₀) is approximately a Brownian motion with drift
 * δ = θ − θ₀ (central limit theorem). The likelihood ratio of drift δ against drift 0 is
 * exp(δS − δ²I/2); mixing it over δ ~ N(0, τ²) restricted to the alternative's side (a
 * half-normal, density 2φ(δ/τ)/τ) gives, with c = τ²:
 *
 *   Λ = 2 · (1 + cI)^(−1/2) · exp(c·S² / (2(1 + cI))) · Φ(S·√(c / (1 + cI)))
 *
 * Under the null (θ on the other side of θ₀, or at it) Λ is a non-negative supermartingale
 * with mean ≤ 1, so by Ville's inequality P(Λ ever reaches 1/α) ≤ α: the p-value 1/Λ is valid
 * at every look, however often and whenever one looks ("always valid"). The App keeps no
 * history, so it reports 1/Λ at the current look rather than the running minimum: larger,
 * hence still valid.
 *
 * τ (the mixing scale, in the units of θ) says which alternatives the test is tuned for: the
 * boundary is tightest when the information reaches about 1/τ² times a few, i.e. for
 * distances from θ₀ of the order of τ. The gates set it from their limit (production-gates.ts).
 */

export type Side = "above" | "below";

export interface MixtureInput {
  /** The estimate θ̂. */
  estimate: number;
  /** The null boundary θ₀. */
  theta0: number;
  /** I = 1 / Var(θ̂) at θ₀; must be > 0. */
  information: number;
  /** The half-normal mixing scale τ (same units as θ). */
  tau: number;
  /** The alternative: θ above θ₀ or below it. */
  side: Side;
}

/** log Λ of the one-sided normal mixture (see above). */
export function mixtureLogRatio(input: MixtureInput): number {
  const { information: i, tau } = input;
  const c = tau * tau;
  const direction = input.side === "above" ? 1 : -1;
  const s = direction * i * (input.estimate - input.theta0);
  const spread = 1 + c * i;
  return (
    Math.LN2 - 0.5 * Math.log(spread) + (c * s * s) / (2 * spread) + normalLogCdf(s * Math.sqrt(c / spread))
  );
}

/** The always-valid p-value min(1, 1/Λ). */
export function alwaysValidP(input: MixtureInput): number {
  return Math.min(1, Math.exp(-mixtureLogRatio(input)));
}

/**
 * The bound of the confidence sequence on one side: for `side: "above"` the lower bound (the
 * largest θ₀ below θ̂ that the test of "θ > θ₀" rejects at `alpha`), for `"below"` the upper
 * bound. `information(θ₀)` may depend on θ₀ (a rate's variance under its null). Bisection on
 * [lo, hi]; the test does not reject at θ₀ = θ̂, so the bound lies between the range's end and θ̂.
 */
export function confidenceBound(
  estimate: number,
  side: Side,
  alpha: number,
  range: readonly [number, number],
  information: (theta0: number) => number,
  tau: number,
): number {
  const threshold = Math.log(1 / alpha);
  const rejects = (theta0: number) =>
    mixtureLogRatio({ estimate, theta0, information: information(theta0), tau, side }) >= threshold;
  // `far` is where the test rejects (or the end of the range), `near` where it does not.
  let far = side === "above" ? range[0] : range[1];
  let near = estimate;
  if (!rejects(far)) return far;
  // 32 halvings of a range of at most 2 leave under 5e-10: far below any shown digit.
  for (let step = 0; step < 32; step++) {
    const mid = (far + near) / 2;
    if (rejects(mid)) far = mid;
    else near = mid;
  }
  return far;
}

// ---------------------------------------------------------------------------------------------
// log Φ(x), accurate far into the lower tail (Λ's last factor can be e^-700 and must not be 0).

/**
 * log Φ(x) from the complementary error function of Numerical Recipes (erfcc, Chebyshev
 * fit, relative error < 1.2e-7 everywhere), written in log space so the tail never underflows.
 */
export function normalLogCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFCC.length - 1; i >= 0; i--) poly = poly * t + (ERFCC[i] ?? 0);
  // erfc(z) = t·exp(−z² + poly(t)); Φ(x) = erfc(−x/√2)/2.
  const logHalfErfc = Math.log(t) - z * z + poly - Math.LN2;
  return x < 0 ? logHalfErfc : Math.log1p(-Math.exp(logHalfErfc));
}

/** erfcc's coefficients, in ascending powers of t. */
const ERFCC = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];
