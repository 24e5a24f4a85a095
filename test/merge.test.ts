import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeCommand } from "../src/cli/merge.ts";
import { buildResult } from "../src/core/build-result.ts";
import { UserError } from "../src/core/errors.ts";
import { mergeResults } from "../src/core/merge-results.ts";
import { COMMENT_MARKERS } from "../src/core/protocol.ts";
import type { CaseResult, CaseSideResult, EvalResult, GatesConfig, Outcome } from "../src/core/result.ts";
import { GATE_NAMES } from "../src/core/result.ts";
import { resultJsonSchema } from "../src/core/result-json-schema.ts";
import { shardOf } from "../src/core/selection.ts";

/** `modelgate merge FILE… --out FILE [--markdown FILE]` (docs/action.md#sharding, README.md#the-cli). */

const GATES: GatesConfig = { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_cases: 20 };

function side(outcome: Outcome, model: string): CaseSideResult {
  return {
    outcome,
    attempts: outcome === "pass" ? 1 : 3,
    tokens: 900,
    cost: 0.002,
    model,
    tool_calls: 0,
    latencies_ms: outcome === "error" ? [] : [120],
  };
}

/** 60 cases; the head fails every fourth one the base passed. */
function allCases(): CaseResult[] {
  return Array.from({ length: 60 }, (_, i) => ({
    id: `case-${String(i).padStart(3, "0")}`,
    route: i % 2 ? "general_qna" : "agentic_coding",
    base: side("pass", "gpt-5.4"),
    head: side(i % 4 === 0 ? "fail" : "pass", "gpt-5.5"),
  }));
}

function resultFor(cases: readonly CaseResult[], shard?: string, gates: GatesConfig = GATES): EvalResult {
  return buildResult({
    selection: {
      case_ids: cases.map((c) => c.id),
      reasons: [{ route: "agentic_coding", reason: "model changed (gpt-5.4 → gpt-5.5)" }],
      selected: 60,
      all: false,
    },
    warnings: [{ code: "missing_price", model: "gpt-5.5" }],
    cases,
    gates,
    shard,
  });
}

function shardResults(count: number): EvalResult[] {
  const cases = allCases();
  const ids = cases.map((c) => c.id);
  return Array.from({ length: count }, (_, i) => {
    const slice = new Set(shardOf(ids, i + 1, count));
    return resultFor(
      cases.filter((c) => slice.has(c.id)),
      `${i + 1}/${count}`,
    );
  });
}

function io() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
      isTTY: false,
      env: {},
    },
  };
}

function write(dir: string, name: string, result: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(result));
  return path;
}

describe("modelgate merge", () => {
  it("gives the unsharded result: same cases, KPIs, gates and verdict", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const files = shardResults(3).map((r, i) => write(dir, `shard-${i + 1}.json`, r));
    const out = join(dir, "merged.json");
    const markdown = join(dir, "comment.md");
    const { io: commandIo, out: printed } = io();
    const code = await mergeCommand(
      [...files, "--out", out, "--markdown", markdown, "--head-sha", "a".repeat(40)],
      commandIo,
    );
    const merged = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
    const whole = resultFor(allCases());
    expect(merged.cases).toEqual(whole.cases);
    expect(merged.base.kpis).toEqual(whole.base.kpis);
    expect(merged.head.kpis).toEqual(whole.head.kpis);
    expect(merged.gates).toEqual(whole.gates);
    expect(merged.verdict).toBe(whole.verdict);
    expect(merged.verdict).toBe("fail");
    expect(code).toBe(1);
    expect(merged.shard).toBeUndefined();
    expect(merged.partial).toBe(false);
    expect(merged.selection.case_ids).toHaveLength(60);
    expect(merged.selection.selected).toBe(60);
    expect(merged.warnings).toEqual([{ code: "missing_price", model: "gpt-5.5" }]);
    expect(readFileSync(markdown, "utf8")).toContain(COMMENT_MARKERS.eval);
    expect(printed.stderr).toContain("merged 3 result file(s), 60 cases: verdict fail");
  });

  it("keeps batch mode and every shard's batches", () => {
    const shards = shardResults(2).map((result, i) => ({
      ...result,
      mode: "batch" as const,
      batch: {
        rounds: i + 1,
        batches: [{ id: `batch_${i}`, round: 1, status: "completed", requests: 30, completed: 30 }],
      },
    }));
    const merged = mergeResults(shards.map((result, i) => ({ label: `shard-${i + 1}.json`, result })));
    expect(merged.mode).toBe("batch");
    expect(merged.batch?.rounds).toBe(2);
    expect(merged.batch?.batches.map((b) => b.id)).toEqual(["batch_0", "batch_1"]);
  });

  it("counts a shard given twice once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const [one, two] = shardResults(2);
    const files = [write(dir, "a.json", one), write(dir, "b.json", two), write(dir, "c.json", one)];
    const out = join(dir, "merged.json");
    await mergeCommand([...files, "--out", out], io().io);
    expect((JSON.parse(readFileSync(out, "utf8")) as EvalResult).cases).toHaveLength(60);
  });

  it("marks the result partial when a shard is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const [one] = shardResults(2);
    const out = join(dir, "merged.json");
    await mergeCommand([write(dir, "a.json", one), "--out", out], io().io);
    const merged = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
    expect(merged.partial).toBe(true);
    expect(merged.partial_reason).toContain("shard 2/2 missing");
    expect(merged.verdict).not.toBe("pass");
  });

  it("refuses shards judged with different gates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const [one, two] = shardResults(2);
    const other = { ...two, gates_config: { ...GATES, max_error_rate: 0.05 } };
    const files = [write(dir, "a.json", one), write(dir, "b.json", other)];
    const run = mergeCommand([...files, "--out", join(dir, "m.json")], io().io);
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(/b\.json was judged with other gates than .*a\.json/);
  });

  it("refuses another schema_version, non-JSON and missing files, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const [one] = shardResults(2);
    const out = join(dir, "m.json");
    await expect(
      mergeCommand([write(dir, "v2.json", { ...one, schema_version: 2 }), "--out", out], io().io),
    ).rejects.toThrow(/v2\.json: schema_version 2 is not supported \(expected 1\)/);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    await expect(mergeCommand([broken, "--out", out], io().io)).rejects.toThrow(/broken\.json is not JSON/);
    await expect(mergeCommand([join(dir, "nope.json"), "--out", out], io().io)).rejects.toThrow(
      /cannot read .*nope\.json: no such file/,
    );
    await expect(mergeCommand([broken], io().io)).rejects.toThrow(/--out FILE is required/);
  });

  it("rejects a result file that does not match the schema whole, naming the file and key path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelgate-merge-"));
    const [one, two] = shardResults(2);
    if (!one || !two) throw new Error("no shards");
    const out = join(dir, "m.json");
    const good = write(dir, "good.json", two);
    const cases = one.cases.map((c, i) => (i === 3 ? { ...c, head: { ...c.head, tokens: "12" } } : c));
    const tampered: Array<[string, unknown, RegExp]> = [
      [
        "tokens.json",
        { ...one, cases },
        /tokens\.json: not a valid result file: cases\.3\.head\.tokens: expected number, found string "12"/,
      ],
      [
        "outcome.json",
        { ...one, cases: one.cases.map((c) => ({ ...c, head: { ...c.head, outcome: "passed" } })) },
        /outcome\.json: not a valid result file: cases\.0\.head\.outcome: /,
      ],
      ["extra.json", { ...one, trusted: true }, /extra\.json: not a valid result file: trusted: unknown key/],
      [
        "gate.json",
        { ...one, gates: [{ name: "max_vibes", status: "pass", value: 0, threshold: 1 }] },
        /gate\.json: not a valid result file: gates\.0\.name: /,
      ],
      [
        "warning.json",
        { ...one, warnings: [{ code: "all_good" }] },
        /warning\.json: not a valid result file: warnings\.0\.code: Invalid discriminator value.*found string "all_good"/,
      ],
      [
        "cases.json",
        { ...one, cases: {} },
        /cases\.json: not a valid result file: cases: expected array, found an object/,
      ],
      [
        "array.json",
        [one],
        /array\.json: not a valid result file: \(top level\): expected object, found a list/,
      ],
    ];
    for (const [name, value, message] of tampered) {
      const run = mergeCommand([good, write(dir, name, value), "--out", out], io().io);
      await expect(run).rejects.toThrow(UserError);
      await expect(run).rejects.toThrow(message);
      await run.catch((error: Error) => expect(error.message).not.toContain("\n"));
    }
  });

  it("publishes the result file's JSON Schema from the same zod schema, closed like it", () => {
    const schema = resultJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: { gates: { items: { properties: { name: { enum: string[] } } } } };
    };
    expect(schema.required).toContain("schema_version");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.gates.items.properties.name.enum).toEqual([...GATE_NAMES]);
  });
});

describe("merge keeps coverage (issue 11, item 10)", () => {
  it("an uncovered model change found by every shard still fails the merged result", () => {
    const coverage = {
      required: true,
      llm_config: "config/llm.json",
      case_globs: ["evals/**/*.jsonl"],
      case_files: 3,
      uncovered: [
        {
          kind: "route" as const,
          route: "summarize",
          model: { from: "gpt-5.4", to: "gpt-5.5" },
          model_change: true,
          reason: "route summarize: model changed (gpt-5.4 → gpt-5.5); no case has this route",
        },
      ],
    };
    const shards = shardResults(2).map((result) => {
      const withCoverage = buildResult({
        selection: result.selection,
        warnings: result.warnings,
        cases: result.cases,
        gates: GATES,
        shard: result.shard,
        coverage,
      });
      expect(withCoverage.verdict).toBe("fail");
      return withCoverage;
    });
    const merged = mergeResults(shards.map((result, i) => ({ label: `shard-${i + 1}.json`, result })));
    expect(merged.verdict).toBe("fail");
    expect(merged.coverage).toEqual(coverage);
    const notRequired = mergeResults(
      shards.map((result, i) => ({
        label: `shard-${i + 1}.json`,
        result: { ...result, coverage: { ...coverage, required: false } },
      })),
    );
    expect(notRequired.coverage?.required).toBe(false);
  });
});
