import { describe, expect, it } from "vitest";
import {
  combineVerdict,
  computeDeltas,
  computeRouteKpis,
  evaluateGates,
  pairedCases,
} from "../src/core/gates.ts";
import {
  type CaseResult,
  type CaseSideResult,
  type GatesConfig,
  KPI_NAMES,
  type Outcome,
} from "../src/core/result.ts";
import { ascending, pairedBootstrapInterval, quantileSorted, seededRandom } from "../src/core/stats.ts";

const gatesConfig: GatesConfig = {
  max_error_rate: 0.02,
  eval_max_error_rate: 0.05,
  max_completion_rate_drop: 0.05,
  min_cases: 20,
};

/** Spread groups of rows evenly through the sequence (as a seeded order would), keeping IDs. */
function interleave(cases: CaseResult[]): CaseResult[] {
  return cases
    .map((c, i) => ({ c, key: ((i * 7919) % 101) + i / 1e6 }))
    .sort((a, b) => a.key - b.key)
    .map(({ c }) => c);
}

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

function gate(cases: CaseResult[], name: string, config: GatesConfig = gatesConfig) {
  const found = evaluateGates(cases, config).gates.find((g) => g.name === name);
  if (!found) throw new Error(`no gate ${name}`);
  return found;
}

const fixed: GatesConfig = { ...gatesConfig, sequential: false };

describe("evaluateGates (sequential, the default): completion rate drop", () => {
  it("fails a drop clearly beyond noise, at the pair where it became clear", () => {
    const cases = interleave(suite([70, "pass", "pass"], [30, "pass", "fail"]));
    const result = gate(cases, "max_completion_rate_drop");
    expect(result.status).toBe("fail");
    expect(result.decided_at).toBeGreaterThanOrEqual(20);
    expect(result.decided_at).toBeLessThan(100);
    expect(evaluateGates(cases, gatesConfig).verdict).toBe("fail");
  });

  it("passes identical outcomes once the sequence shows the drop is inside the limit", () => {
    const result = gate(suite([400, "pass", "pass"]), "max_completion_rate_drop");
    expect(result.status).toBe("pass");
    expect(result.value).toBe(0);
    expect(result.decided_at).toBeLessThan(120);
    expect(result.ci95?.[1]).toBeLessThan(0.05);
  });

  it("does not pass when neither side completes anything", () => {
    const result = gate(suite([400, "fail", "fail"]), "max_completion_rate_drop");
    expect(result.status).toBe("inconclusive");
    expect(result.reason).toContain("the head completed none");
    expect(result.pairs_to_decide).toBeNull();
  });

  it("is inconclusive on 30 identical pairs and says about how many more would decide", () => {
    const result = gate(suite([30, "pass", "pass"]), "max_completion_rate_drop");
    expect(result.status).toBe("inconclusive");
    expect(result.pairs_to_decide).toBeGreaterThan(30);
    expect(result.pairs_to_decide).toBeLessThan(150);
  });
});

describe("evaluateGates (sequential): error rate", () => {
  it("fails when the head's error rate is shown above the 2 % limit", () => {
    const result = gate(interleave(suite([80, "pass", "pass"], [20, "pass", "error"])), "max_error_rate");
    expect(result.status).toBe("fail");
    // Judged up to the pair that settled the verdict, not over all 100.
    expect(result.value).toBeGreaterThan(0.1);
    expect(result.ci95?.[0]).toBeGreaterThan(0.02);
  });

  it("passes 0 errors once shown below the eval's 5 % ceiling (about 95 pairs), not before", () => {
    expect(gate(suite([120, "pass", "pass"]), "max_error_rate").status).toBe("pass");
    const early = gate(suite([60, "pass", "pass"]), "max_error_rate");
    expect(early.status).toBe("inconclusive");
    expect(early.pairs_to_decide).toBeGreaterThan(0);
  });

  it("judges the head side only: base errors do not count", () => {
    expect(gate(suite([200, "error", "pass"]), "max_error_rate").value).toBe(0);
  });
});

describe("evaluateGates: minimum evidence", () => {
  it("never decides with fewer pairs than min_cases, and counts only pairs", () => {
    // 12 pairs that all flip pass → fail (a clear breach), plus 10 cases only the head ran.
    const cases = [...rows(12, "pass", "fail", 0), ...rows(10, null, "pass", 100)];
    for (const config of [gatesConfig, fixed]) {
      const result = evaluateGates(cases, config);
      expect(result.verdict).toBe("inconclusive");
      for (const g of result.gates) expect(g.reason).toContain("only 12 judged pairs");
      expect(result.gates.find((g) => g.name === "max_completion_rate_drop")?.value).toBe(1);
    }
  });

  it("is inconclusive with no cases at all", () => {
    expect(evaluateGates([], gatesConfig).verdict).toBe("inconclusive");
    expect(evaluateGates([], fixed).verdict).toBe("inconclusive");
  });
});

describe("evaluateGates (fixed-N): one judgement at the end", () => {
  it("fails a clear drop and a clear error rate", () => {
    expect(
      gate(suite([70, "pass", "pass"], [30, "pass", "fail"]), "max_completion_rate_drop", fixed).status,
    ).toBe("fail");
    expect(gate(suite([80, "pass", "pass"], [20, "pass", "error"]), "max_error_rate", fixed).status).toBe(
      "fail",
    );
  });

  it("passes a clean run against the eval's error ceiling and the completion limit", () => {
    const result = evaluateGates(suite([400, "pass", "pass"]), fixed);
    expect(result.verdict).toBe("pass");
  });

  it("does not pass when neither side completes anything", () => {
    expect(gate(suite([400, "fail", "fail"]), "max_completion_rate_drop", fixed).status).toBe("inconclusive");
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
  const withCost: GatesConfig = { ...gatesConfig, max_cost_increase: 0.25 };

  it("is absent unless configured", () => {
    expect(evaluateGates(costCases(1), gatesConfig).gates.map((g) => g.name)).toEqual([
      "max_error_rate",
      "max_completion_rate_drop",
    ]);
  });

  it("fails a tripled cost per completed task (both modes)", () => {
    for (const config of [withCost, { ...withCost, sequential: false }]) {
      const result = gate(costCases(3), "max_cost_increase", config);
      expect(result.status).toBe("fail");
      expect(result.value).toBeCloseTo(2, 1);
    }
  });

  it("passes an unchanged cost (both modes)", () => {
    for (const config of [withCost, { ...withCost, sequential: false }]) {
      const result = gate(costCases(1), "max_cost_increase", config);
      expect(result.status).toBe("pass");
      expect(Math.abs(result.value ?? 1)).toBeLessThan(0.01);
    }
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

  it("stops judging once a gate fails: the others say the verdict was settled", () => {
    const failing = evaluateGates(interleave(suite([70, "pass", "pass"], [30, "pass", "fail"])), gatesConfig);
    expect(failing.verdict).toBe("fail");
    const error = failing.gates.find((g) => g.name === "max_error_rate");
    expect(error?.status).toBe("inconclusive");
    expect(error?.reason).toContain("settled by max_completion_rate_drop");
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

describe("latency quantile bootstrap", () => {
  it("gives exactly the interval of the re-sorting paired bootstrap, with the same draws", () => {
    const random = seededRandom("latency-test");
    const cases: CaseResult[] = rows(60, "pass", "pass").map((c) => ({
      ...c,
      base: side("pass", {
        latencies_ms: Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.round(random() * 900)),
      }),
      head: side("pass", {
        latencies_ms: Array.from({ length: Math.floor(random() * 3) }, () => Math.round(random() * 1200)),
      }),
    }));
    const pairs = pairedCases(cases);
    const pooled = (sides: CaseSideResult[], q: number) =>
      quantileSorted(ascending(sides.flatMap((s) => s.latencies_ms)), q);
    for (const [kpi, q] of [
      ["latency_p50_ms", 0.5],
      ["latency_p95_ms", 0.95],
    ] as const) {
      const expected = pairedBootstrapInterval(
        pairs,
        (sample) => {
          const b = pooled(
            sample.map((p) => p.base),
            q,
          );
          const h = pooled(
            sample.map((p) => p.head),
            q,
          );
          return b === null || h === null ? null : h - b;
        },
        { seed: `modelgate:${kpi}` },
      );
      expect(computeDeltas(cases)[kpi]?.ci95, kpi).toEqual(expected);
    }
  });
});
