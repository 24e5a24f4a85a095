import { describe, expect, it } from "vitest";
import { batchInputLine, neverRan, parseBatchFile, splitBatchFiles } from "../src/core/batch-jsonl.ts";
import { configSchema } from "../src/core/config/schema.ts";
import { costOf, pricingFor } from "../src/core/pricing.ts";

/** Issue 14 part 3: the Batch API's file formats and batch pricing (pure parts). */
describe("batch JSONL", () => {
  it("writes one chat-completions request per line with its custom_id", () => {
    const line = batchInputLine("r1-0", { model: "gpt-5.4", messages: [{ role: "user", content: "hi\n" }] });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      custom_id: "r1-0",
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "gpt-5.4", messages: [{ role: "user", content: "hi\n" }] },
    });
  });

  it("splits files under the line and byte limits, in order, a too-large line alone", () => {
    const lines = ["a\n", "bb\n", "ccc\n", "dddd\n", "e\n"];
    expect(splitBatchFiles(lines, { maxLines: 2, maxBytes: 1000 })).toEqual([
      ["a\n", "bb\n"],
      ["ccc\n", "dddd\n"],
      ["e\n"],
    ]);
    expect(splitBatchFiles(lines, { maxLines: 100, maxBytes: 7 })).toEqual([
      ["a\n", "bb\n"],
      ["ccc\n"],
      ["dddd\n", "e\n"],
    ]);
    // Bytes, not characters: "é" is two.
    expect(splitBatchFiles(["éé\n", "x\n"], { maxLines: 100, maxBytes: 6 })).toEqual([["éé\n"], ["x\n"]]);
    expect(splitBatchFiles([], { maxLines: 1, maxBytes: 1 })).toEqual([]);
  });

  it("reads output and error lines; an unreadable line answers nothing and is named", () => {
    const text = [
      JSON.stringify({
        id: "b1",
        custom_id: "ok",
        response: { status_code: 200, request_id: "q1", body: { x: 1 } },
        error: null,
      }),
      JSON.stringify({
        custom_id: "limited",
        response: { status_code: 429, body: { error: { message: "slow" } } },
        error: null,
      }),
      JSON.stringify({
        custom_id: "gone",
        response: null,
        error: { code: "batch_expired", message: "expired" },
      }),
      "not json",
      JSON.stringify({ response: null }),
      "",
    ].join("\n");
    const parsed = parseBatchFile(text, "output file f1");
    expect(parsed.results.get("ok")).toEqual({ kind: "answer", body: { x: 1 }, requestId: "q1" });
    expect(parsed.results.get("limited")).toMatchObject({ kind: "http_error", status: 429 });
    const gone = parsed.results.get("gone");
    expect(gone && neverRan(gone)).toBe(true);
    expect(parsed.malformed).toEqual([
      "output file f1 line 4: not JSON",
      "output file f1 line 5: not a batch result line",
    ]);
  });
});

describe("batch pricing", () => {
  it("pricing.<model>.batch_discount: default 0.5, 0 < d ≤ 1, applied to every price", () => {
    const config = configSchema.parse({
      pricing: {
        "gpt-5.4": { input: 2, cached_input: 0.2, output: 10 },
        "gpt-5.5": { input: 4, output: 20, batch_discount: 0.25 },
      },
    });
    const batch = pricingFor(config.pricing, "batch");
    const usage = { prompt_tokens: 1_000_000, cached_tokens: 500_000, completion_tokens: 1_000_000 };
    expect(costOf(usage, "gpt-5.4", batch)).toBeCloseTo(
      (costOf(usage, "gpt-5.4", config.pricing) ?? 0) * 0.5,
    );
    expect(costOf(usage, "gpt-5.5", batch)).toBeCloseTo(
      (costOf(usage, "gpt-5.5", config.pricing) ?? 0) * 0.25,
    );
    expect(pricingFor(config.pricing, "interactive")).toBe(config.pricing);
    expect(configSchema.parse({}).evals.mode).toBe("interactive");
    for (const bad of [0, -0.1, 1.5]) {
      expect(
        configSchema.safeParse({ pricing: { m: { input: 1, output: 1, batch_discount: bad } } }).success,
      ).toBe(false);
    }
    expect(configSchema.safeParse({ evals: { mode: "bulk" } }).success).toBe(false);
  });
});
