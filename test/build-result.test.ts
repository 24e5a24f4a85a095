import { describe, expect, it } from "vitest";
import { buildResult, type ResultParts } from "../src/core/build-result.ts";
import type { GateEvaluation } from "../src/core/gates.ts";
import type { CaseResult, CaseSideResult } from "../src/core/result.ts";

/** buildResult: gates come from the run's monitor, checkpoints are cheap, early stops are not partial. */

function side(outcome: CaseSideResult["outcome"]): CaseSideResult {
  return { outcome, attempts: 1, tokens: 100, cost: 0.001, model: "m", tool_calls: 0, latencies_ms: [20] };
}

function cases(n: number): CaseResult[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    route: "qna",
    base: side("pass"),
    head: side(i % 10 ? "pass" : "fail"),
  }));
}

const gates = {
  max_error_rate: 0.02,
  max_completion_rate_drop: 0.05,
  min_cases: 20,
  on_inconclusive: "fail" as const,
};

function parts(overrides: Partial<ResultParts> = {}): ResultParts {
  return {
    selection: { case_ids: [], reasons: [], selected: 0, all: false },
    warnings: [],
    cases: cases(60),
    gates,
    ...overrides,
  };
}

const judged: GateEvaluation = {
  verdict: "pass",
  gates: [
    {
      name: "max_completion_rate_drop",
      status: "pass",
      value: 0.1,
      threshold: 0.05,
      ci95: [0.01, 0.04],
      min_pairs: 30,
      decided_at: 84,
    },
  ],
};

const stoppedEarly = {
  mode: "sequential" as const,
  seed: "modelgate",
  planned_pairs: 400,
  pairs: 84,
  stopped_early: true,
  calls_saved: 632,
};

describe("buildResult", () => {
  it("takes the gates and verdict from the monitor's evaluation as given", () => {
    const result = buildResult(parts({ judged, sequence: stoppedEarly }));
    expect(result.gates).toEqual(judged.gates);
    expect(result.verdict).toBe("pass");
    expect(result.sequential).toEqual(stoppedEarly);
    expect(result.gates_config).toMatchObject({ on_inconclusive: "fail" });
  });

  it("a sequence that stopped because the verdict settled is not partial; a budget stop is, and cannot pass", () => {
    expect(buildResult(parts({ judged, sequence: stoppedEarly })).partial).toBe(false);
    const budget = buildResult(
      parts({
        judged,
        sequence: stoppedEarly,
        stopped: { reason: "run cost budget reached", cap: "budget.max_run_cost_usd" },
      }),
    );
    expect(budget.partial).toBe(true);
    expect(budget.verdict).toBe("inconclusive");
    const failing = buildResult(
      parts({ judged: { ...judged, verdict: "fail" }, stopped: { reason: "interrupted" } }),
    );
    expect(failing.verdict).toBe("fail");
  });

  it("a checkpoint skips the bootstrap deltas (the final result computes them once) and is far cheaper", () => {
    const many = cases(2000);
    let started = performance.now();
    const checkpoint = buildResult(
      parts({ cases: many, judged, checkpoint: true, stopped: { reason: "run in progress" } }),
    );
    const checkpointMs = performance.now() - started;
    started = performance.now();
    const final = buildResult(parts({ cases: many, judged }));
    const finalMs = performance.now() - started;
    expect(checkpoint.deltas).toEqual({});
    expect(final.deltas.completion_rate).toBeDefined();
    expect(checkpoint.gates).toEqual(final.gates);
    expect(checkpointMs * 10).toBeLessThan(finalMs);
  });
});
