import { describe, expect, it } from "vitest";
import {
  combineVerdict,
  computeDeltas,
  computeRouteKpis,
  evaluateGates,
  outcomePairs,
  type PairGatesConfig,
  pairedCases,
} from "../src/core/gates.ts";
import { type CaseResult, type CaseSideResult, KPI_NAMES, type Outcome } from "../src/core/result.ts";
import { pairedRateDelta } from "../src/core/stats.ts";

const gatesConfig: PairGatesConfig = { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_cases: 20 };
const Z2 = 1.959963985 ** 2; // z0.975², from the normal table

function side(outcome: Outcome, fields: Partial<CaseSideResult> = {}): CaseSideResult {
  const answered = outcome === "error" ? [] : [1000];
  return {
    outcome,
    attempts: 1,
    tokens: 1000,
    cost: 0.01,
    model: "m",
    tool_calls: 0,
    latencies_ms: answered,
    ...fields,
  };
}

/** `count` cases with the given base and head outcomes, IDs continuing from `start`. */
function rows(
  count: number,
  base: Outcome | null,
  head: Outcome | null,
  start = 0,
  route = "general_qna",
): CaseResult[] {
  return Array.from({ length: count }, (_, i) => {
    const result: CaseResult = { id: `case-${String(start + i).padStart(4, "0")}`, route };
    if (base) result.base = side(base);
    if (head) result.head = side(head);
    return result;
  });
}

/** Concatenate row groups with unique IDs. */
function suite(...groups: Array<[number, Outcome | null, Outcome | null]>): CaseResult[] {
  let next = 0;
  return groups.flatMap(([count, base, head]) => {
    const made = rows(count, base, head, next);
    next += count;
    return made;
  });
}

function gate(cases: CaseResult[], name: string, config: PairGatesConfig = gatesConfig) {
  const found = evaluateGates(cases, config).gates.find((g) => g.name === name);
  if (!found) throw new Error(`no gate ${name}`);
  return found;
}

describe("evaluateGates: completion rate drop", () => {
  it("fails a drop clearly beyond noise", () => {
    // 100 pairs, 30 flip pass → fail: drop 0.30; the paired interval cannot reach 0.05.
    const cases = suite([70, "pass", "pass"], [30, "pass", "fail"]);
    const result = gate(cases, "max_completion_rate_drop");
    expect(result.status).toBe("fail");
    expect(result.value).toBeCloseTo(0.3, 12);
    expect(result.ci95?.[0]).toBeGreaterThan(0.05);
    expect(evaluateGates(cases, gatesConfig).verdict).toBe("fail");
  });

  it("passes when the whole interval is inside the limit", () => {
    // 400 pairs, all pass on both sides. By hand: each side's Wilson lower bound is
    // 400/(400 + z²) and φ = 0 (an empty margin), so the drop interval is ±z²/(400 + z²).
    const cases = suite([400, "pass", "pass"]);
    const result = gate(cases, "max_completion_rate_drop");
    expect(result.status).toBe("pass");
    expect(result.value).toBe(0);
    expect(result.ci95?.[1]).toBeCloseTo(Z2 / (400 + Z2), 8);
  });

  it("is inconclusive when the interval straddles the limit, and says so", () => {
    // 40 pairs: base 36/40 = 90 %, head 34/40 = 85 %: a drop of exactly the 5-point limit.
    const cases = suite([34, "pass", "pass"], [2, "pass", "fail"], [4, "fail", "fail"]);
    const result = gate(cases, "max_completion_rate_drop");
    expect(result.status).toBe("inconclusive");
    expect(result.value).toBeCloseTo(0.05, 12);
    expect(result.ci95?.[0]).toBeLessThan(0.05);
    expect(result.ci95?.[1]).toBeGreaterThan(0.05);
    expect(result.reason).toContain("includes the 5.0 points limit");
  });

  it("uses the negated paired Newcombe interval of head − base", () => {
    const cases = suite([34, "pass", "pass"], [2, "pass", "fail"], [4, "fail", "fail"]);
    const change = pairedRateDelta(outcomePairs(pairedCases(cases), "pass"));
    const result = gate(cases, "max_completion_rate_drop");
    expect(result.ci95).toEqual([-(change.ci95?.[1] ?? 0), -(change.ci95?.[0] ?? 0)]);
  });
});

describe("evaluateGates: error rate", () => {
  it("fails when even the lower Wilson bound is above the limit", () => {
    // 20 errors in 100: lower bound by hand = (0.2 + z²/200 − z·√(0.0016 + z²/40000)) / (1 + z²/100)
    // = (0.219208 − 0.080716) / 1.038415 = 0.13337 > 0.02.
    const cases = suite([80, "pass", "pass"], [20, "pass", "error"]);
    const result = gate(cases, "max_error_rate");
    expect(result.status).toBe("fail");
    expect(result.value).toBeCloseTo(0.2, 12);
    expect(result.ci95?.[0]).toBeCloseTo(0.13337, 4);
  });

  it("passes 0 errors once the run is large enough: upper bound z²/(n + z²) ≤ 2 %", () => {
    // z²/(n + z²) ≤ 0.02 ⇔ n ≥ z²·0.98/0.02 = 188.2: 189 cases pass, 188 do not.
    expect(gate(suite([189, "pass", "pass"]), "max_error_rate").status).toBe("pass");
    expect(gate(suite([188, "pass", "pass"]), "max_error_rate").status).toBe("inconclusive");
  });

  it("says plainly how many error-free cases a small clean run would need", () => {
    const result = gate(suite([100, "pass", "pass"]), "max_error_rate");
    expect(result.status).toBe("inconclusive");
    expect(result.value).toBe(0);
    expect(result.reason).toContain("0 errors in 100 cases");
    expect(result.reason).toContain("about 189 error-free cases needed");
  });

  it("judges the head side only: base errors do not count", () => {
    const result = gate(suite([200, "error", "pass"]), "max_error_rate");
    expect(result.value).toBe(0);
  });
});

describe("evaluateGates: minimum evidence", () => {
  it("never decides with fewer paired cases than min_cases, and counts only pairs", () => {
    // 12 pairs that all flip pass → fail (a clear breach), plus 10 cases only the head ran.
    const cases = [...rows(12, "pass", "fail", 0), ...rows(10, null, "pass", 100)];
    const result = evaluateGates(cases, gatesConfig);
    expect(result.verdict).toBe("inconclusive");
    for (const g of result.gates) {
      expect(g.status).toBe("inconclusive");
      expect(g.reason).toBe("only 12 paired cases; at least 20 needed");
    }
    // The observed value stays visible for the report.
    expect(result.gates.find((g) => g.name === "max_completion_rate_drop")?.value).toBe(1);
  });

  it("is inconclusive with no cases at all", () => {
    const result = evaluateGates([], gatesConfig);
    expect(result.verdict).toBe("inconclusive");
    expect(result.gates.every((g) => g.reason === "only 0 paired cases; at least 20 needed")).toBe(true);
  });
});

describe("evaluateGates: cost increase (optional)", () => {
  /** 100 all-pass pairs; base cost varies by case, head costs `factor` times as much. */
  function costCases(factor: number, unknownAt = -1): CaseResult[] {
    return rows(100, "pass", "pass").map((c, i) => {
      const cost = 0.01 * (1 + (i % 7) / 7);
      return {
        ...c,
        base: side("pass", { cost }),
        head: side("pass", { cost: i === unknownAt ? null : cost * factor * (1 + ((i % 3) - 1) / 50) }),
      };
    });
  }
  const withCost: PairGatesConfig = { ...gatesConfig, max_cost_increase: 0.25 };

  it("is absent unless configured", () => {
    expect(evaluateGates(costCases(1), gatesConfig).gates.map((g) => g.name)).toEqual([
      "max_error_rate",
      "max_completion_rate_drop",
    ]);
  });

  it("fails a tripled cost per completed task", () => {
    const result = gate(costCases(3), "max_cost_increase", withCost);
    expect(result.status).toBe("fail");
    expect(result.value).toBeCloseTo(2, 1);
  });

  it("passes an unchanged cost", () => {
    const result = gate(costCases(1), "max_cost_increase", withCost);
    expect(result.status).toBe("pass");
    expect(Math.abs(result.value ?? 1)).toBeLessThan(0.01);
  });

  it("is inconclusive when a cost is unknown", () => {
    const result = gate(costCases(1, 5), "max_cost_increase", withCost);
    expect(result.status).toBe("inconclusive");
    expect(result.value).toBeNull();
    expect(result.reason).toContain("unknown");
  });
});

describe("verdict", () => {
  it("is fail if any gate fails, else inconclusive if any is, else pass", () => {
    expect(combineVerdict(["pass", "inconclusive", "fail"])).toBe("fail");
    expect(combineVerdict(["pass", "inconclusive"])).toBe("inconclusive");
    expect(combineVerdict(["pass", "pass"])).toBe("pass");
  });

  it("combines the gates of a run", () => {
    // Completion clearly drops (fail) while the error gate is undecided: fail wins.
    const failing = evaluateGates(suite([70, "pass", "pass"], [30, "pass", "fail"]), gatesConfig);
    expect(failing.gates.map((g) => g.status)).toEqual(["inconclusive", "fail"]);
    expect(failing.verdict).toBe("fail");
    // Everything inside its limit on 400 clean pairs: pass.
    expect(evaluateGates(suite([400, "pass", "pass"]), gatesConfig).verdict).toBe("pass");
  });
});

describe("computeDeltas", () => {
  const cases: CaseResult[] = [
    ...suite([30, "pass", "pass"], [6, "pass", "fail"], [2, "fail", "pass"], [2, "error", "error"]),
    // Only one side ran these: they must not count.
    ...rows(5, "pass", null, 500),
  ].map((c, i) => ({
    ...c,
    ...(c.base
      ? {
          base: {
            ...c.base,
            attempts: 1,
            tool_calls: 1,
            latencies_ms: c.base.latencies_ms.map(() => 1000 + i),
          },
        }
      : {}),
    ...(c.head
      ? {
          head: {
            ...c.head,
            attempts: 1 + (i % 2),
            tool_calls: 2,
            latencies_ms: c.head.latencies_ms.map(() => 1500 + i),
          },
        }
      : {}),
  }));

  it("gives a delta and interval for every KPI", () => {
    const deltas = computeDeltas(cases);
    expect(Object.keys(deltas).sort()).toEqual([...KPI_NAMES].sort());
    for (const name of KPI_NAMES) {
      const d = deltas[name];
      expect(d?.delta, name).not.toBeNull();
      expect(d?.ci95, name).not.toBeNull();
      const [low, high] = d?.ci95 ?? [0, 0];
      expect(low, name).toBeLessThanOrEqual(d?.delta ?? Number.NaN);
      expect(high, name).toBeGreaterThanOrEqual(d?.delta ?? Number.NaN);
    }
  });

  it("uses only paired cases (by hand)", () => {
    const deltas = computeDeltas(cases);
    // 40 pairs: completion base 36/40, head 32/40 → −4/40.
    expect(deltas.completion_rate?.delta).toBeCloseTo(-0.1, 12);
    // Head retries 1 on every odd index (20 of the 40 pairs), base none → +0.5 per case.
    expect(deltas.retry_count?.delta).toBeCloseTo(0.5, 12);
    expect(deltas.tool_calls_per_task?.delta).toBe(1);
    expect(deltas.error_rate?.delta).toBe(0);
    // Head latency is base + 500 ms on every answered attempt, so every percentile moves by 500.
    expect(deltas.latency_p50_ms?.delta).toBeCloseTo(500, 9);
    expect(deltas.latency_p95_ms?.delta).toBeCloseTo(500, 9);
  });

  it("does not depend on the order of the cases", () => {
    expect(computeDeltas([...cases].reverse())).toEqual(computeDeltas(cases));
  });

  it("is null everywhere without pairs", () => {
    const deltas = computeDeltas(rows(3, "pass", null));
    for (const name of KPI_NAMES) expect(deltas[name]).toEqual({ delta: null, ci95: null });
  });
});

describe("computeRouteKpis", () => {
  it("computes each side's KPIs per route", () => {
    const cases = [
      ...rows(3, "pass", "fail", 0, "agentic_coding"),
      ...rows(1, "pass", "pass", 10, "agentic_coding"),
      ...rows(2, "fail", "pass", 20, "general_qna"),
      ...rows(1, null, "error", 30, "general_qna"),
    ];
    const routes = computeRouteKpis(cases);
    expect(Object.keys(routes)).toEqual(["agentic_coding", "general_qna"]);
    expect(routes.agentic_coding?.base.kpis.completion_rate).toBe(1);
    expect(routes.agentic_coding?.head.kpis.completion_rate).toBe(0.25);
    expect(routes.general_qna?.base.kpis.completion_rate).toBe(0);
    expect(routes.general_qna?.head.kpis.error_rate).toBeCloseTo(1 / 3, 12);
  });
});
