import { describe, expect, it } from "vitest";
import {
  bootstrapRatioDelta,
  errorRateUpperBound,
  minDetectableEffect,
  newcombeIndependentInterval,
  newcombePairedInterval,
  normalQuantile,
  type OutcomePair,
  type PairedTable,
  pairedMeanDelta,
  pairedRateDelta,
  quantileSorted,
  type RatioPair,
  ratioOfSums,
  seededRandom,
  studentTCdf,
  studentTQuantile,
  wilson,
  Z_80,
  Z_975,
} from "../src/core/stats.ts";

/**
 * Every expected value here comes from outside the implementation: published worked
 * examples, standard tables, closed forms worked by hand (shown in comments), or an
 * analytic approximation computed in the test itself.
 */

function tableToPairs(t: PairedTable): OutcomePair[] {
  const repeat = (count: number, pair: OutcomePair) => Array.from({ length: count }, () => pair);
  return [
    ...repeat(t.both, [true, true]),
    ...repeat(t.headOnly, [false, true]),
    ...repeat(t.baseOnly, [true, false]),
    ...repeat(t.neither, [false, false]),
  ];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

describe("normalQuantile (AS 241)", () => {
  // Standard normal table values (10 significant digits, e.g. Abramowitz & Stegun table 26.5).
  it.each([
    [0.975, 1.959963985],
    [0.8, 0.841621234],
    [0.95, 1.644853627],
    [0.995, 2.575829304],
    [0.999, 3.090232306],
    [0.9, 1.281551566],
    [0.5, 0],
  ])("Φ⁻¹(%s) = %s", (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 9);
    expect(normalQuantile(1 - p)).toBeCloseTo(-z, 9);
  });

  // Far tails, against SciPy's ndtri (Cephes, a different algorithm): scipy.stats.norm.ppf(p).
  it.each([
    [1e-10, -6.361340902404056],
    [1e-300, -37.0470962993612],
    [0.075, -1.4395314709384563],
    [1 - 1e-12, 7.0344869100478356],
  ])("tail Φ⁻¹(%s) = %s", (p, z) => {
    expect(Math.abs(normalQuantile(p) - z) / Math.abs(z)).toBeLessThan(1e-12);
  });

  it("exports z0.975 and z0.8", () => {
    expect(Z_975).toBeCloseTo(1.959963985, 9);
    expect(Z_80).toBeCloseTo(0.841621234, 9);
  });

  it("is infinite at the ends and rejects probabilities outside [0, 1]", () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => normalQuantile(1.2)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });
});

describe("Student t", () => {
  // t-table values t(0.975, df), 7 significant digits (scipy.stats.t.ppf agrees).
  it.each([
    [1, 12.7062047],
    [2, 4.3026527],
    [3, 3.1824463],
    [4, 2.7764451],
    [5, 2.5705818],
    [10, 2.2281389],
    [19, 2.0930241],
    [30, 2.0422725],
    [100, 1.9839715],
    [1000, 1.9623391],
  ])("t(0.975, %i) = %s", (df, value) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(value, 6);
  });

  it("matches the closed forms for df 1 and 2", () => {
    // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/π. df = 2: F(t) = 1/2 + t / (2·√(t² + 2)).
    for (const t of [-3, -0.5, 0, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 14);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(t * t + 2)), 14);
    }
    expect(studentTQuantile(0.025, 3)).toBeCloseTo(-3.1824463, 6);
  });
});

describe("quantileSorted (linear interpolation, Hyndman–Fan type 7)", () => {
  it("matches numpy.quantile's default", () => {
    // numpy.quantile([1, 2, 3, 4], [0.5, 0.95]) = [2.5, 3.85]; numpy.quantile(1..20, 0.95) = 19.05
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(quantileSorted(oneToTwenty, 0.95)).toBeCloseTo(19.05, 12);
    expect(quantileSorted([7], 0.95)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNull();
  });
});

describe("wilson", () => {
  // Newcombe (1998) "Two-sided confidence intervals for the single proportion", Stat Med
  // 17:857, worked examples, as checked in the ratesci R package's tests of published values.
  it.each([
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])("%i/%i → (%s, %s)", (k, n, low, high) => {
    const ci = wilson(k, n);
    expect(ci).not.toBeNull();
    expect(round(ci?.[0] ?? -1, 4)).toBe(low);
    expect(round(ci?.[1] ?? -1, 4)).toBe(high);
  });

  it("at 0 successes is [0, z²/(n + z²)] exactly (closed form by hand)", () => {
    // k = 0: centre (z²/2n)/(1 + z²/n), half-width (z/(1+z²/n))·(z/2n): upper = z²/(n + z²).
    for (const n of [5, 20, 100, 1000]) {
      expect(wilson(0, n)?.[0]).toBe(0);
      expect(wilson(0, n)?.[1]).toBeCloseTo((Z_975 * Z_975) / (n + Z_975 * Z_975), 14);
      expect(wilson(n, n)?.[1]).toBe(1);
    }
  });

  it("is null for no trials and rejects impossible counts", () => {
    expect(wilson(0, 0)).toBeNull();
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
    expect(() => wilson(0.5, 2)).toThrow(RangeError);
  });
});

describe("errorRateUpperBound and the docs '0 errors in n → ≈ 3/n'", () => {
  it.each([20, 50, 100, 200, 1000])("0 errors in %i cases", (n) => {
    const bound = errorRateUpperBound(0, n) ?? 1;
    // Wilson: 3.84/(n + 3.84), not 3/n. The rule of three is the one-sided exact bound
    // (−ln 0.05 / n); our interval is two-sided, so it sits between 3/n and 3.84/n …
    expect(bound).toBeCloseTo(3.841458820694124 / (n + 3.841458820694124), 12);
    expect(bound).toBeGreaterThan(3 / n);
    expect(bound).toBeLessThan(3.85 / n);
    // … and within 5 % of the two-sided exact Clopper–Pearson bound 1 − 0.025^(1/n).
    const clopperPearson = 1 - 0.025 ** (1 / n);
    expect(Math.abs(bound - clopperPearson) / clopperPearson).toBeLessThan(0.05);
  });

  it("is null without cases", () => {
    expect(errorRateUpperBound(0, 0)).toBeNull();
  });
});

describe("Newcombe paired interval (1998, Stat Med 17:2635, method 10)", () => {
  // Tables are (both, head only, base only, neither) = (a, b, c, d); difference (b − c)/n.
  // Published results, as reproduced in the ratesci R package's tests against the literature.
  it.each([
    // Newcombe's own example, his method 10 result (0.0562, 0.3292).
    [{ both: 20, headOnly: 12, baseOnly: 2, neither: 16 }, 4, 0.0562, 0.3292],
    // Fagerland, Lydersen & Laake (2014), Bentur et al. data (−0.507, −0.026).
    [{ both: 1, headOnly: 1, baseOnly: 7, neither: 12 }, 3, -0.507, -0.026],
    // Tang et al. (2010) example (−0.1574, 0.4136).
    [{ both: 8, headOnly: 3, baseOnly: 1, neither: 2 }, 4, -0.1574, 0.4136],
    // Chang (2024) example (0.133, 0.318).
    [{ both: 7, headOnly: 25, baseOnly: 2, neither: 68 }, 3, 0.133, 0.318],
  ] as const)("%o", (table, digits, low, high) => {
    const result = newcombePairedInterval(table);
    const n = table.both + table.headOnly + table.baseOnly + table.neither;
    expect(result.delta).toBeCloseTo((table.headOnly - table.baseOnly) / n, 14);
    expect(round(result.ci95?.[0] ?? Number.NaN, digits)).toBe(low);
    expect(round(result.ci95?.[1] ?? Number.NaN, digits)).toBe(high);
    // The same result through the pair list that callers use.
    expect(pairedRateDelta(tableToPairs(table))).toEqual(result);
  });

  it("swapping the sides negates the interval", () => {
    const forward = newcombePairedInterval({ both: 20, headOnly: 12, baseOnly: 2, neither: 16 });
    const backward = newcombePairedInterval({ both: 20, headOnly: 2, baseOnly: 12, neither: 16 });
    expect(backward.delta).toBeCloseTo(-(forward.delta ?? 0), 14);
    expect(backward.ci95?.[0]).toBeCloseTo(-(forward.ci95?.[1] ?? 0), 14);
    expect(backward.ci95?.[1]).toBeCloseTo(-(forward.ci95?.[0] ?? 0), 14);
  });

  it("all cases agreeing still leaves an interval around 0, from the Wilson bounds", () => {
    // 50/50 both pass: margins are empty so φ = 0; the interval is ±(1 − 50/(50 + z²)).
    const result = pairedRateDelta(tableToPairs({ both: 50, headOnly: 0, baseOnly: 0, neither: 0 }));
    const wilsonGap = 1 - 50 / (50 + Z_975 * Z_975);
    expect(result.delta).toBe(0);
    expect(result.ci95?.[0]).toBeCloseTo(-wilsonGap, 12);
    expect(result.ci95?.[1]).toBeCloseTo(wilsonGap, 12);
  });

  it("is null for no pairs", () => {
    expect(pairedRateDelta([])).toEqual({ delta: null, ci95: null });
  });
});

describe("Newcombe independent interval (1998, Stat Med 17:873, method 10)", () => {
  // Newcombe's Table II examples, method 10 column.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 10, 0.6075, 1],
  ])("%i/%i − %i/%i → (%s, %s)", (k1, n1, k2, n2, low, high) => {
    const result = newcombeIndependentInterval({ successes: k1, trials: n1 }, { successes: k2, trials: n2 });
    expect(result.delta).toBeCloseTo(k1 / n1 - k2 / n2, 14);
    expect(round(result.ci95?.[0] ?? Number.NaN, 4)).toBe(low);
    expect(round(result.ci95?.[1] ?? Number.NaN, 4)).toBe(high);
  });

  it("is null when an arm has no trials", () => {
    expect(newcombeIndependentInterval({ successes: 0, trials: 0 }, { successes: 1, trials: 2 })).toEqual({
      delta: null,
      ci95: null,
    });
  });
});

describe("pairedMeanDelta", () => {
  it("is the mean ± t(0.975, n−1)·s/√n (by hand)", () => {
    // d = 1..5: mean 3, s = √2.5, t(0.975, 4) = 2.7764451 → half-width 2.7764451·√2.5/√5 = 1.9632432.
    const result = pairedMeanDelta([1, 2, 3, 4, 5]);
    expect(result.delta).toBe(3);
    expect(result.ci95?.[0]).toBeCloseTo(3 - 1.9632432, 6);
    expect(result.ci95?.[1]).toBeCloseTo(3 + 1.9632432, 6);
  });

  it("gives no interval for one case and nulls for none", () => {
    expect(pairedMeanDelta([2])).toEqual({ delta: 2, ci95: null });
    expect(pairedMeanDelta([])).toEqual({ delta: null, ci95: null });
  });
});

describe("minDetectableEffect", () => {
  it("reproduces the docs: 80 % → 75 % at 80 % power needs ≈ 335–1,096 pairs", () => {
    // Cases needed for a 5-point drop: n·(MDE/0.05)², since MDE shrinks as 1/√n.
    const required = (table: PairedTable) => {
      const n = table.both + table.headOnly + table.baseOnly + table.neither;
      const mde = minDetectableEffect(tableToPairs(table)) ?? 1;
      return n * (mde / 0.05) ** 2;
    };
    // Uncorrelated sides: P(both) = 0.8·0.75 = 0.6, head only 0.2·0.75, base only 0.8·0.25.
    // By hand: Var(d) = 0.35 − 0.05² = 0.3475 (·1000/999) → (2.8016)²·0.34785/0.0025 ≈ 1092.
    const uncorrelated = required({ both: 600, headOnly: 150, baseOnly: 200, neither: 50 });
    // Correlation ≈ 0.7: 11 % discordant → Var(d) = 0.11 − 0.0025 → ≈ 338.
    const correlated = required({ both: 720, headOnly: 30, baseOnly: 80, neither: 170 });
    expect(uncorrelated).toBeCloseTo(1092.09, 1);
    expect(correlated).toBeCloseTo(337.84, 1);
    for (const value of [uncorrelated, correlated]) {
      expect(value).toBeGreaterThan(335 * 0.99);
      expect(value).toBeLessThan(1096 * 1.01);
    }
  });

  it("falls back to the binomial worst case when every case agrees (by hand)", () => {
    // 20/20 pass on both sides: Wilson lower bound 20/(20 + z²) = 0.8388748; s_d =
    // √(2·0.8388748·0.1611252) = 0.5199305; MDE = (1.9599640 + 0.8416212)·0.5199305/√20 = 0.3257123.
    const allPass = tableToPairs({ both: 20, headOnly: 0, baseOnly: 0, neither: 0 });
    expect(minDetectableEffect(allPass)).toBeCloseTo(0.3257123, 6);
    // Never 0, and smaller for a larger agreeing run.
    const bigger =
      minDetectableEffect(tableToPairs({ both: 2000, headOnly: 0, baseOnly: 0, neither: 0 })) ?? 0;
    expect(bigger).toBeGreaterThan(0);
    expect(bigger).toBeLessThan(0.3257123);
  });

  it("is capped at 1 and null without pairs", () => {
    expect(minDetectableEffect([[true, true]])).toBe(1);
    expect(minDetectableEffect([])).toBeNull();
  });
});

describe("seededRandom", () => {
  it("is deterministic per seed and roughly uniform", () => {
    const a = seededRandom("x");
    const b = seededRandom("x");
    const c = seededRandom("y");
    const fromA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(fromA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(fromA);
    const draws = Array.from({ length: 100_000 }, seededRandom("uniform"));
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    // Uniform(0,1): mean 1/2, SD of the mean √(1/12)/√100000 ≈ 0.0009.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.004);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });
});

/** A test-only generator (Numerical Recipes LCG), so the data do not share the code's PRNG. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Synthetic paired tokens: shared case difficulty, head ≈ 30 % more tokens, ~80 % vs ~75 % completion. */
function syntheticTokenPairs(n: number): RatioPair[] {
  const next = lcg(12345);
  return Array.from({ length: n }, () => {
    const difficulty = next();
    const baseTokens = 400 + 1200 * difficulty + 200 * next();
    const headTokens = 1.3 * baseTokens + 300 * next();
    return {
      base: { numerator: baseTokens, denominator: difficulty < 0.8 ? 1 : 0 },
      head: { numerator: headTokens, denominator: difficulty + 0.1 * next() < 0.78 ? 1 : 0 },
    };
  });
}

/**
 * Delta-method 95 % interval for a contrast of two ratios of sums, written out here
 * independently of the bootstrap: linearise each R = ΣY/ΣX by its per-case influence
 * (Y − R·X)/X̄, combine the two sides per case, and use SD/√n of the combined influence.
 */
function deltaMethodInterval(pairs: RatioPair[], contrast: "difference" | "relative"): [number, number] {
  const n = pairs.length;
  const side = (pick: (p: RatioPair) => { numerator: number; denominator: number }) => {
    const y = pairs.reduce((s, p) => s + pick(p).numerator, 0);
    const x = pairs.reduce((s, p) => s + pick(p).denominator, 0);
    const ratio = y / x;
    return {
      ratio,
      influence: pairs.map((p) => (pick(p).numerator - ratio * pick(p).denominator) / (x / n)),
    };
  };
  const base = side((p) => p.base);
  const head = side((p) => p.head);
  // d(head − base) = u_h − u_b; d(head/base) = u_h/R_b − (R_h/R_b²)·u_b.
  const combined = pairs.map((_, i) =>
    contrast === "difference"
      ? (head.influence[i] ?? 0) - (base.influence[i] ?? 0)
      : (head.influence[i] ?? 0) / base.ratio - (head.ratio / base.ratio ** 2) * (base.influence[i] ?? 0),
  );
  const mean = combined.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(combined.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const estimate = contrast === "difference" ? head.ratio - base.ratio : head.ratio / base.ratio - 1;
  const half = (1.959963985 * sd) / Math.sqrt(n);
  return [estimate - half, estimate + half];
}

describe("bootstrapRatioDelta", () => {
  const pairs = syntheticTokenPairs(3000);

  it.each(["difference", "relative"] as const)(
    "agrees with the delta method on a large sample (%s)",
    (contrast) => {
      const result = bootstrapRatioDelta(pairs, { contrast, seed: "check" });
      const [low, high] = deltaMethodInterval(pairs, contrast);
      const halfWidth = (high - low) / 2;
      expect(result.delta).toBeCloseTo((low + high) / 2, 9);
      // Monte Carlo error of a 2.5 % bootstrap quantile at 2000 resamples is ~3 % of the half-width.
      expect(Math.abs((result.ci95?.[0] ?? 0) - low)).toBeLessThan(0.1 * halfWidth);
      expect(Math.abs((result.ci95?.[1] ?? 0) - high)).toBeLessThan(0.1 * halfWidth);
    },
  );

  it("uses the ratio of sums for the point estimate (by hand)", () => {
    // base: (100 + 300) tokens / 1 completed = 400; head: (150 + 250) / 2 completed = 200.
    const small: RatioPair[] = [
      { base: { numerator: 100, denominator: 1 }, head: { numerator: 150, denominator: 1 } },
      { base: { numerator: 300, denominator: 0 }, head: { numerator: 250, denominator: 1 } },
    ];
    expect(ratioOfSums(small.map((p) => p.base))).toBe(400);
    expect(bootstrapRatioDelta(small, { iterations: 10 }).delta).toBe(-200);
    expect(bootstrapRatioDelta(small, { iterations: 10, contrast: "relative" }).delta).toBe(-0.5);
  });

  it("is deterministic for a seed and moves with another seed", () => {
    const sample = pairs.slice(0, 200);
    const once = bootstrapRatioDelta(sample, { seed: "s1" });
    expect(bootstrapRatioDelta(sample, { seed: "s1" })).toEqual(once);
    expect(bootstrapRatioDelta(sample, { seed: "s2" }).ci95).not.toEqual(once.ci95);
  });

  it("is null when a side completed nothing", () => {
    const noHeadCompletion: RatioPair[] = [
      { base: { numerator: 100, denominator: 1 }, head: { numerator: 150, denominator: 0 } },
    ];
    expect(bootstrapRatioDelta(noHeadCompletion)).toEqual({ delta: null, ci95: null });
    expect(bootstrapRatioDelta([])).toEqual({ delta: null, ci95: null });
  });

  it("gives no interval when many resamples lack a completion on a side", () => {
    // 1 completion in 20 cases: a resample misses it with probability (19/20)^20 ≈ 36 %.
    const sparse: RatioPair[] = Array.from({ length: 20 }, (_, i) => ({
      base: { numerator: 100, denominator: 1 },
      head: { numerator: 100, denominator: i === 0 ? 1 : 0 },
    }));
    const result = bootstrapRatioDelta(sparse);
    expect(result.delta).toBe(1900);
    expect(result.ci95).toBeNull();
  });
});
