import { describe, expect, it } from "vitest";
import { checkAssertion, judgeAnswer } from "../src/core/cases/assertions.ts";
import { mergeCases, parseCaseFile } from "../src/core/cases/parse.ts";
import type { EvalCase } from "../src/core/cases/schema.ts";
import { renderTemplate } from "../src/core/cases/template.ts";
import { costOf, sameModel } from "../src/core/pricing.ts";
import { sample, shardOf } from "../src/core/selection.ts";
import { retryAfterMs } from "../src/eval/openai-client.ts";
import { openProvider } from "../src/eval/provider.ts";

const PRICING = {
  "gpt-5.4": { input: 2.5, cached_input: 0.25, output: 15 },
  "gpt-5.5": { input: 5, cached_input: 0.5, output: 30 },
};

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("case files", () => {
  it("parses JSONL and YAML lists with locations", () => {
    const jsonl = parseCaseFile(
      '{"id":"a","route":"r","input":"hi"}\n\n{"id":"b","route":"r","messages":[{"role":"user","content":"x"}]}\n',
      "evals/a.jsonl",
    );
    expect(jsonl.map((c) => [c.case.id, c.line])).toEqual([
      ["a", 1],
      ["b", 3],
    ]);
    const yaml = parseCaseFile(
      "- id: c\n  route: r\n  input: hello\n  assert:\n    - type: contains\n      value: hi\n",
      "evals/c.yaml",
    );
    expect(yaml[0]?.case.assert).toEqual([{ type: "contains", value: "hi" }]);
  });

  it("names file:line, the case and the field for every problem", () => {
    const message = errorOf(() =>
      parseCaseFile(
        '{"id":"a","route":"r","input":"x","assert":[{"type":"contians","value":"y"}]}\nnot json\n',
        "evals/a.jsonl",
      ),
    );
    expect(message).toContain("evals/a.jsonl:1 (case a) assert.0.type:");
    expect(message).toContain("evals/a.jsonl:2: not valid JSON");
    const yaml = errorOf(() =>
      parseCaseFile("- id: c\n  route: r\n  input: hello\n  vars: [1]\n", "evals/c.yaml"),
    );
    expect(yaml).toContain("evals/c.yaml:4 (case c) vars:");
  });

  it("points an unknown key at its own line", () => {
    const message = errorOf(() =>
      parseCaseFile(
        "- id: c\n  route: r\n  input: hello\n  asert:\n    - type: contains\n      value: hi\n",
        "evals/c.yaml",
      ),
    );
    expect(message).toContain('evals/c.yaml:4 (case c) asert: unknown key; did you mean "assert"?');
    const nested = errorOf(() =>
      parseCaseFile(
        "- id: c\n  route: r\n  input: hello\n  assert:\n    - type: contains\n      value: hi\n      ignorecase: true\n",
        "evals/c.yaml",
      ),
    );
    expect(nested).toContain("evals/c.yaml:7 (case c) assert.0.ignorecase: unknown key");
  });

  it("rejects a duplicate ID naming both places", () => {
    const a = parseCaseFile('{"id":"x","route":"r","input":"1"}\n', "evals/a.jsonl");
    const b = parseCaseFile('{"id":"x","route":"r","input":"2"}\n', "evals/b.jsonl");
    expect(errorOf(() => mergeCases([a, b]))).toBe(
      "evals/b.jsonl:1 case x: duplicate ID (first defined at evals/a.jsonl:1)",
    );
  });
});

describe("templates", () => {
  it("fills vars and refuses unknown ones", () => {
    expect(
      renderTemplate(
        "Hi {{ name }} of {{org}}",
        { name: "Ada", org: "Acme" },
        { template: "p.md", caseId: "c" },
      ),
    ).toBe("Hi Ada of Acme");
    expect(errorOf(() => renderTemplate("{{missing}}", { a: 1 }, { template: "p.md", caseId: "c" }))).toBe(
      "p.md: {{missing}} has no value in the vars of case c (it has: a)",
    );
  });
});

describe("assertions and outcomes", () => {
  const answer = (text: string, toolCalls: Array<{ name: string; arguments: string }> = []) => ({
    text,
    toolCalls,
  });
  const base: EvalCase = { id: "c", route: "r", vars: {}, input: "q", assert: [] };

  it("checks each assertion type", () => {
    expect(checkAssertion({ type: "equals", value: "ok" }, answer(" ok\n")).ok).toBe(true);
    expect(
      checkAssertion({ type: "contains", value: "Reset", ignore_case: true }, answer("use the reset link"))
        .ok,
    ).toBe(true);
    expect(checkAssertion({ type: "not_contains", value: "sorry" }, answer("I'm sorry")).ok).toBe(false);
    expect(checkAssertion({ type: "regex", value: "^DONE:" }, answer("DONE: yes")).ok).toBe(true);
    const schema = { type: "object", required: ["category"] };
    expect(checkAssertion({ type: "json_schema", schema }, answer('{"category":"bug"}')).ok).toBe(true);
    // Format drift: JSON wrapped in prose or a fence is a failure, as it would be for a strict parser.
    expect(
      checkAssertion({ type: "json_schema", schema }, answer('Here you go:\n{"category":"bug"}')),
    ).toEqual({
      ok: false,
      reason: "expected the answer to be JSON, but it does not parse",
    });
    expect(checkAssertion({ type: "json_schema", schema }, answer("{}")).ok).toBe(false);
    const calls = [{ name: "run_tests", arguments: '{"filter":"cart","verbose":true}' }];
    expect(
      checkAssertion({ type: "tool_called", name: "run_tests", args: { filter: "cart" } }, answer("", calls))
        .ok,
    ).toBe(true);
    expect(
      checkAssertion({ type: "tool_called", name: "run_tests", args: { filter: "x" } }, answer("", calls)).ok,
    ).toBe(false);
    expect(checkAssertion({ type: "tool_called", name: "read_file" }, answer("", calls)).ok).toBe(false);
    expect(
      checkAssertion({ type: "judge", rubric: "r" }, answer("x"), { pass: false, reason: "vague" }),
    ).toEqual({
      ok: false,
      reason: "judge: vague",
    });
  });

  it("checks takeover first, then every assert", () => {
    const testCase: EvalCase = {
      ...base,
      assert: [{ type: "contains", value: "link" }],
      takeover: { type: "contains", value: "[HANDOFF]" },
    };
    expect(judgeAnswer(testCase, answer("[HANDOFF] link"))).toEqual({ outcome: "takeover" });
    expect(judgeAnswer(testCase, answer("the link"))).toEqual({ outcome: "pass" });
    expect(judgeAnswer(testCase, answer("nothing"))).toMatchObject({ outcome: "fail" });
  });
});

describe("pricing", () => {
  it("charges uncached, cached and completion tokens at their prices (docs/cases.md)", () => {
    // (1,000 − 200) × 5 + 200 × 0.5 + 500 × 30 = 4,000 + 100 + 15,000 = 19,100 per 1M → $0.0191
    expect(
      costOf({ prompt_tokens: 1000, cached_tokens: 200, completion_tokens: 500 }, "gpt-5.5", PRICING),
    ).toBeCloseTo(0.0191, 10);
    expect(
      costOf({ prompt_tokens: 1000, cached_tokens: 0, completion_tokens: 0 }, "gpt-5.5-2026-04-23", PRICING),
    ).toBeCloseTo(0.005, 10);
    expect(
      costOf({ prompt_tokens: 1, cached_tokens: 0, completion_tokens: 1 }, "mystery-model", PRICING),
    ).toBeNull();
  });

  it("treats a dated snapshot as the same model and anything else as a mismatch", () => {
    expect(sameModel("gpt-5.5", "gpt-5.5-2026-04-23")).toBe(true);
    expect(sameModel("gpt-5.5", "gpt-5.4-2026-03-05")).toBe(false);
    expect(sameModel("gpt-5.5", "gpt-5.5-mini")).toBe(false);
  });
});

describe("sampling and sharding", () => {
  const ids = Array.from({ length: 100 }, (_, i) => `case-${i}`);

  it("samples deterministically, and adding a case moves few others", () => {
    const first = sample(ids, 20, "seed");
    expect(sample([...ids].reverse(), 20, "seed")).toEqual(first);
    expect(sample(ids, 20, "other")).not.toEqual(first);
    const grown = sample([...ids, "case-new"], 20, "seed");
    expect(grown.filter((id) => first.includes(id)).length).toBeGreaterThanOrEqual(19);
  });

  it("splits into disjoint shards that cover everything", () => {
    const shards = [1, 2, 3].map((i) => shardOf(ids, i, 3));
    expect(shards.flat().sort()).toEqual([...ids].sort());
    expect(new Set(shards.flat()).size).toBe(ids.length);
  });
});

describe("Retry-After", () => {
  it("prefers retry-after-ms, then seconds, then an HTTP date, else the fallback", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), 1000)).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }), 1000)).toBe(2000);
    const now = Date.parse("2026-11-27T12:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Fri, 27 Nov 2026 12:01:30 GMT" }), 1000, now)).toBe(
      90_000,
    );
    expect(retryAfterMs(new Headers({}), 1000)).toBe(1000);
  });
});

describe("provider choice", () => {
  it("refuses a simulator profile next to a real endpoint instead of ignoring it", async () => {
    await expect(
      openProvider({ baseURL: "https://gw.example/v1", apiKey: "sk-x", simulatorProfile: "sim.yml" }),
    ).rejects.toThrow("a simulator profile (sim.yml) only applies to the built-in simulator");
  });

  it("an endpoint without a key carries the no-key error for pre-flight to raise unless it is a simulator", async () => {
    const provider = await openProvider({ baseURL: "https://gw.example/v1" });
    expect(provider.keyless).toBe(
      "no API key for https://gw.example/v1: set OPENAI_API_KEY (or pass --api-key-env NAME)",
    );
    expect(provider.simulated).toBe(false);
    expect(
      (await openProvider({ baseURL: "https://gw.example/v1", apiKey: "sk-x" })).keyless,
    ).toBeUndefined();
  });
});
