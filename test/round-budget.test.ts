import { describe, expect, it } from "vitest";
import { admitRound } from "../src/core/round-budget.ts";

/** A batch round is admitted only as far as the cost budget covers it at worst (pure). */
const pricing = { "gpt-5.4": { input: 2.5, cached_input: 0.25, output: 15 } };
// 400 characters of messages ≈ 100 prompt tokens (JSON-quoted: a little more); 1,000 output tokens.
const request = {
  model: "gpt-5.4",
  messages: [{ role: "user", content: "x".repeat(360) }],
  max_completion_tokens: 1000,
};
const worst = (Math.ceil(JSON.stringify(request.messages).length / 4) * 2.5 + 1000 * 15) / 1e6;

describe("admitRound", () => {
  it("admits everything without a cost cap", () => {
    expect(admitRound([request, request], { spent_usd: 123, spent_tokens: 0 }, pricing)).toEqual({
      count: 2,
    });
  });

  it("admits the prefix whose worst case fits on top of what is spent, naming the cap", () => {
    const spent = 0.01;
    const cap = spent + 3.5 * worst;
    const admission = admitRound(
      [request, request, request, request, request],
      { spent_usd: spent, spent_tokens: 0, max_cost_usd: cap },
      pricing,
    );
    expect(admission.count).toBe(3);
    expect(admission.cap).toBe("budget.max_run_cost_usd");
    expect(admission.reason).toMatch(/^2 of 5 requests could take the run past budget\.max_run_cost_usd/);
  });

  it("admits nothing when the first request alone could pass the cap", () => {
    expect(
      admitRound([request], { spent_usd: 0, spent_tokens: 0, max_cost_usd: worst / 2 }, pricing).count,
    ).toBe(0);
  });

  it("a model without a price, or a request without an output cap, counts what can be priced", () => {
    expect(
      admitRound(
        [{ ...request, model: "unpriced" }],
        { spent_usd: 0, spent_tokens: 0, max_cost_usd: 1e-9 },
        pricing,
      ).count,
    ).toBe(1);
    const uncapped = { model: "gpt-5.4", messages: request.messages };
    expect(
      admitRound([uncapped, uncapped], { spent_usd: 0, spent_tokens: 0, max_cost_usd: 0.0004 }, pricing)
        .count,
    ).toBe(1);
  });

  it("the token cap admits a round the same way, at each request's prompt plus its output cap", () => {
    const tokens = Math.ceil(JSON.stringify(request.messages).length / 4) + 1000;
    const admission = admitRound(
      [request, request, request],
      { spent_usd: 0, spent_tokens: 500, max_tokens: 500 + 2 * tokens },
      pricing,
    );
    expect(admission.count).toBe(2);
    expect(admission.cap).toBe("budget.max_run_tokens");
    expect(admission.reason).toMatch(
      /^1 of 3 requests could take the run past budget\.max_run_tokens \d+ \(spent 500 tokens/,
    );
  });
});
