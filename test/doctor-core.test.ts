import { describe, expect, it } from "vitest";
import { parseCaseFile } from "../src/core/cases/parse.ts";
import { parseConfig } from "../src/core/config/load.ts";
import { runDoctor } from "../src/core/doctor/doctor.ts";
import { isPinnedModelId, offeredSnapshots } from "../src/core/doctor/pinned.ts";
import { renderDoctorSection, renderDoctorText } from "../src/core/doctor/render.ts";
import type { DoctorCheck, DoctorInput, DoctorReport } from "../src/core/doctor/types.ts";
import { readLlmConfig } from "../src/core/llm-config.ts";

/** The doctor's pure core: facts in, checks out (the CLI's wire is in test/doctor.test.ts). */

const PINNED_LLM = {
  llm: { default_model: "gpt-5.4-2026-03-05", routes: { qna: "gpt-5.4-2026-03-05" } },
  models: { candidate: "gpt-5.5-2026-04-23", rollback: "gpt-5.4-2026-03-05" },
  budget_controls: { per_task_token_cap: 150000 },
};

function cases(route: string, n: number, extra: Record<string, unknown> = {}): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `${route}-${i}`,
      route,
      input: "hi",
      assert: [{ type: "contains", value: "x" }],
      ...extra,
    }),
  ).join("\n");
}

function input(overrides: {
  llm?: unknown;
  policy?: string;
  cases?: string;
  rest?: Partial<DoctorInput>;
}): DoctorInput {
  const config = parseConfig(
    overrides.policy ??
      "version: 1\nevals: { max_cases: 500 }\nbudget: { max_run_cost_usd: 5, max_task_tokens: 1000 }\n",
  );
  return {
    config,
    policyFile: ".github/modelgate.yml",
    llm: readLlmConfig(JSON.stringify(overrides.llm ?? PINNED_LLM), "config/llm.json", config),
    cases: parseCaseFile(overrides.cases ?? cases("qna", 300), "evals/a.jsonl"),
    provider: {
      kind: "listed",
      ids: new Set(["gpt-5.4", "gpt-5.4-2026-03-05", "gpt-5.5", "gpt-5.5-2026-04-23"]),
    },
    baseline: { kind: "counted", routes: new Map([["qna", { cached: 300, cases: 300 }]]) },
    rehearsal: { kind: "known", passed: true, detail: "modelgate/rollback-rehearsal passed on abc1234" },
    metrics: {
      kind: "read",
      phase: 10,
      reading: {
        kind: "counts",
        source: "Prometheus",
        arms: {
          control: { requests: 900, errors: 1, completed: 800, tasks: 880 },
          candidate: { requests: 100, errors: 0, completed: 90, tasks: 98 },
        },
      },
    },
    ...overrides.rest,
  };
}

const doctor = (i: DoctorInput) => runDoctor(i, { llmFile: "config/llm.json", ref: "HEAD" });
const of = (report: DoctorReport, id: string): DoctorCheck[] => report.checks.filter((c) => c.id === id);

describe("doctor core", () => {
  it("passes every line on a repo that is ready, with no fix on a pass", () => {
    const report = doctor(input({}));
    expect(report.checks.filter((c) => c.status !== "pass")).toEqual([]);
    expect(report).toMatchObject({ ready: true, summary: { warn: 0, fail: 0 } });
    expect(report.checks.every((c) => c.fix === null)).toBe(true);
  });

  it("tells pinned snapshots from floating names", () => {
    for (const id of [
      "gpt-4o-2024-08-06",
      "claude-3-5-sonnet-20241022",
      "gemini-1.5-pro-001",
      "gpt-4-0613",
      "claude-3-opus@20240229",
      "gpt-4-1106-preview",
    ]) {
      expect(isPinnedModelId(id), id).toBe(true);
    }
    for (const id of ["gpt-4o", "gpt-5.4", "claude-3-5-sonnet-latest", "gemini-1.5-pro", "o3"]) {
      expect(isPinnedModelId(id), id).toBe(false);
    }
    const listed = ["gpt-5.4", "gpt-5.4-2026-03-05", "gpt-5.4-mini-2026-03-17", "gpt-5.4-2025-11-01"];
    expect(offeredSnapshots("gpt-5.4", listed)).toEqual(["gpt-5.4-2026-03-05", "gpt-5.4-2025-11-01"]);
  });

  it("accepts a floating name the team declares an explicit alias", () => {
    const llm = { ...PINNED_LLM, llm: { default_model: "acme-fast", routes: { qna: "acme-fast" } } };
    const floating = doctor(input({ llm }));
    expect(of(floating, "pinned_models")).toMatchObject([{ status: "fail", subject: "acme-fast" }]);
    expect(of(floating, "pinned_models")[0]?.fix).toContain('"acme-fast-YYYY-MM-DD"');
    const declared = doctor(input({ llm, rest: { explicitAliases: ["acme-fast"] } }));
    expect(of(declared, "pinned_models")).toMatchObject([{ status: "pass" }]);
  });

  it("estimates pairs against the rule of thumb of docs/gates.md, and names a max_cases that caps them", () => {
    const small = doctor(input({ cases: cases("qna", 40) }));
    expect(of(small, "suite_size")[0]).toMatchObject({
      status: "warn",
      message: expect.stringContaining("likely to end inconclusive, even for identical behaviour"),
    });
    const medium = doctor(input({ cases: cases("qna", 150) }));
    expect(of(medium, "suite_size")[0]?.message).toContain(
      "enough for a change that should not alter behaviour",
    );
    const capped = doctor(input({ policy: "version: 1\nevals: { max_cases: 200 }\n" }));
    expect(of(capped, "suite_size")[0]).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("raise evals.max_cases in .github/modelgate.yml (now 200)"),
    });
  });

  it("judges only the routes a change touches when the door names them", () => {
    const llm = {
      ...PINNED_LLM,
      llm: { ...PINNED_LLM.llm, routes: { qna: "gpt-5.4-2026-03-05", code: "gpt-5.4-2026-03-05" } },
    };
    expect(of(doctor(input({ llm })), "route_cases")).toContainEqual(
      expect.objectContaining({ subject: "code", status: "fail" }),
    );
    const scoped = doctor(input({ llm, rest: { routes: ["qna"] } }));
    expect(of(scoped, "route_cases").map((c) => c.subject)).toEqual(["qna"]);
    expect(scoped.ready).toBe(true);
  });

  it("fails a rollback model that is the candidate, not offered, or not a string", () => {
    const same = doctor(
      input({ llm: { ...PINNED_LLM, models: { candidate: "gpt-5.5", rollback: "gpt-5.5-2026-04-23" } } }),
    );
    expect(of(same, "rollback_model")[0]?.message).toContain("a rollback would change nothing");
    const gone = doctor(input({ llm: { ...PINNED_LLM, models: { rollback: "gpt-4-0613" } } }));
    expect(of(gone, "rollback_model")[0]?.message).toContain("does not offer the rollback model gpt-4-0613");
    const wrong = doctor(input({ llm: { ...PINNED_LLM, models: { rollback: 5 } } }));
    expect(of(wrong, "rollback_model")[0]).toMatchObject({
      status: "fail",
      message: expect.stringContaining("not a model ID"),
    });
    const failed = doctor(
      input({ rest: { rehearsal: { kind: "known", passed: false, detail: "completion −9 pts" } } }),
    );
    expect(of(failed, "rollback_rehearsal")[0]).toMatchObject({ status: "fail" });
  });

  it("reads the app's budget caps: per task, per route, and rejects a cap that is not a count", () => {
    const perRoute = doctor(
      input({ llm: { ...PINNED_LLM, budget_controls: { route_caps: { qna: 9000 } } } }),
    );
    expect(of(perRoute, "app_budget")[0]?.status).toBe("pass");
    const none = doctor(input({ llm: { ...PINNED_LLM, budget_controls: {} } }));
    expect(of(none, "app_budget")[0]).toMatchObject({
      status: "warn",
      fix: expect.stringContaining('"route_caps": {"qna": 150000}'),
    });
    const bad = doctor(input({ llm: { ...PINNED_LLM, budget_controls: { per_task_token_cap: "lots" } } }));
    expect(of(bad, "app_budget")[0]).toMatchObject({
      status: "fail",
      message: expect.stringContaining("budget_controls.per_task_token_cap"),
    });
    const noEval = doctor(input({ policy: "version: 1\n" }));
    expect(of(noEval, "eval_budget")[0]?.fix).toBe(
      "add to .github/modelgate.yml: budget: { max_run_cost_usd: 5, max_task_tokens: 150000 }",
    );
  });

  it("fails metrics that do not answer, and says what was not checked", () => {
    const missing = doctor(
      input({
        rest: {
          metrics: {
            kind: "read",
            phase: 10,
            reading: { kind: "missing", source: "Prometheus", reason: "no data for control errors" },
          },
        },
      }),
    );
    expect(of(missing, "metrics_wiring")[0]).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("rollout.metrics.queries"),
    });
    const skipped = doctor(
      input({
        rest: { metrics: { kind: "not_checked", reason: "PROMETHEUS_URL is not set", fix: "set it" } },
      }),
    );
    expect(of(skipped, "metrics_wiring")[0]).toMatchObject({
      status: "warn",
      message: "not checked: PROMETHEUS_URL is not set",
    });
  });

  it("asks for a json_schema or regex assert where cases or config say structured output", () => {
    const json = cases("qna", 300, { response_format: "json_object" });
    expect(of(doctor(input({ cases: json })), "parsers_under_test")[0]).toMatchObject({
      status: "fail",
      subject: "qna",
    });
    const guarded = cases("qna", 300, {
      response_format: "json_object",
      assert: [{ type: "regex", value: "^\\{" }],
    });
    expect(of(doctor(input({ cases: guarded })), "parsers_under_test")[0]).toMatchObject({ status: "pass" });
  });

  it("warns about a route entry without its own model: it follows the default model", () => {
    const llm = { ...PINNED_LLM, llm: { ...PINNED_LLM.llm, routes: { qna: { timeout_ms: 5000 } } } };
    expect(of(doctor(input({ llm })), "explicit_lanes")).toMatchObject([
      {
        status: "warn",
        subject: "qna",
        fix: 'map it explicitly: add "qna": "gpt-5.4-2026-03-05" to llm.routes in config/llm.json',
      },
    ]);
  });

  it("fails without an LLM config, and a baseline of some cases is a warning", () => {
    const absent = doctor({ ...input({}), llm: null });
    expect(absent.checks).toMatchObject([
      { status: "fail", message: expect.stringContaining("does not exist") },
    ]);
    const partial = doctor(
      input({
        rest: { baseline: { kind: "counted", routes: new Map([["qna", { cached: 12, cases: 300 }]]) } },
      }),
    );
    expect(of(partial, "baseline")[0]).toMatchObject({
      status: "warn",
      message: expect.stringContaining("12 of 300"),
    });
  });

  it("renders text, and a collapsed PR-comment section with repo text escaped", () => {
    const hostile = "qna<img src=x>@admin";
    const report = doctor(
      input({
        llm: {
          ...PINNED_LLM,
          llm: { default_model: "gpt-5.4-2026-03-05", routes: { [hostile]: "gpt-5.4-2026-03-05" } },
        },
        cases: cases("qna", 300),
      }),
    );
    const section = renderDoctorSection(report);
    expect(section).toMatch(
      /^<details>\n<summary>Readiness \(modelgate doctor\): not ready, \d+ failing checks?<\/summary>/,
    );
    expect(section.endsWith("</details>")).toBe(true);
    expect(section).not.toContain("<img");
    expect(section).not.toContain("@admin");
    expect(section).toContain("❌ **route_cases**");
    const text = renderDoctorText(report);
    const terminal = renderDoctorText({
      ...report,
      checks: [{ id: "route_cases", subject: "a\u001b[2Jb\nFAKE", status: "fail", message: "m", fix: "f" }],
    });
    expect(terminal).toContain("FAIL  route_cases [a[2Jb FAKE]: m");
    expect(text).toMatch(/^NOT READY to migrate/);
    expect(text).toContain("      fix: add cases with");
  });
});
