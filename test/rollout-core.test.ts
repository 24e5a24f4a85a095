/**
 * The pure parts of the rollout (issue 6): labels, phases, the model-only rule, evidence trust,
 * production gates, LLM config edits, the decision and its words; and the two metrics readers
 * against canned answers. The HTTP end-to-end tests are in rollout.test.ts.
 */
import { describe, expect, test } from "vitest";
import type { Classification } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import { parseLlmDocument } from "../src/core/llm-config.ts";
import { sameModel } from "../src/core/pricing.ts";
import {
  CHECK_NAMES,
  COMMENT_MARKERS,
  hasPromotionTrailers,
  promotionTrailers,
} from "../src/core/protocol.ts";
import { embedEvidence } from "../src/core/report/evidence.ts";
import type { EvalResult } from "../src/core/result.ts";
import { decide } from "../src/core/rollout/decide.ts";
import { type EvidenceCandidate, pickEvidence } from "../src/core/rollout/evidence.ts";
import { parseRolloutLabel } from "../src/core/rollout/labels.ts";
import { readShare, rollbackEdit, rolloutKeys, setShare } from "../src/core/rollout/llm-edit.ts";
import { type Audit, renderDecision, renderNotice } from "../src/core/rollout/render.ts";
import {
  judgeAttribution,
  judgeEvidence,
  judgePhase,
  judgeProduction,
  type ProductionReading,
  type Step,
} from "../src/core/rollout/steps.ts";
import { readMetricsFile } from "../src/metrics/file.ts";
import {
  PrometheusError,
  prometheusClient,
  readPrometheusArms,
  renderQuery,
} from "../src/metrics/prometheus.ts";

const config = defaultConfig();
const keys = rolloutKeys(config);
const SHA = "a".repeat(40);
const OTHER = "b".repeat(40);

describe("labels", () => {
  test.each([
    ["rollout:30", { kind: "promote", share: 30 }],
    ["rollout:30%", { kind: "promote", share: 30 }],
    ["Rollout:100", { kind: "promote", share: 100 }],
    ["rollout:rollback", { kind: "rollback" }],
    ["rollout:0", { kind: "invalid" }],
    ["rollout:101", { kind: "invalid" }],
    ["rollout:soon", { kind: "invalid" }],
  ])("%s", (name, expected) => {
    expect(parseRolloutLabel(name, "rollout:")).toMatchObject(expected);
  });

  test("other labels and other prefixes are not ours", () => {
    expect(parseRolloutLabel("documentation", "rollout:")).toBeUndefined();
    expect(parseRolloutLabel("rollout:30", "deploy/")).toBeUndefined();
    expect(parseRolloutLabel("deploy/30", "deploy/")).toMatchObject({ kind: "promote", share: 30 });
  });
});

describe("phases", () => {
  const phases = [10, 30, 50, 100];
  test("the next phase passes; only phases past the first are gated on production", () => {
    expect(judgePhase({ current: 0, target: 10, phases, allow_skip: false })).toMatchObject({
      status: "pass",
      gated: false,
      position: 1,
    });
    expect(judgePhase({ current: 10, target: 30, phases, allow_skip: false })).toMatchObject({
      status: "pass",
      gated: true,
      position: 2,
    });
  });

  test("skipping needs rollout.allow_skip", () => {
    const refused = judgePhase({ current: 10, target: 100, phases, allow_skip: false });
    expect(refused.status).toBe("fail");
    expect(refused.detail).toContain("skips 30 %, 50 %; the next phase is 30 %");
    const allowed = judgePhase({ current: 10, target: 100, phases, allow_skip: true });
    expect(allowed.status).toBe("pass");
    expect(allowed.detail).toContain("skipping 30 %");
  });

  test("not a phase, the current phase, or backwards are refused", () => {
    expect(judgePhase({ current: 10, target: 20, phases, allow_skip: true }).detail).toContain(
      "20 % is not a rollout phase",
    );
    expect(judgePhase({ current: 30, target: 30, phases, allow_skip: false }).detail).toContain(
      "already at 30 %",
    );
    expect(judgePhase({ current: 50, target: 30, phases, allow_skip: true }).detail).toContain(
      "rollback label",
    );
  });

  test("a share between phases (set by hand) goes to the next phase above it", () => {
    expect(judgePhase({ current: 20, target: 30, phases, allow_skip: false }).status).toBe("pass");
  });
});

describe("model-only rule", () => {
  const classification = (files: Classification["files"], truncated = false): Classification => ({
    categories: [],
    mixed: false,
    files,
    warnings: [],
    ...(truncated ? { truncated } : {}),
  });
  const llm = (keys: Array<[string, "model" | "infra" | "other"]>) => ({
    path: "config/llm.json",
    previous_path: null,
    status: "modified" as const,
    categories: [...new Set(keys.map(([, c]) => c).filter((c) => c !== "other"))] as Array<"model" | "infra">,
    keys: keys.map(([path, category]) => ({ path, category })),
  });
  const judge = (c: Classification) =>
    judgeAttribution({ classification: c, llm_file: "config/llm.json", share_key: keys.key });

  test("model keys and the share pass", () => {
    expect(judge(classification([llm([["llm.routes.general_qna", "model"]])])).status).toBe("pass");
    expect(
      judge(
        classification([
          llm([
            ["llm.routes.general_qna", "model"],
            ["rollout.candidate_percent", "other"],
          ]),
        ]),
      ).status,
    ).toBe("pass");
    expect(judge(classification([llm([["rollout.candidate_percent", "other"]])])).detail).toBe(
      "Nothing but the share changes.",
    );
  });

  test("infra keys, other keys, prompt files and other files fail; so does a truncated list", () => {
    const infra = judge(
      classification([
        llm([
          ["llm.routes.general_qna", "model"],
          ["llm.timeout_ms", "infra"],
        ]),
      ]),
    );
    expect(infra.status).toBe("fail");
    expect(infra.detail).toContain("`config/llm.json` (infra: `llm.timeout_ms`)");
    expect(judge(classification([llm([["llm.temperature", "other"]])])).detail).toContain(
      "(other: `llm.temperature`)",
    );
    const prompt = judge(
      classification([
        { path: "prompts/qna.md", previous_path: null, status: "modified", categories: ["prompt"], keys: [] },
      ]),
    );
    expect(prompt.detail).toContain("`prompts/qna.md` (prompt)");
    const other = judge(
      classification([
        { path: "src/server.js", previous_path: null, status: "modified", categories: ["other"], keys: [] },
      ]),
    );
    expect(other.detail).toContain("`src/server.js` (other)");
    expect(judge(classification([], true)).status).toBe("fail");
  });
});

// ---------------------------------------------------------------------------------------------

function result(extra: Partial<EvalResult> = {}): EvalResult {
  const kpis = {
    completion_rate: 0.8,
    retry_count: 0,
    tokens_per_completed_task: 1000,
    cost_per_completed_task: 0.01,
    human_takeover_rate: 0,
    error_rate: 0.01,
    latency_p50_ms: 800,
    latency_p95_ms: 2000,
    tool_calls_per_task: 0,
  };
  return {
    schema_version: 1,
    verdict: "pass",
    partial: false,
    base: { kpis, cases: 100, requests: 100, cache_hits: 0 },
    head: { kpis, cases: 100, requests: 100, cache_hits: 0 },
    routes: {},
    deltas: {},
    min_detectable_effect: null,
    gates: [{ name: "max_error_rate", status: "pass", value: 0.01, threshold: 0.02, ci95: [0, 0.02] }],
    warnings: [],
    selection: { case_ids: [], reasons: [], selected: 100, all: false },
    cases: [],
    ...extra,
  };
}

function candidate(
  author: string,
  sha: string,
  extra: Partial<EvidenceCandidate> = {},
  evalExtra: Partial<EvalResult> = {},
): EvidenceCandidate {
  return {
    origin: "comment",
    id: 1,
    author,
    updated_at: "2026-11-02T09:00:00Z",
    text: `<!-- modelgate:eval -->\nreport\n${embedEvidence(result(evalExtra), sha)}`,
    ...extra,
  };
}

describe("evidence trust", () => {
  const trust = { trusted_bot: "github-actions[bot]", head_sha: SHA };

  test("only the trusted bot's evidence for the pinned head counts; the rest is listed as ignored", () => {
    const pick = pickEvidence(
      "eval",
      [
        candidate("mallory", SHA, { id: 2 }),
        candidate("github-actions[bot]", OTHER, { id: 3 }),
        candidate("GitHub-Actions[bot]", SHA, { id: 4 }),
      ],
      trust,
    );
    expect(pick.source?.id).toBe(4);
    expect(pick.ignored.map((i) => [i.id, i.reason])).toEqual([
      [2, "untrusted_author"],
      [3, "other_commit"],
    ]);
    const step = judgeEvidence({ pick, ...trust });
    expect(step.status).toBe("pass");
    expect(step.detail).toContain(
      "Ignored 1 evidence block not written by the trusted bot (from **@\u200dmallory**)",
    );
  });

  test("a trusted block that fails the evidence schema is rejected whole and named, never partly used", () => {
    const block = embedEvidence(result(), SHA);
    const json = block.slice("<!-- modelgate:evidence ".length, -" -->".length);
    const tamper = (mutate: (value: Record<string, unknown>) => void): string => {
      const value = JSON.parse(json) as Record<string, unknown>;
      mutate(value);
      return `<!-- modelgate:eval -->\n<!-- modelgate:evidence ${JSON.stringify(value)} -->`;
    };
    for (const [text, reason] of [
      [
        tamper(
          (v) => (v.gates = [{ name: "max_vibes", status: "pass", value: 0, threshold: 1, ci95: null }]),
        ),
        "gates.0.name",
      ],
      [tamper((v) => (v.trusted = true)), "trusted: unknown key"],
      [tamper((v) => delete v.simulated), "simulated: expected boolean"],
      [tamper((v) => (v.kpis = { base: {}, head: {} })), "kpis.base.completion_rate"],
      [`<!-- modelgate:eval -->\n<!-- modelgate:evidence {"schema_version":1 -->`, "not valid JSON"],
    ] as const) {
      const pick = pickEvidence(
        "eval",
        [
          { ...candidate("github-actions[bot]", SHA, { id: 1 }), text },
          candidate("github-actions[bot]", SHA, { origin: "check_run", id: 9 }),
        ],
        trust,
      );
      expect(pick.source?.id).toBe(9);
      expect(pick.ignored.map((i) => [i.id, i.reason])).toEqual([[1, "malformed"]]);
      expect(pick.ignored[0]?.problem).toContain(reason);
      expect(judgeEvidence({ pick, ...trust }).detail).toContain("does not match the evidence schema");
      // Alone, it is no evidence at all.
      const alone = pickEvidence("eval", [{ ...candidate("github-actions[bot]", SHA), text }], trust);
      expect(alone.evidence).toBeUndefined();
      expect(judgeEvidence({ pick: alone, ...trust }).status).toBe("fail");
    }
  });

  test("the sticky comment wins over a check run; among check runs the newest", () => {
    const pick = pickEvidence(
      "eval",
      [
        candidate("github-actions[bot]", SHA, {
          origin: "check_run",
          id: 9,
          updated_at: "2026-11-02T10:00:00Z",
        }),
        candidate("github-actions[bot]", SHA, {
          origin: "check_run",
          id: 8,
          updated_at: "2026-11-02T11:00:00Z",
        }),
      ],
      trust,
    );
    expect(pick.source?.id).toBe(8);
    const withComment = pickEvidence(
      "eval",
      [
        candidate("github-actions[bot]", SHA, { origin: "check_run", id: 9 }),
        candidate("github-actions[bot]", SHA, { id: 1 }),
      ],
      trust,
    );
    expect(withComment.source?.origin).toBe("comment");
  });

  test("simulated, partial and non-pass evidence never promotes; a missing rollback model fails the rehearsal", () => {
    for (const [extra, words] of [
      [{ simulated: true }, "simulated provider"],
      [{ partial: true }, "partial"],
      [{ verdict: "inconclusive" }, "its verdict is inconclusive, not pass"],
    ] as const) {
      const pick = pickEvidence("eval", [candidate("github-actions[bot]", SHA, {}, extra)], trust);
      const step = judgeEvidence({ pick, ...trust });
      expect(step.status).toBe("fail");
      expect(step.detail).toContain(words);
    }
    const rehearsal = pickEvidence("rehearsal", [], trust);
    expect(judgeEvidence({ pick: rehearsal, ...trust }).detail).toContain("names no rollback model");
    expect(judgeEvidence({ pick: rehearsal, ...trust, rollback_model: "gpt-5.4" }).detail).toContain(
      "No rollback rehearsal evidence",
    );
  });
});

describe("production gates", () => {
  const gates = { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 };
  // One task per request here; test/production-gates.test.ts covers tasks of several requests.
  const reading = (candidateArm: {
    requests: number;
    errors: number;
    completed: number;
  }): ProductionReading => ({
    kind: "counts",
    source: "test",
    arms: {
      control: { requests: 20_000, errors: 100, tasks: 20_000, completed: 16_000 },
      candidate: { ...candidateArm, tasks: candidateArm.requests },
    },
  });

  test("healthy passes, a breach beyond noise fails and triggers, too little data holds", () => {
    expect(
      judgeProduction(reading({ requests: 5000, errors: 20, completed: 4050 }), gates, 10),
    ).toMatchObject({
      status: "pass",
      breach: false,
    });
    const breach = judgeProduction(reading({ requests: 5000, errors: 400, completed: 3000 }), gates, 10);
    expect(breach).toMatchObject({ status: "fail", breach: true });
    expect(breach.detail).toContain("max_error_rate fail (8.0 %");
    const sparse = judgeProduction(reading({ requests: 40, errors: 10, completed: 10 }), gates, 10);
    expect(sparse).toMatchObject({ status: "hold", breach: false });
    // Near the limit with enough traffic: the interval straddles it, so it holds rather than fails.
    const close = judgeProduction(reading({ requests: 1000, errors: 22, completed: 800 }), gates, 10);
    expect(close).toMatchObject({ status: "hold", breach: false });
    const missing = judgeProduction({ kind: "missing", source: "test", reason: "no data" }, gates, 10);
    expect(missing).toMatchObject({ status: "hold", breach: false });
  });
});

describe("decision", () => {
  const step = (name: Step["name"], status: Step["status"]): Step => ({ name, status, detail: name });
  test("any failure refuses (the first in order is the reason), else any hold holds, else promote", () => {
    expect(decide([step("production", "hold"), step("phase", "fail")], false)).toMatchObject({
      outcome: "refuse",
      blocking: { name: "phase" },
    });
    expect(
      decide([step("phase", "pass"), step("rehearsal", "fail"), step("eval", "fail")], false).blocking?.name,
    ).toBe("eval");
    expect(decide([step("phase", "pass"), step("production", "hold")], false).outcome).toBe("hold");
    expect(decide([step("phase", "pass"), step("production", "not_required")], false).outcome).toBe(
      "promote",
    );
  });
});

// ---------------------------------------------------------------------------------------------

const LLM_JSON = `{
    "llm": {
        "default_model": "gpt-5.5",
        "routes": {
            "agentic_coding": "gpt-5.5",
            "general_qna": "gpt-5.4",
            "summaries": { "model": "gpt-5.5-2026-04-23", "timeout_ms": 30000 }
        }
    },
    "models": { "default": "gpt-5.4", "candidate": "gpt-5.5", "rollback": "gpt-5.4" },
    "rollout": { "candidate_percent": 30 }
}
`;

describe("LLM config edits", () => {
  test("the share: read (missing is 0), written in place, the rest of the file untouched", () => {
    const doc = parseLlmDocument(LLM_JSON, "config/llm.json");
    expect(readShare(doc, keys.key)).toBe(30);
    expect(readShare(parseLlmDocument("{}", "config/llm.json"), keys.key)).toBe(0);
    const text = setShare(doc, keys.key, 50);
    expect(text).toBe(LLM_JSON.replace('"candidate_percent": 30', '"candidate_percent": 50'));
    expect(() =>
      readShare(parseLlmDocument('{"rollout":{"candidate_percent":"lots"}}', "c.json"), keys.key),
    ).toThrow(UserError);
  });

  test("YAML keeps its comments; env files keep their other lines", () => {
    const yaml =
      "# runtime config\nllm:\n  default_model: gpt-5.4 # the default\nrollout:\n  candidate_percent: 10\n";
    const out = setShare(parseLlmDocument(yaml, "config/llm.yaml"), keys.key, 30);
    expect(out).toBe(
      "# runtime config\nllm:\n  default_model: gpt-5.4 # the default\nrollout:\n  candidate_percent: 30\n",
    );
    const added = setShare(
      parseLlmDocument("llm:\n  default_model: gpt-5.4\n", "config/llm.yml"),
      keys.key,
      10,
    );
    expect(added).toBe("llm:\n  default_model: gpt-5.4\nrollout:\n  candidate_percent: 10\n");
    const env = "# models\nOPENAI_MODEL_QNA=gpt-5.5\nROLLOUT_PERCENT=10\n";
    const envDoc = parseLlmDocument(env, ".env.production");
    expect(setShare(envDoc, "ROLLOUT_PERCENT", 30)).toBe(
      "# models\nOPENAI_MODEL_QNA=gpt-5.5\nROLLOUT_PERCENT=30\n",
    );
    expect(setShare(parseLlmDocument("A=1\n", ".env"), "ROLLOUT_PERCENT", 10)).toBe(
      "A=1\nROLLOUT_PERCENT=10\n",
    );
  });

  test("rollback: share to 0, every route and the default on the candidate (or its snapshot) to the rollback model", () => {
    const edit = rollbackEdit(parseLlmDocument(LLM_JSON, "config/llm.json"), keys);
    expect(edit.edits.map((e) => [e.key, e.from, e.to])).toEqual([
      ["rollout.candidate_percent", 30, 0],
      ["llm.default_model", "gpt-5.5", "gpt-5.4"],
      ["llm.routes.agentic_coding", "gpt-5.5", "gpt-5.4"],
      ["llm.routes.summaries.model", "gpt-5.5-2026-04-23", "gpt-5.4"],
    ]);
    const after = JSON.parse(edit.text);
    expect(after.llm.routes).toEqual({
      agentic_coding: "gpt-5.4",
      general_qna: "gpt-5.4",
      summaries: { model: "gpt-5.4", timeout_ms: 30000 },
    });
    expect(after.models.candidate).toBe("gpt-5.5");
    // Nothing left to roll back.
    expect(rollbackEdit(parseLlmDocument(edit.text, "config/llm.json"), keys).edits).toEqual([]);
    expect(() =>
      rollbackEdit(parseLlmDocument('{"rollout":{"candidate_percent":10}}', "c.json"), keys),
    ).toThrow(/no rollback model/);
  });

  test("env routes are variables under the routes prefix", () => {
    const env =
      "OPENAI_MODEL_QNA=gpt-5.5\nOPENAI_MODEL_CODE=gpt-5.4\nCANDIDATE=gpt-5.5\nROLLBACK=gpt-5.4\nSHARE=30\n";
    const edit = rollbackEdit(parseLlmDocument(env, ".env"), {
      key: "SHARE",
      candidate_key: "CANDIDATE",
      rollback_key: "ROLLBACK",
      routes_key: "OPENAI_MODEL_",
      default_model_key: "DEFAULT_MODEL",
    });
    expect(edit.text).toBe(
      "OPENAI_MODEL_QNA=gpt-5.4\nOPENAI_MODEL_CODE=gpt-5.4\nCANDIDATE=gpt-5.5\nROLLBACK=gpt-5.4\nSHARE=0\n",
    );
  });

  test("dated snapshots are the same model", () => {
    // The one comparison: the wanted ID first, the one found second.
    expect(sameModel("gpt-5.5", "gpt-5.5-2026-04-23")).toBe(true);
    expect(sameModel("gpt-5.5-2026-04-23", "gpt-5.5")).toBe(false);
    expect(sameModel("gpt-5.5", "gpt-5.5-mini")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

function fakePrometheus(
  answers: Record<string, unknown>,
  seen: Array<{ url: string; init: RequestInit | undefined }> = [],
) {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), init });
    const query = new URLSearchParams(String(init?.body)).get("query") ?? "";
    const answer = answers[query] ?? { status: "success", data: { resultType: "vector", result: [] } };
    return new Response(JSON.stringify(answer), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
}

const vector = (...values: number[]) => ({
  status: "success",
  data: {
    resultType: "vector",
    result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1, String(v)] })),
  },
});

describe("Prometheus client", () => {
  test("vectors are summed, scalars read, empty is no data; credentials move to a header", async () => {
    const seen: Array<{ url: string; init: RequestInit | undefined }> = [];
    const client = prometheusClient({
      url: "http://user:s3cret@prom.internal:9090/prefix/",
      fetch: fakePrometheus(
        {
          a: vector(2, 3),
          b: { status: "success", data: { resultType: "scalar", result: [1, "7"] } },
          nan: vector(Number.NaN),
        },
        seen,
      ),
    });
    expect(await client.instant("a")).toBe(5);
    expect(await client.instant("b")).toBe(7);
    expect(await client.instant("none")).toBeNull();
    expect(await client.instant("nan")).toBeNull();
    expect(seen[0]?.url).toBe("http://prom.internal:9090/prefix/api/v1/query");
    const headers = (seen[0]?.init?.headers ?? {}) as Record<string, string>;
    expect(headers.authorization).toBe(`Basic ${Buffer.from("user:s3cret").toString("base64")}`);
    expect(client.displayUrl).not.toContain("s3cret");
  });

  test("errors and range vectors are PrometheusErrors with a reason", async () => {
    const client = prometheusClient({
      url: "http://prom:9090",
      fetch: fakePrometheus({
        bad: { status: "error", errorType: "bad_data", error: "parse error at char 5" },
        range: { status: "success", data: { resultType: "matrix", result: [] } },
      }),
    });
    await expect(client.instant("bad")).rejects.toThrow(
      new PrometheusError("Prometheus refused the query: parse error at char 5"),
    );
    await expect(client.instant("range")).rejects.toThrow(/needs a function such as increase\(\)/);
    const odd = prometheusClient({
      url: "http://prom:9090",
      fetch: fakePrometheus({
        list: [1, 2],
        nostatus: { data: { resultType: "vector", result: [] } },
        series: { status: "success", data: { resultType: "vector", result: "7" } },
      }),
    });
    // Bodies of another shape are errors, never read as "no data" or a number.
    await expect(odd.instant("list")).rejects.toThrow(/not an API response/);
    await expect(odd.instant("nostatus")).rejects.toThrow(/not an API response/);
    await expect(odd.instant("series")).rejects.toThrow(/not a list of series/);
    expect(() => prometheusClient({ url: "file:///etc/passwd" })).toThrow(/http or https/);
  });

  test("the eight counts: placeholders filled, missing series hold, inconsistent counts hold", async () => {
    const WINDOW = { phase_window: "7200s" };
    expect(renderQuery('x{arm="{{arm}}",phase="{{ phase }}"}', { arm: "canary", phase: 30 })).toBe(
      'x{arm="canary",phase="30"}',
    );
    const metrics = config.rollout.metrics;
    const q = (count: "requests" | "errors" | "tasks" | "completed", arm: string) =>
      renderQuery(metrics.queries[count], { arm, phase: 10, ...WINDOW });
    const full = {
      [q("requests", "control")]: vector(1000),
      [q("errors", "control")]: vector(10),
      [q("tasks", "control")]: vector(850),
      [q("completed", "control")]: vector(800),
      [q("requests", "candidate")]: vector(500),
      [q("errors", "candidate")]: vector(4),
      [q("tasks", "candidate")]: vector(450),
      [q("completed", "candidate")]: vector(410),
    };
    const ok = await readPrometheusArms(
      prometheusClient({ url: "http://p:9090", fetch: fakePrometheus(full) }),
      metrics,
      10,
      WINDOW,
    );
    expect(ok).toMatchObject({
      kind: "counts",
      arms: { candidate: { requests: 500, errors: 4, tasks: 450, completed: 410 } },
    });
    const { [q("errors", "candidate")]: _dropped, ...partial } = full;
    const missing = await readPrometheusArms(
      prometheusClient({ url: "http://p:9090", fetch: fakePrometheus(partial) }),
      metrics,
      10,
      WINDOW,
    );
    expect(missing).toMatchObject({
      kind: "missing",
      reason: "no data for candidate errors (rollout.metrics.queries.errors)",
    });
    // A policy written before `tasks` existed gets the default tasks query; no series holds.
    const { [q("tasks", "control")]: _noTasks, ...withoutTasks } = full;
    const noTasks = await readPrometheusArms(
      prometheusClient({ url: "http://p:9090", fetch: fakePrometheus(withoutTasks) }),
      metrics,
      10,
      WINDOW,
    );
    expect(noTasks).toMatchObject({
      kind: "missing",
      reason: "no data for control tasks (rollout.metrics.queries.tasks)",
    });
    const wrong = await readPrometheusArms(
      prometheusClient({
        url: "http://p:9090",
        fetch: fakePrometheus({ ...full, [q("errors", "candidate")]: vector(900) }),
      }),
      metrics,
      10,
      WINDOW,
    );
    expect(wrong).toMatchObject({ kind: "missing" });
    expect(wrong.kind === "missing" && wrong.reason).toContain("do not add up");
    // The default queries need the phase's start; unknown, they hold and say so, asking nothing.
    const unknown = await readPrometheusArms(
      prometheusClient({ url: "http://p:9090", fetch: fakePrometheus(full) }),
      metrics,
      10,
      { unknown_reason: "no commit on main set rollout.candidate_percent in config/llm.json to 10" },
    );
    expect(unknown).toMatchObject({ kind: "missing" });
    expect(unknown.kind === "missing" && unknown.reason).toMatch(
      /start of the 10 % phase is not known.*rollout\.metrics\.queries\.requests.*\{\{phase_window\}\}.*no commit on main/,
    );
  });
});

describe("metrics file", () => {
  const arms = {
    control: { requests: 9000, errors: 40, tasks: 8000, completed: 7650 },
    candidate: { requests: 1000, errors: 5, tasks: 900, completed: 860 },
  };
  test("counts for the current phase", () => {
    expect(readMetricsFile(JSON.stringify({ phase: 10, ...arms }), "m.json", 10)).toMatchObject({
      kind: "counts",
      arms,
    });
  });
  test.each([
    [null, "does not exist on the base branch"],
    ["{", "is not JSON"],
    [JSON.stringify({ phase: 30, ...arms }), "counts for the 30 % phase, and the current phase is 10 %"],
    [JSON.stringify({ control: arms.control }), "candidate"],
    [
      JSON.stringify({ ...arms, candidate: { requests: 1, errors: 2, tasks: 1, completed: 0 } }),
      "do not add up",
    ],
  ])("%s holds", (text, reason) => {
    const reading = readMetricsFile(text, "m.json", 10);
    expect(reading.kind).toBe("missing");
    expect(reading.kind === "missing" && reading.reason).toContain(reason);
  });
});

describe("words", () => {
  const audit: Audit = {
    label: "rollout:<img src=x onerror=alert(1)>",
    actor: "evil`user",
    permission: "read",
    labeled_at: "2026-11-02T09:00:00Z",
    delivery: "d-1",
    pinned_sha: SHA,
  };
  test("labels and logins are escaped, mentions defused", () => {
    const body = renderNotice({ kind: "permission", audit }, "<!-- m -->");
    expect(body).not.toContain("<img");
    expect(body).not.toMatch(/@evil/);
    expect(body).toContain("@\u200devil");
    expect(body).toContain("has read permission");
  });

  test("a decision names the phase, each check, the thresholds and the pinned head", () => {
    const body = renderDecision({
      decision: decide(
        [
          { name: "phase", status: "pass", detail: "0 % → 10 %" },
          { name: "eval", status: "pass", detail: "ok | with pipe" },
        ],
        false,
      ),
      target: 10,
      position: 1,
      phases: 4,
      audit: {
        ...audit,
        label: "rollout:10",
        actor: "maintainer",
        permission: "write",
        thresholds: { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 },
      },
      commit: { action: "committed", sha: OTHER },
    });
    expect(body).toContain("### modelgate rollout: promoted to 10 %");
    expect(body).toContain("| Eval evidence | ✅ pass | ok \\| with pipe |");
    expect(body).toContain(
      "candidate error rate ≤ 2.0 %, completion drop vs control ≤ 5.0 pp, at least 200 requests per arm",
    );
    expect(body).toContain(`Pinned head: \`${SHA}\``);
    expect(body).toContain(`Commit: \`${OTHER}\``);
  });
});

describe("Action <-> App protocol", () => {
  test("promotion trailers are whole lines: a longer SHA or another target does not pass as ours", () => {
    const message = ["rollout: candidate to 30 %", "", ...promotionTrailers(30, SHA)].join("\n");
    expect(hasPromotionTrailers(message, 30, SHA)).toBe(true);
    expect(hasPromotionTrailers(`${message}\n`, 30, SHA)).toBe(true);
    expect(hasPromotionTrailers(message, 50, SHA)).toBe(false);
    expect(hasPromotionTrailers(message.replace(SHA, `${SHA}0`), 30, SHA)).toBe(false);
    expect(
      hasPromotionTrailers(`rollout\n\nModelgate-Rollout: 30 Modelgate-Pinned-Head: ${SHA}`, 30, SHA),
    ).toBe(false);
  });

  test("names and markers are distinct, so one side's output never reads as another's", () => {
    expect(new Set(Object.values(CHECK_NAMES)).size).toBe(Object.keys(CHECK_NAMES).length);
    const markers = Object.values(COMMENT_MARKERS);
    for (const a of markers) for (const b of markers) if (a !== b) expect(a.includes(b)).toBe(false);
  });
});
