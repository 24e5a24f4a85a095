import { describe, expect, it } from "vitest";
import { computeKpis } from "../src/core/kpis.ts";
import { type CaseSideResult, KPI_NAMES } from "../src/core/result.ts";

function side(fields: Partial<CaseSideResult> & Pick<CaseSideResult, "outcome">): CaseSideResult {
  return { attempts: 1, tokens: 0, cost: 0, model: "gpt-5.5", tool_calls: 0, latencies_ms: [], ...fields };
}

/**
 * A hand-made table; every expected KPI below is worked out by hand from docs/cases.md.
 *
 * | case | outcome  | attempts | tokens | cost  | tool calls | latencies (answered attempts) |
 * |------|----------|----------|--------|-------|------------|-------------------------------|
 * | A    | pass     | 1        | 100    | 0.010 | 2          | 100                           |
 * | B    | fail     | 3        | 300    | 0.030 | 1          | 200, 300, 400                 |
 * | C    | error    | 3        | 0      | 0     | 0          | (none: no answer)             |
 * | D    | takeover | 1        | 50     | 0.005 | 0          | 500                           |
 * | E    | pass     | 2        | 250    | 0.020 | 3          | 150, 250                      |
 */
const table: CaseSideResult[] = [
  side({ outcome: "pass", attempts: 1, tokens: 100, cost: 0.01, tool_calls: 2, latencies_ms: [100] }),
  side({
    outcome: "fail",
    attempts: 3,
    tokens: 300,
    cost: 0.03,
    tool_calls: 1,
    latencies_ms: [200, 300, 400],
  }),
  side({ outcome: "error", attempts: 3, tokens: 0, cost: 0, tool_calls: 0, latencies_ms: [] }),
  side({ outcome: "takeover", attempts: 1, tokens: 50, cost: 0.005, tool_calls: 0, latencies_ms: [500] }),
  side({ outcome: "pass", attempts: 2, tokens: 250, cost: 0.02, tool_calls: 3, latencies_ms: [150, 250] }),
];

describe("computeKpis", () => {
  it("computes every KPI of the hand-made table", () => {
    const kpis = computeKpis(table);
    expect(Object.keys(kpis).sort()).toEqual([...KPI_NAMES].sort());
    expect(kpis.completion_rate).toBe(2 / 5); // A and E pass
    expect(kpis.retry_count).toBe((0 + 2 + 2 + 0 + 1) / 5); // attempts beyond the first, per case
    expect(kpis.tokens_per_completed_task).toBe(700 / 2); // all tokens, even of failed cases
    expect(kpis.cost_per_completed_task).toBeCloseTo(0.065 / 2, 12);
    expect(kpis.human_takeover_rate).toBe(1 / 5); // D
    expect(kpis.error_rate).toBe(1 / 5); // C
    // Latencies 100,150,200,250,300,400,500 (7 answered attempts). Linear interpolation:
    // p50 at position 6·0.5 = 3 → 250; p95 at 6·0.95 = 5.7 → 400 + 0.7·(500 − 400) = 470.
    expect(kpis.latency_p50_ms).toBe(250);
    expect(kpis.latency_p95_ms).toBeCloseTo(470, 9);
    expect(kpis.tool_calls_per_task).toBe(6 / 5);
  });

  it("makes cost unknown when one answer's cost is unknown, never counting it as 0", () => {
    const withUnknown = [...table.slice(0, 4), { ...(table[4] as CaseSideResult), cost: null }];
    const kpis = computeKpis(withUnknown);
    expect(kpis.cost_per_completed_task).toBeNull();
    expect(kpis.tokens_per_completed_task).toBe(350);
  });

  it("leaves per-completed-task figures null when nothing completed", () => {
    const kpis = computeKpis(table.filter((s) => s.outcome !== "pass"));
    expect(kpis.completion_rate).toBe(0);
    expect(kpis.tokens_per_completed_task).toBeNull();
    expect(kpis.cost_per_completed_task).toBeNull();
    expect(kpis.retry_count).toBeCloseTo(4 / 3, 12);
  });

  it("leaves latencies null when no attempt got an answer", () => {
    const kpis = computeKpis([side({ outcome: "error", attempts: 3 })]);
    expect(kpis.error_rate).toBe(1);
    expect(kpis.latency_p50_ms).toBeNull();
    expect(kpis.latency_p95_ms).toBeNull();
  });

  it("is all null for no cases", () => {
    const kpis = computeKpis([]);
    for (const name of KPI_NAMES) expect(kpis[name]).toBeNull();
  });
});
