import { describe, expect, it } from "vitest";
import {
  COST_AT_LIMIT,
  costMiss,
  ONE_WAY_DROP,
  pairedCells,
  pairedMiss,
  percentileRelative,
  rateMiss,
  studentizedRelative,
} from "../bench/fixed-n.ts";
import {
  clopperPearson,
  clopperPearsonLower,
  clopperPearsonUpper,
  MIN_COMPLETED_CASES_PER_SIDE,
  ratioContrastWithSe,
  studentizedBootstrapRatio,
  studentizedRatioBlocker,
  tangoPairedInterval,
  tangoRestrictedMle,
  tangoScore,
} from "../src/core/fixed-n.ts";
import { inverseRegularizedIncompleteBeta, regularizedIncompleteBeta } from "../src/core/incomplete-beta.ts";
import {
  newcombePairedInterval,
  type PairedTable,
  type RatioPair,
  seededRandom,
  wilson,
  Z_975,
} from "../src/core/stats.ts";

/**
 * The fixed-N intervals (issue 10, `evals.sequential: false`). Expected values come from outside
 * the implementation: closed forms, R's binom.test / SciPy's beta quantiles (Cephes, a different
 * algorithm), a published worked example, and brute-force recomputations written here (direct
 * binomial sums, a numeric likelihood maximum, a grid inversion of the score test). The
 * calibration cases reproduce the miss rates issue 10 measured for the old intervals.
 */

/**
 * P(Bin(n, p) = j) for every j, in logs so (1 − p)^n cannot underflow; ln C(n, j) is summed term
 * by term (no gamma function involved).
 */
function binomialPmf(n: number, p: number): number[] {
  const pmf: number[] = [];
  let logChoose = 0;
  for (let j = 0; j <= n; j++) {
    pmf.push(Math.exp(logChoose + j * Math.log(p) + (n - j) * Math.log1p(-p)));
    logChoose += Math.log((n - j) / (j + 1));
  }
  return pmf;
}

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

describe("regularized incomplete beta", () => {
  it.each([
    [0.3, 1, 7.5],
    [0.01, 1, 200],
    [0.9, 4.5, 1],
    [0.37, 0.5, 0.5],
    [0.999, 0.5, 0.5],
  ])("matches its closed forms at x=%s, a=%s, b=%s", (x, a, b) => {
    // I_x(1, b) = 1 − (1 − x)^b; I_x(a, 1) = x^a; I_x(½, ½) = (2/π)·asin(√x).
    const expected = a === 1 ? 1 - (1 - x) ** b : b === 1 ? x ** a : (2 / Math.PI) * Math.asin(Math.sqrt(x));
    expect(Math.abs(regularizedIncompleteBeta(x, a, b) - expected)).toBeLessThan(1e-14);
  });

  it.each([3.5, 50, 1000])("is ½ at x = ½ when a = b = %s", (a) => {
    expect(Math.abs(regularizedIncompleteBeta(0.5, a, a) - 0.5)).toBeLessThan(1e-13);
  });

  // SciPy's betainc (Cephes incbet): scipy.special.betainc(a, b, x).
  it.each([
    [0.3, 2.5, 7.25, 0.6604822735819071],
    [0.9, 200, 30, 0.9231109018409299],
    [0.002, 0.3, 40, 0.5117340987888989],
    [0.76, 1500, 500, 0.849316719162097],
  ])("I_%s(%s, %s) = %s", (x, a, b, expected) => {
    expect(Math.abs(regularizedIncompleteBeta(x, a, b) - expected)).toBeLessThan(1e-11);
  });

  it("is the binomial upper tail for integer shapes, to 1e-13 (n = 30 and 200)", () => {
    for (const n of [30, 200]) {
      for (const p of [0.013, 0.2, 0.5, 0.87]) {
        const pmf = binomialPmf(n, p);
        for (let k = 1; k <= n; k += 7) {
          const tail = sum(pmf.slice(k));
          expect(Math.abs(regularizedIncompleteBeta(p, k, n - k + 1) - tail)).toBeLessThan(1e-13);
        }
      }
    }
  });

  it("inverts to the last bit: I(I⁻¹(p)) = p and the closed-form quantiles", () => {
    for (const [a, b] of [
      [1, 10],
      [6, 5],
      [0.5, 0.5],
      [3, 998],
      [150, 51],
    ] as const) {
      // Near 1 the quantile of Beta(½, ½) is 1 − O(p²): not a double, so the upper probes stop at 0.999.
      for (const p of [1e-9, 0.025, 0.5, 0.975, 0.999]) {
        const x = inverseRegularizedIncompleteBeta(p, a, b);
        expect(Math.abs(regularizedIncompleteBeta(x, a, b) - p)).toBeLessThan(1e-12);
      }
    }
    // Beta(1, n): x = 1 − (1 − p)^(1/n).
    expect(Math.abs(inverseRegularizedIncompleteBeta(0.975, 1, 10) - (1 - 0.025 ** (1 / 10)))).toBeLessThan(
      1e-15,
    );
    expect(inverseRegularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(inverseRegularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });

  it("rejects arguments outside its domain", () => {
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
    expect(() => inverseRegularizedIncompleteBeta(Number.NaN, 1, 1)).toThrow(RangeError);
  });
});

describe("clopperPearson (exact binomial interval)", () => {
  // R 4.x: binom.test(k, n)$conf.int prints 7 significant digits; the full doubles are SciPy's
  // beta.ppf(0.025, k, n − k + 1) and beta.ppf(0.975, k + 1, n − k).
  it.each([
    [0, 10, 0, 0.3084971078187607],
    [1, 10, 0.0025285785444617848, 0.4450161170281954],
    [5, 10, 0.18708602844739855, 0.8129139715526015],
    [0, 100, 0, 0.03621669264517641],
    [3, 17, 0.037985068070626, 0.43431787284428397],
    [12, 47, 0.1394491200175697, 0.4034951899715679],
    [150, 200, 0.6840371666701309, 0.8083928303774125],
    [2, 1000, 0.00024230111687723185, 0.007205838911457497],
  ])("%s/%s at 95 %% is [%s, %s] to 1e-10", (k, n, lower, upper) => {
    const interval = clopperPearson(k, n);
    expect(interval).not.toBeNull();
    const [low, high] = interval ?? [Number.NaN, Number.NaN];
    expect(Math.abs(low - lower)).toBeLessThan(1e-10 * Math.max(lower, 1e-3));
    expect(Math.abs(high - upper)).toBeLessThan(1e-10 * upper);
  });

  it("R's printed binom.test values", () => {
    const r = (k: number, n: number) => clopperPearson(k, n)?.map((v) => Number(v.toPrecision(7)));
    expect(r(0, 10)).toEqual([0, 0.3084971]);
    expect(r(1, 10)).toEqual([0.002528579, 0.4450161]);
    expect(r(5, 10)).toEqual([0.187086, 0.812914]);
    expect(r(0, 100)).toEqual([0, 0.03621669]);
  });

  it("its bounds solve the binomial tail equations, by direct summation, for every k of n = 20 and 137", () => {
    for (const n of [20, 137]) {
      for (let k = 0; k <= n; k++) {
        const [low, high] = clopperPearson(k, n) ?? [Number.NaN, Number.NaN];
        // Upper U: P(X ≤ k | U) = 2.5 %. Lower L: P(X ≥ k | L) = 2.5 %.
        if (k < n) expect(Math.abs(sum(binomialPmf(n, high).slice(0, k + 1)) - 0.025)).toBeLessThan(1e-12);
        else expect(high).toBe(1);
        if (k > 0) expect(Math.abs(sum(binomialPmf(n, low).slice(k)) - 0.025)).toBeLessThan(1e-12);
        else expect(low).toBe(0);
      }
    }
  });

  it("one-sided bounds: the rule of three, and phase 1's 1,000 production requests at 0.5 % errors → 1.2 %", () => {
    // 0 events: (1 − U)^n = α, so U = 1 − α^(1/n) ≈ 3/n at α = 5 % (the closed form is also the
    // beta quantile the general path takes: checked here).
    expect(clopperPearsonUpper(0, 100, 0.05)).toBeCloseTo(0.029513049607039925, 14);
    expect(inverseRegularizedIncompleteBeta(0.95, 1, 100)).toBeCloseTo(0.029513049607039925, 14);
    // SciPy beta.ppf(0.975, 6, 995).
    expect(clopperPearsonUpper(5, 1000, 0.025)).toBeCloseTo(0.011629470559812147, 12);
    expect(clopperPearsonLower(10, 10, 0.025)).toBeCloseTo(0.025 ** (1 / 10), 15);
    expect(clopperPearsonLower(0, 10, 0.025)).toBe(0);
    expect(clopperPearsonUpper(10, 10, 0.025)).toBe(1);
  });

  it("n = 0 is null; impossible counts and levels throw", () => {
    expect(clopperPearson(0, 0)).toBeNull();
    expect(clopperPearsonUpper(0, 0, 0.025)).toBeNull();
    expect(() => clopperPearson(3, 2)).toThrow(RangeError);
    expect(() => clopperPearson(1.5, 4)).toThrow(RangeError);
    expect(() => clopperPearson(1, 4, 0)).toThrow(RangeError);
  });

  it("holds 2.5 % per side at the error limits where Wilson failed 6–7.8 % (exact, n = 20…200)", () => {
    // 'above' = lower bound over the true rate: the error gate failing a head that is at its limit.
    const wilsonAt2 = rateMiss((k, n) => wilson(k, n), 50, 0.02);
    expect(wilsonAt2.above).toBeGreaterThan(0.07); // issue 10: 7.8 % at n = 50
    for (const n of [20, 50, 100, 200]) {
      for (const p of [0.02, 0.05]) {
        const miss = rateMiss((k, m) => clopperPearson(k, m), n, p);
        expect(miss.above).toBeLessThanOrEqual(0.025);
        expect(miss.below).toBeLessThanOrEqual(0.025);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

function table(headOnly: number, baseOnly: number, n: number): PairedTable {
  return { both: n - headOnly - baseOnly, headOnly, baseOnly, neither: 0 };
}

/**
 * The restricted MLE by brute force: maximize b·ln(q + δ) + c·ln q + (n − b − c)·ln(1 − 2q − δ)
 * over the admissible q by golden-section search (the log-likelihood is concave in q).
 */
function numericRestrictedMle(b: number, c: number, n: number, delta: number): number {
  const logLikelihood = (q: number) => {
    const term = (count: number, p: number) => (count === 0 ? 0 : count * Math.log(p));
    return term(b, q + delta) + term(c, q) + term(n - b - c, 1 - 2 * q - delta);
  };
  let low = Math.max(0, -delta);
  let high = (1 - delta) / 2;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 90; i++) {
    const left = high - ratio * (high - low);
    const right = low + ratio * (high - low);
    if (logLikelihood(left) < logLikelihood(right)) low = left;
    else high = right;
  }
  return (low + high) / 2;
}

function bruteForceScore(b: number, c: number, n: number, delta: number): number {
  const q = numericRestrictedMle(b, c, n, delta);
  return (b - c - n * delta) / Math.sqrt(n * (2 * q + delta * (1 - delta)));
}

describe("tangoPairedInterval (Tango 1998, Stat Med 17:891–908)", () => {
  it("reproduces the published Bentur et al. (2009) example: b = 1, c = 7, n = 21 → [−0.517, −0.026]", () => {
    // Fagerland, Lydersen & Laake (2014), Stat Med 33:2850–2875, airway hyper-responsiveness
    // before/after stem cell transplantation, Tango asymptotic score interval (3 decimals).
    const { delta, ci95 } = tangoPairedInterval({ both: 1, headOnly: 1, baseOnly: 7, neither: 12 });
    expect(delta).toBeCloseTo(-6 / 21, 15);
    expect(ci95?.map((v) => Number(v.toFixed(3)))).toEqual([-0.517, -0.026]);
  });

  it("its restricted MLE (closed-form quadratic) is the numeric maximum of the constrained likelihood", () => {
    for (const [b, c, n] of [
      [1, 7, 21],
      [40, 20, 160],
      [0, 9, 50],
      [6, 0, 30],
      [3, 3, 200],
    ] as const) {
      for (const delta of [-0.6, -0.2, -0.05, 0.01, 0.15, 0.7]) {
        expect(
          Math.abs(tangoRestrictedMle(b, c, n, delta) - numericRestrictedMle(b, c, n, delta)),
        ).toBeLessThan(1e-7);
      }
    }
  });

  it("its bounds are where the score statistic crosses ±z, and inverting a brute-force score test finds the same set", () => {
    for (const [b, c, n] of [
      [1, 7, 21],
      [40, 20, 160],
      [13, 3, 400],
      [2, 2, 30],
      [0, 9, 50],
    ] as const) {
      const [low, high] = tangoPairedInterval(table(b, c, n)).ci95 ?? [Number.NaN, Number.NaN];
      expect(Math.abs(tangoScore(b, c, n, low) - Z_975)).toBeLessThan(1e-9);
      expect(Math.abs(tangoScore(b, c, n, high) + Z_975)).toBeLessThan(1e-9);
      // Brute force just inside and just outside each bound.
      const rejects = (delta: number) => Math.abs(bruteForceScore(b, c, n, delta)) > Z_975;
      expect([rejects(low - 1e-6), rejects(low + 1e-6), rejects(high - 1e-6), rejects(high + 1e-6)]).toEqual([
        true,
        false,
        false,
        true,
      ]);
      // Every δ on a 1e-3 grid whose brute-force test does not reject: one run, no holes, within the bounds.
      const accepted: number[] = [];
      for (let i = -999; i <= 999; i++) if (!rejects(i / 1000)) accepted.push(i / 1000);
      expect(accepted[0]).toBeGreaterThanOrEqual(low);
      expect(accepted.at(-1)).toBeLessThanOrEqual(high);
      expect((accepted[0] ?? Number.NaN) - low).toBeLessThan(1e-3);
      expect(high - (accepted.at(-1) ?? Number.NaN)).toBeLessThan(1e-3);
      expect(accepted.length).toBe(Math.round(((accepted.at(-1) ?? 0) - (accepted[0] ?? 0)) * 1000) + 1);
    }
  });

  it("edges: no pairs → null; no discordant pairs → ±z²/(n + z²); all discordant one way reaches ±1", () => {
    expect(tangoPairedInterval({ both: 0, headOnly: 0, baseOnly: 0, neither: 0 })).toEqual({
      delta: null,
      ci95: null,
    });
    // b = c = 0: q̂ = max(0, −δ), so T(δ) = −√(nδ/(1 − δ)) for δ > 0, = z at δ = z²/(n + z²).
    const z2 = Z_975 ** 2;
    const none = tangoPairedInterval({ both: 60, headOnly: 0, baseOnly: 0, neither: 40 });
    expect(none.delta).toBe(0);
    expect(none.ci95?.[0]).toBeCloseTo(-z2 / (100 + z2), 12);
    expect(none.ci95?.[1]).toBeCloseTo(z2 / (100 + z2), 12);
    const allHead = tangoPairedInterval(table(12, 0, 12));
    expect(allHead.delta).toBe(1);
    expect(allHead.ci95?.[1]).toBe(1);
    expect(allHead.ci95?.[0]).toBeGreaterThan(0.5);
    expect(allHead.ci95?.[0]).toBeLessThan(1);
    const allBase = tangoPairedInterval(table(0, 12, 12));
    expect(allBase.ci95?.[0]).toBe(-1);
    expect(allBase.ci95?.[1]).toBeCloseTo(-(allHead.ci95?.[0] ?? Number.NaN), 12);
    // Single pair, split discordance.
    const single = tangoPairedInterval(table(1, 0, 1));
    expect(single.ci95?.[0]).toBeGreaterThan(-1);
  });

  it("swapping head and base mirrors it; how concordant pairs split does not matter", () => {
    const forward = tangoPairedInterval({ both: 30, headOnly: 4, baseOnly: 11, neither: 5 }).ci95;
    const mirrored = tangoPairedInterval({ both: 30, headOnly: 11, baseOnly: 4, neither: 5 }).ci95;
    const resplit = tangoPairedInterval({ both: 2, headOnly: 4, baseOnly: 11, neither: 33 }).ci95;
    expect(mirrored?.[0]).toBeCloseTo(-(forward?.[1] ?? Number.NaN), 13);
    expect(mirrored?.[1]).toBeCloseTo(-(forward?.[0] ?? Number.NaN), 13);
    expect(resplit).toEqual(forward);
  });

  it("a wider level gives a wider interval; bad input throws", () => {
    const t = table(13, 3, 400);
    const narrow = tangoPairedInterval(t, 0.1).ci95 ?? [0, 0];
    const wide = tangoPairedInterval(t, 0.01).ci95 ?? [0, 0];
    expect(wide[0]).toBeLessThan(narrow[0]);
    expect(wide[1]).toBeGreaterThan(narrow[1]);
    expect(() => tangoPairedInterval({ both: -1, headOnly: 0, baseOnly: 0, neither: 2 })).toThrow(RangeError);
    expect(() => tangoPairedInterval(t, 1)).toThrow(RangeError);
  });

  it("holds the completion gate's false-pass side where Newcombe's hybrid let a one-way 5-point drop through", () => {
    // A head that loses 5 points of cases the base completed and wins none (issue 10). 'above' =
    // lower bound over the true −5 pts: the non-inferiority gate passes a drop at its limit.
    // Exact enumeration over every table, weighted by its probability.
    const oneWay = ONE_WAY_DROP;
    const newcombe = pairedMiss((t) => newcombePairedInterval(t).ci95, 100, oneWay);
    expect(newcombe.above).toBeGreaterThan(0.035); // 3.71 %
    for (const n of [20, 50, 100, 200]) {
      const tango = pairedMiss((t) => tangoPairedInterval(t).ci95, n, oneWay);
      expect(tango.above).toBeLessThanOrEqual(0.025);
    }
  });

  it("is near nominal at 90 % → 85 % completion, correlation 0.5 (exact, n = 20…200)", () => {
    // Measured (bench/fixed-n.ts): false pass ≤ 2.28 %, false fail ≤ 2.76 % (n = 100).
    const cells = pairedCells(0.9, 0.85, 0.5);
    for (const n of [20, 50, 100, 200]) {
      const miss = pairedMiss((t) => tangoPairedInterval(t).ci95, n, cells);
      expect(miss.above).toBeLessThanOrEqual(0.025);
      expect(miss.below).toBeLessThanOrEqual(0.028);
    }
  });
});

// ---------------------------------------------------------------------------------------

function ratioPairs(values: readonly (readonly [number, number, number, number])[]): RatioPair[] {
  return values.map(([baseCost, baseDone, headCost, headDone]) => ({
    base: { numerator: baseCost, denominator: baseDone },
    head: { numerator: headCost, denominator: headDone },
  }));
}

/** 40 cases, costs spread 0.5–4.4, a few incomplete on each side. */
function sampleCosts(): RatioPair[] {
  const random = seededRandom("fixed-n-test-costs");
  return ratioPairs(
    Array.from({ length: 40 }, (_, i) => {
      const base = 0.5 + 3 * random();
      return [base, i % 9 === 0 ? 0 : 1, base * (1.1 + 0.6 * (random() - 0.5)), i % 7 === 0 ? 0 : 1] as const;
    }),
  );
}

describe("studentizedBootstrapRatio (bootstrap-t over case IDs)", () => {
  it("its point estimate is the ratio of sums on each side", () => {
    const pairs = ratioPairs([
      [2, 1, 3, 1],
      [4, 1, 4, 0],
      [6, 0, 5, 1],
    ]);
    // base: 12 / 2 = 6; head: 12 / 2 = 6.
    expect(studentizedBootstrapRatio(pairs, { contrast: "difference" }).delta).toBe(0);
    expect(studentizedBootstrapRatio(pairs, { contrast: "relative" }).delta).toBe(0);
  });

  it.each(["relative", "difference"] as const)(
    "its delta-method SE (%s) agrees with the jackknife",
    (contrast) => {
      const pairs = sampleCosts();
      const n = pairs.length;
      const total = (sample: readonly RatioPair[], pick: (p: RatioPair) => number) =>
        sample.reduce((s, p) => s + pick(p), 0);
      const statistic = (sample: readonly RatioPair[]) => {
        const head = total(sample, (p) => p.head.numerator) / total(sample, (p) => p.head.denominator);
        const base = total(sample, (p) => p.base.numerator) / total(sample, (p) => p.base.denominator);
        return contrast === "relative" ? Math.log(head / base) : head - base;
      };
      const leaveOneOut = pairs.map((_, i) => statistic(pairs.filter((_, j) => j !== i)));
      const mean = sum(leaveOneOut) / n;
      const jackknifeSe = Math.sqrt(((n - 1) / n) * sum(leaveOneOut.map((v) => (v - mean) ** 2)));
      const observed = ratioContrastWithSe(pairs, contrast);
      expect(observed?.estimate).toBeCloseTo(statistic(pairs), 14);
      // The influence-function SE is the infinitesimal jackknife; the two differ by O(1/n).
      expect((observed?.se ?? Number.NaN) / jackknifeSe).toBeGreaterThan(0.95);
      expect((observed?.se ?? Number.NaN) / jackknifeSe).toBeLessThan(1.05);
    },
  );

  it("is deterministic per seed, scale-free, and mirrors when head and base swap", () => {
    const pairs = sampleCosts();
    const first = studentizedBootstrapRatio(pairs, { contrast: "relative", seed: "s" });
    expect(studentizedBootstrapRatio(pairs, { contrast: "relative", seed: "s" })).toEqual(first);
    expect(studentizedBootstrapRatio(pairs, { contrast: "relative", seed: "t" }).ci95).not.toEqual(
      first.ci95,
    );
    const [low, high] = first.ci95 ?? [Number.NaN, Number.NaN];
    expect(low).toBeLessThan(first.delta ?? Number.NaN);
    expect(high).toBeGreaterThan(first.delta ?? Number.NaN);
    // Cents or dollars: the relative change and its interval are the same.
    const inCents = pairs.map((p) => ({
      base: { ...p.base, numerator: p.base.numerator * 100 },
      head: { ...p.head, numerator: p.head.numerator * 100 },
    }));
    const cents = studentizedBootstrapRatio(inCents, { contrast: "relative", seed: "s" }).ci95;
    expect(cents?.[0]).toBeCloseTo(low, 12);
    expect(cents?.[1]).toBeCloseTo(high, 12);
    // head/base ∈ [1 + low, 1 + high] ⇔ base/head ∈ [1/(1 + high), 1/(1 + low)].
    const swapped = pairs.map((p) => ({ base: p.head, head: p.base }));
    const back = studentizedBootstrapRatio(swapped, { contrast: "relative", seed: "s" }).ci95;
    expect(back?.[0]).toBeCloseTo(1 / (1 + high) - 1, 12);
    expect(back?.[1]).toBeCloseTo(1 / (1 + low) - 1, 12);
    // The difference contrast, in the data's units, brackets its estimate too.
    const difference = studentizedBootstrapRatio(pairs, { contrast: "difference", seed: "s" });
    expect(difference.ci95?.[0]).toBeLessThan(difference.delta ?? Number.NaN);
    expect(difference.ci95?.[1]).toBeGreaterThan(difference.delta ?? Number.NaN);
  });

  it(`is undecidable below ${MIN_COMPLETED_CASES_PER_SIDE} completed cases per side or with zero spread, and says why`, () => {
    const pairs = sampleCosts();
    const fewHead = pairs.map((p, i) => ({ base: p.base, head: { ...p.head, denominator: i < 9 ? 1 : 0 } }));
    const result = studentizedBootstrapRatio(fewHead, { contrast: "relative" });
    expect(result.delta).not.toBeNull();
    expect(result.ci95).toBeNull();
    expect(studentizedRatioBlocker(fewHead, "relative")).toBe(
      "head has 9 completed cases, a ratio interval needs at least 10",
    );
    expect(studentizedRatioBlocker(pairs, "relative")).toBeNull();
    // One or two cases: the percentile bootstrap gave a zero-width interval here (issue 10).
    expect(studentizedBootstrapRatio(pairs.slice(0, 2), { contrast: "relative" }).ci95).toBeNull();
    // Every case identical: SE 0, nothing to studentize by.
    const flat = ratioPairs(Array.from({ length: 30 }, () => [1, 1, 1.2, 1] as const));
    expect(studentizedBootstrapRatio(flat, { contrast: "relative" })).toEqual({
      delta: expect.closeTo(0.2, 12),
      ci95: null,
    });
    // No completed case on a side: nothing to divide by.
    const noBase = ratioPairs(Array.from({ length: 30 }, () => [1, 0, 1, 1] as const));
    expect(studentizedBootstrapRatio(noBase)).toEqual({ delta: null, ci95: null });
    expect(studentizedRatioBlocker(noBase)).toBe(
      "base has 0 completed cases, a ratio interval needs at least 10",
    );
  });

  it("passes a cost at its limit less often than the percentile bootstrap did (n = 20, lognormal, ratio 1.10)", () => {
    // Seeded Monte Carlo, 600 runs × 499 resamples. 'below' = upper bound under the true +10 %:
    // the cost gate passes a head exactly at its limit. bench/fixed-n.ts runs the full table.
    const percentile = costMiss(percentileRelative(499), 20, COST_AT_LIMIT, 600, "test");
    const studentized = costMiss(studentizedRelative(499), 20, COST_AT_LIMIT, 600, "test");
    expect(percentile.below).toBeGreaterThan(0.035);
    expect(studentized.below).toBeLessThan(percentile.below);
    expect(studentized.below).toBeLessThanOrEqual(0.03);
    expect(studentized.above).toBeLessThanOrEqual(0.035);
  });
});
