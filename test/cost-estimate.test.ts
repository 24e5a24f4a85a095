import { describe, expect, it } from "vitest";
import { checkEstimateBudget, type EstimateTask, estimateCost } from "../src/core/cost-estimate.ts";
import { UserError } from "../src/core/errors.ts";

const pricing = { "gpt-5.4": { input: 2.5, cached_input: 0.25, output: 15 } };
const task = (overrides: Partial<EstimateTask> = {}): EstimateTask => ({
  side: "base",
  route: "general_qna",
  model: "gpt-5.4",
  promptChars: 4000,
  maxOutputTokens: 1000,
  retryLimit: 2,
  ...overrides,
});

describe("estimateCost (pure)", () => {
  it("sizes an unknown case from its prompt and the output cap, every attempt (approximate)", () => {
    const estimate = estimateCost([task()], pricing);
    // (1000 prompt + 1000 output) × 3 attempts
    expect(estimate.base.tokens).toBe(6000);
    expect(estimate.base.cost_usd).toBeCloseTo((3000 * 2.5 + 3000 * 15) / 1e6, 12);
    expect(estimate.base).toMatchObject({ source: "prompt_size", approximate: true });
    expect(estimate.head).toMatchObject({ source: "none", tokens: 0, cost_usd: 0 });
  });

  it("a model without a price is unknown (null) with the reason, never 0", () => {
    const estimate = estimateCost([task({ model: "claude-x" })], pricing);
    expect(estimate.base.cost_usd).toBeNull();
    expect(estimate.base.reason).toBe("no price for claude-x in pricing");
    expect(estimate.total.cost_usd).toBeNull();
  });

  it("a route without max_output_tokens has no upper bound: unknown, and the budget refuses it (fail closed)", () => {
    const estimate = estimateCost([task({ maxOutputTokens: null })], pricing);
    expect(estimate.base.tokens).toBeNull();
    const refusal = checkEstimateBudget(estimate, { max_run_cost_usd: 5 }, false);
    expect(refusal).toBeInstanceOf(UserError);
    expect(refusal?.message).toContain("route general_qna has no max_output_tokens");
    expect(refusal?.message).toContain("--force");
    expect(checkEstimateBudget(estimate, { max_run_cost_usd: 5 }, true)).toBeUndefined();
    expect(checkEstimateBudget(estimate, {}, false)).toBeUndefined();
  });

  it("prefers the cache (no new spend) over the baseline over prompt sizes, and says which", () => {
    const cached = [
      { prompt_tokens: 100, cached_tokens: 0, completion_tokens: 50, has_usage: true, model: "gpt-5.4" },
    ];
    const estimate = estimateCost(
      [
        task({ cached, baseline: { tokens: 999, cost: 1 } }),
        task({ baseline: { tokens: 400, cost: 0.01 } }),
        task({ side: "head", cached }),
      ],
      pricing,
    );
    expect(estimate.base).toMatchObject({ source: "mixed", sources: { cache: 1, baseline: 1 }, tokens: 550 });
    expect(estimate.base.spend_usd).toBeCloseTo(0.01, 12);
    expect(estimate.head).toMatchObject({ source: "cache", tokens: 150, spend_usd: 0, approximate: false });
    expect(estimate.source).toBe("base: mixed, head: cache");
  });

  it("sizes unknown cases from the mean of at least five known cases of the same model and route", () => {
    const cached = (completion: number) => [
      {
        prompt_tokens: 100,
        cached_tokens: 0,
        completion_tokens: completion,
        has_usage: true,
        model: "gpt-5.4",
      },
    ];
    const known = [100, 200, 300, 400, 500].map((n) => task({ cached: cached(n) }));
    const estimate = estimateCost([...known, task(), task({ route: "other" })], pricing);
    // Mean of the five: 100 prompt + 300 output tokens; the other route has no known cases.
    expect(estimate.base.sources).toEqual({ cache: 5, similar: 1, prompt_size: 1 });
    const similarCost = (100 * 2.5 + 300 * 15) / 1e6;
    const knownCost = known.length * similarCost;
    const worst = (3000 * 2.5 + 3000 * 15) / 1e6;
    expect(estimate.base.cost_usd).toBeCloseTo(knownCost + similarCost + worst, 12);
    expect(estimate.base.spend_usd).toBeCloseTo(similarCost + worst, 12);
    expect(estimate.base.tokens).toBe(5 * 400 + 400 + 6000);
    expect(estimate.base.approximate).toBe(true);

    // Four known cases are not enough: the unknown one stays a worst case.
    const few = estimateCost([...known.slice(0, 4), task()], pricing);
    expect(few.base.sources).toEqual({ cache: 4, prompt_size: 1 });
  });
});
