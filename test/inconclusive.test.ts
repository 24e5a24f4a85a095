import { describe, expect, it } from "vitest";
import { buildResult } from "../src/core/build-result.ts";
import { checkConclusionOf, resolveOnInconclusive, resultBlocks } from "../src/core/inconclusive.ts";
import { toEvidence } from "../src/core/report/evidence.ts";
import type { EvalResult } from "../src/core/result.ts";
import { evidenceProblem } from "../src/core/rollout/evidence.ts";

/** What `inconclusive` means for a PR: resolved once, read the same way by every door. */

const config = { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_cases: 20 };

function inconclusive(onInconclusive?: "fail" | "neutral"): EvalResult {
  const side = {
    outcome: "pass" as const,
    attempts: 1,
    tokens: 1,
    cost: 0,
    model: "m",
    tool_calls: 0,
    latencies_ms: [],
  };
  return buildResult({
    selection: { case_ids: ["a"], reasons: [], selected: 1, all: false },
    warnings: [],
    cases: [{ id: "a", route: "r", base: side, head: side }],
    gates: { ...config, ...(onInconclusive ? { on_inconclusive: onInconclusive } : {}) },
  });
}

describe("on_inconclusive", () => {
  it("defaults to fail when the change includes a model change, neutral otherwise; the policy wins", () => {
    expect(resolveOnInconclusive(undefined, ["model"])).toBe("fail");
    expect(resolveOnInconclusive(undefined, ["model", "prompt"])).toBe("fail");
    expect(resolveOnInconclusive(undefined, ["prompt", "infra"])).toBe("neutral");
    expect(resolveOnInconclusive("neutral", ["model"])).toBe("neutral");
    expect(resolveOnInconclusive("fail", ["prompt"])).toBe("fail");
  });

  it("an inconclusive result resolved to fail blocks: failure check, exit 1; neutral does not", () => {
    const failing = inconclusive("fail");
    expect(failing.verdict).toBe("inconclusive");
    expect(failing.gates_config?.on_inconclusive).toBe("fail");
    expect(resultBlocks(failing)).toBe(true);
    expect(checkConclusionOf(failing)).toBe("failure");
    const neutral = inconclusive("neutral");
    expect(resultBlocks(neutral)).toBe(false);
    expect(checkConclusionOf(neutral)).toBe("neutral");
    // Files written before the key existed read as what they were published as: neutral.
    expect(checkConclusionOf(inconclusive())).toBe("neutral");
  });

  it("the App never reads an inconclusive result as passing evidence, whatever it resolved to", () => {
    for (const result of [inconclusive("fail"), inconclusive("neutral")]) {
      expect(evidenceProblem(toEvidence(result, "a".repeat(40)))).toMatch(/inconclusive, not pass/);
    }
  });
});
