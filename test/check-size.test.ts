/**
 * Issue 9, item 10: GitHub limits a check run's `output.summary` and `output.text` to 65,535
 * UTF-8 bytes, not characters. A report of CJK text (3 bytes a character) must be cut in bytes,
 * and a final write that GitHub refuses anyway must still complete the check with a short
 * summary — a check left `in_progress` blocks a required-check merge forever.
 */
import { getOctokit } from "@actions/github";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Publisher } from "../src/action/publish.ts";
import { CHECK_NAMES } from "../src/core/protocol.ts";
import { renderComment } from "../src/core/report/markdown.ts";
import type { CaseResult, EvalResult, Kpis } from "../src/core/result.ts";
import { utf8Length, utf8Prefix } from "../src/core/text/utf8.ts";
import { type AppHarness, startAppHarness } from "./support/app-harness.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const LIMIT = 65_535;
const bytes = (text: string | null | undefined) => Buffer.byteLength(text ?? "", "utf8");

describe("UTF-8 sizes", () => {
  test.each(["", "abc", "é", "日本語", "😀", "a😀b", "\ud800x", "mixed ü 日 😀\n"])(
    "utf8Length(%j) matches Buffer",
    (text) => {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, "utf8"));
    },
  );

  test("utf8Prefix cuts at the last newline that fits, never inside a character", () => {
    expect(utf8Prefix("日本\n語です", 9)).toBe("日本\n");
    expect(utf8Prefix("日本語", 7)).toBe("日本");
    expect(utf8Prefix("a😀", 4)).toBe("a");
    expect(utf8Prefix("short", 100)).toBe("short");
  });
});

describe("the emulator enforces GitHub's byte limit", () => {
  let emu: GitHubEmulator;
  beforeEach(async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: "acme", repo: "app" });
  });
  afterEach(async () => {
    await emu.close();
  });

  test("30,000 CJK characters (90,000 bytes) get 422; 21,845 (65,535 bytes) are accepted", async () => {
    const sha = emu.commit("acme", "app", "main", { "README.md": "hi\n" });
    const gh = getOctokit("ghs_test", { baseUrl: emu.url });
    const create = (summary: string) =>
      gh.request("POST /repos/{owner}/{repo}/check-runs", {
        owner: "acme",
        repo: "app",
        name: "size",
        head_sha: sha,
        output: { title: "t", summary },
      });
    await expect(create("日".repeat(30_000))).rejects.toMatchObject({ status: 422 });
    const ok = await create("日".repeat(21_845));
    expect(ok.status).toBe(201);
  });
});

describe("App: attribution check of a PR with 2,500 CJK file names", () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await startAppHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  test("the check is created, its summary cut under 65,535 bytes", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2_500; i++) files[`ドキュメント/説明書き${String(i).padStart(4, "0")}.md`] = `${i}\n`;
    const number = h.openPR("cjk", files);
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    const checks = h.checks(h.headSha(number));
    expect(checks).toHaveLength(1);
    const summary = checks[0]?.output.summary ?? "";
    expect(checks[0]?.status).toBe("completed");
    expect(bytes(summary)).toBeLessThanOrEqual(LIMIT);
    expect(summary).toContain("more rows");
    // Many rows still shown: the cut is a byte budget, not a blanket fallback.
    expect(summary.match(/説明書き/g)?.length ?? 0).toBeGreaterThan(300);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Action: the eval report with many flipped cases whose details are Japanese.

function kpis(): Kpis {
  return {
    completion_rate: 0.5,
    retry_count: 0,
    tokens_per_completed_task: 900,
    cost_per_completed_task: 0.002,
    human_takeover_rate: 0,
    error_rate: 0,
    latency_p50_ms: 800,
    latency_p95_ms: 1500,
    tool_calls_per_task: 0,
  };
}

function japaneseCase(i: number): CaseResult {
  const detail = `contains: 期待された回答「パスワードの再設定リンクをお送りしました」が見つかりません。モデルの回答は${"申し訳ありませんが、その操作はできません。".repeat(8)}`;
  const side = (outcome: "pass" | "fail") => ({
    outcome,
    attempts: 1,
    tokens: 900,
    cost: 0.002,
    model: outcome === "pass" ? "gpt-5.4" : "gpt-5.5",
    tool_calls: 0,
    latencies_ms: [800],
    ...(outcome === "fail" ? { detail } : {}),
  });
  return {
    id: `日本語ケース-${String(i).padStart(4, "0")}`,
    route: "general_qna",
    base: side("pass"),
    head: side("fail"),
  };
}

function japaneseResult(flipped: number): EvalResult {
  const cases = Array.from({ length: flipped }, (_, i) => japaneseCase(i));
  return {
    schema_version: 1,
    verdict: "fail",
    partial: false,
    base_ref: "main",
    head_ref: "bump",
    base: { kpis: kpis(), cases: flipped, requests: flipped, cache_hits: 0 },
    head: { kpis: kpis(), cases: flipped, requests: flipped, cache_hits: 0 },
    routes: {},
    deltas: {},
    min_detectable_effect: 0.1,
    gates: [],
    warnings: [],
    selection: {
      case_ids: cases.map((c) => c.id),
      reasons: [],
      selected: flipped,
      sample_seed: "modelgate",
      all: true,
    },
    cases,
  } as EvalResult;
}

describe("Action: eval report with 300 flipped cases of Japanese output", () => {
  let emu: GitHubEmulator;
  let headSha: string;
  beforeEach(async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: "acme", repo: "app" });
    emu.commit("acme", "app", "main", { "README.md": "hi\n" });
    headSha = emu.commit("acme", "app", "bump", { "README.md": "bump\n" });
    emu.openPullRequest("acme", "app", { base: "main", head: "bump", user: "dev" });
  });
  afterEach(async () => {
    await emu.close();
  });

  function publisher(warnings: string[]): Publisher {
    return new Publisher({
      gh: getOctokit(WORKFLOW_TOKEN, { baseUrl: emu.url }),
      pull: {
        owner: "acme",
        repo: "app",
        number: 1,
        headSha,
        baseSha: headSha,
        fork: false,
        author: "dev",
        changedFiles: 1,
        eventName: "pull_request",
      },
      comment: false,
      checkRun: true,
      commentAuthor: undefined,
      runUrl: "https://github.com/acme/app/actions/runs/1",
      serverUrl: "https://github.com",
      log: { info: () => {}, warning: (message) => warnings.push(message) },
    });
  }

  function evalChecks() {
    return [...emu.state.checkRuns.values()].filter((run) => run.name === CHECK_NAMES.eval);
  }

  test("the check completes with the report cut under 65,535 bytes", async () => {
    const result = japaneseResult(300);
    const warnings: string[] = [];
    const p = publisher(warnings);
    await p.running();
    // The comment body as the Action renders it (characters), over the check's byte limit.
    const body = renderComment(result, p.renderOptions());
    expect(bytes(body)).toBeGreaterThan(LIMIT);
    await p.report(result, body);
    const [check] = evalChecks();
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(bytes(check?.output.summary)).toBeLessThanOrEqual(LIMIT);
    expect(check?.output.summary).toContain("more flipped cases not shown");
    expect(check?.output.summary).toContain("<!-- modelgate:evidence ");
    expect(warnings).toEqual([]);
  });

  test("a final PATCH that GitHub refuses still completes the check with a short summary", async () => {
    const result = japaneseResult(10);
    const warnings: string[] = [];
    const p = publisher(warnings);
    await p.running();
    emu.failNext({ method: "PATCH", pathIncludes: "/check-runs/" }, 422);
    await p.report(result, renderComment(result, p.renderOptions()));
    const [check] = evalChecks();
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.summary).toMatch(/could not be written.*HTTP 422/s);
    expect(warnings.join("\n")).toContain("HTTP 422");
  });
});
