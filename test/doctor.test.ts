import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import type { DoctorCheck, DoctorReport } from "../src/core/doctor/types.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { runCliCaptured } from "./support/cli.ts";
import { fakePrometheus } from "./support/fake-prometheus.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * `modelgate doctor` end to end (issue 13, part 2): the CLI in-process, real git repositories,
 * the `openai` SDK listing the simulator's models over loopback HTTP, the attempt cache on disk
 * filled by a real `modelgate eval`, and a Prometheus query API on loopback.
 */

let sim: Simulator;
let example: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startExampleSimulator();
  example = makeExampleRepo(tempDir()).dir;
  env = { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test", HOME: tempDir() };
});
afterAll(async () => {
  await sim.close();
});

async function doctor(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const run = await runCliCaptured(["doctor", ...args], { ...env, ...extraEnv });
  const report = run.code === 2 ? undefined : (JSON.parse(run.stdout) as DoctorReport);
  return { ...run, report };
}

const byId = (report: DoctorReport | undefined, id: string): DoctorCheck[] =>
  (report?.checks ?? []).filter((c) => c.id === id);

describe("modelgate doctor on the bundled example", () => {
  it("reports every check with a status, and a concrete fix on every line that is not a pass", async () => {
    const run = await doctor(["--repo", example, "--cache-dir", tempDir()]);
    expect(run.stderr).toBe("");
    const report = run.report as DoctorReport;
    const families = new Set(report.checks.map((c) => c.id));
    for (const id of [
      "route_cases",
      "suite_size",
      "baseline",
      "rollback_model",
      "rollback_rehearsal",
      "pinned_models",
      "explicit_lanes",
      "app_budget",
      "eval_budget",
      "metrics_wiring",
      "parsers_under_test",
    ]) {
      expect(families, id).toContain(id);
    }
    for (const check of report.checks) {
      expect(["pass", "warn", "fail"]).toContain(check.status);
      expect(check.message.length).toBeGreaterThan(10);
      if (check.status === "pass") expect(check.fix).toBeNull();
      // A concrete fix names the file, key or command to touch.
      else
        expect(check.fix).toMatch(
          /config\/llm\.json|modelgate\.yml|modelgate eval|PROMETHEUS_URL|evals?\.|rollout|cases/,
        );
    }
    // The example's floating `gpt-5.4` / `gpt-5.5` make it not ready; the fix names the snapshot the provider lists.
    expect(run.code).toBe(1);
    expect(report.ready).toBe(false);
    const floating = byId(report, "pinned_models");
    expect(floating.map((c) => c.subject).sort()).toEqual(["gpt-5.4", "gpt-5.5"]);
    expect(floating.find((c) => c.subject === "gpt-5.4")?.fix).toContain("gpt-5.4-2026-03-05");
    // Its three routes have cases; the suite (24/19/8 per route) is far below a migration's 300–500 pairs.
    expect(byId(report, "route_cases").every((c) => c.status === "pass")).toBe(true);
    const size = byId(report, "suite_size")[0];
    expect(size?.status).toBe("warn");
    expect(size?.message).toContain("agentic_coding 24");
    // ticket_triage runs on the default model without being mapped: a legacy lane.
    expect(byId(report, "explicit_lanes")).toMatchObject([{ subject: "ticket_triage", status: "warn" }]);
    expect(byId(report, "rollback_model")).toMatchObject([{ status: "pass", subject: "gpt-5.4" }]);
    expect(byId(report, "rollback_rehearsal")[0]?.fix).toContain("modelgate/rollback-rehearsal");
    expect(byId(report, "app_budget")[0]?.status).toBe("pass");
    expect(byId(report, "eval_budget")[0]?.status).toBe("warn");
    expect(byId(report, "metrics_wiring")[0]?.message).toMatch(/^not checked: PROMETHEUS_URL/);
    expect(byId(report, "parsers_under_test")).toMatchObject([{ subject: "ticket_triage", status: "pass" }]);
  });

  it("finds the baseline a real eval cached, read-only, and is ready once the IDs are explicit aliases", async () => {
    const cacheDir = tempDir();
    const before = await doctor(["--repo", example, "--cache-dir", cacheDir]);
    expect(byId(before.report, "baseline").every((c) => c.status === "warn")).toBe(true);
    const evalRun = await runCliCaptured(
      ["eval", "--repo", example, "--base", "main", "--head", "main", "--all", "--cache-dir", cacheDir],
      env,
    );
    expect(evalRun.code).toBe(0);
    const entries = () => readdirSync(cacheDir, { recursive: true }).map(String).sort();
    const stored = entries();
    expect(stored.length).toBeGreaterThan(51);
    const after = await doctor([
      "--repo",
      example,
      "--cache-dir",
      cacheDir,
      "--allow-alias",
      "gpt-5.4",
      "--allow-alias",
      "gpt-5.5",
    ]);
    // Read-only: the doctor looked entries up and wrote none.
    expect(entries()).toEqual(stored);
    const baseline = byId(after.report, "baseline");
    expect(baseline.map((c) => [c.subject, c.status])).toEqual([
      ["agentic_coding", "pass"],
      ["general_qna", "pass"],
      ["ticket_triage", "pass"],
    ]);
    expect(byId(after.report, "pinned_models")).toMatchObject([{ status: "pass" }]);
    expect(after.code).toBe(0);
    expect(after.report?.ready).toBe(true);
  });

  it("prints the same report as text", async () => {
    const text = await runCliCaptured(["doctor", "--repo", example, "--format", "text", "--no-cache"], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^NOT READY to migrate \(2 fail, \d+ warn, \d+ pass\)/);
    expect(text.stdout).toContain("FAIL  pinned_models [gpt-5.4]");
    expect(text.stdout).toContain("      fix: pin it");
  });
});

const POLICY_FILE_METRICS = "version: 1\nrollout:\n  metrics: { source: file }\n";

describe("modelgate doctor on a repo that is not ready", () => {
  let repo: string;
  beforeAll(() => {
    repo = tempDir();
    git(repo, "init", "--quiet", "--initial-branch=main");
    commitFiles(repo, {
      "config/llm.json": JSON.stringify({
        llm: {
          default_model: "gpt-5.4-2026-03-05",
          routes: { general_qna: "gpt-5.4-2026-03-05", summarize: "gpt-5.5" },
        },
        models: { candidate: "gpt-5.5-2026-04-23" },
      }),
      "prompts/qna.md": "You answer questions about Acme.",
      "evals/qna.jsonl": `${JSON.stringify({
        id: "qna-1",
        route: "general_qna",
        prompt: "prompts/qna.md",
        input: "How do I reset my password?",
        assert: [{ type: "contains", value: "reset link" }],
      })}\n`,
    });
  });

  it("exits 1 naming the uncovered route, the floating model alias and the missing rollback model", async () => {
    const run = await doctor(["--repo", repo, "--cache-dir", tempDir()]);
    expect(run.code).toBe(1);
    const fails = run.report?.checks.filter((c) => c.status === "fail") ?? [];
    expect(fails.map((c) => [c.id, c.subject ?? null])).toEqual([
      ["route_cases", "summarize"],
      ["rollback_model", null],
      ["pinned_models", "gpt-5.5"],
    ]);
    expect(fails[0]?.fix).toContain('"route": "summarize"');
    expect(fails[1]?.message).toContain("config/llm.json models.rollback is not set");
    expect(fails[1]?.fix).toContain('"gpt-5.4-2026-03-05"');
    expect(fails[2]?.message).toContain("llm.routes.summarize");
    expect(fails[2]?.fix).toContain('"gpt-5.5-2026-04-23"');

    const text = await runCliCaptured(["doctor", "--repo", repo, "--format", "text", "--no-cache"], env);
    expect(text.code).toBe(1);
    for (const named of ["summarize", "models.rollback", "gpt-5.5 ("]) expect(text.stdout).toContain(named);
  });

  it("fails closed when the provider cannot list its models", async () => {
    const run = await doctor(["--repo", repo, "--no-cache"], { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    expect(run.code).toBe(1);
    commitFiles(repo, {
      "config/llm.json": JSON.stringify({
        llm: { default_model: "gpt-5.4-2026-03-05", routes: { general_qna: "gpt-5.4-2026-03-05" } },
        models: { candidate: "gpt-5.5-2026-04-23", rollback: "gpt-5.4-2026-03-05" },
      }),
    });
    const unreachable = await doctor(["--repo", repo, "--no-cache"], {
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
    });
    expect(byId(unreachable.report, "rollback_model")).toMatchObject([
      { status: "fail", message: expect.stringContaining("cannot tell whether the provider offers") },
    ]);
    const reachable = await doctor(["--repo", repo, "--no-cache"]);
    expect(byId(reachable.report, "rollback_model")).toMatchObject([{ status: "pass" }]);
  });

  it("checks the metrics wiring: a metrics file at the ref, and Prometheus queries on loopback", async () => {
    commitFiles(repo, {
      ".github/modelgate.yml": POLICY_FILE_METRICS,
      ".github/modelgate-metrics.json": JSON.stringify({
        control: { requests: 900, errors: 4, tasks: 850, completed: 800 },
        candidate: { requests: 100, errors: 1, tasks: 95, completed: 90 },
      }),
    });
    const file = await doctor(["--repo", repo, "--no-cache"]);
    expect(byId(file.report, "metrics_wiring")).toMatchObject([{ status: "pass" }]);
    commitFiles(repo, { ".github/modelgate-metrics.json": '{"control": {"requests": 1}}' });
    const broken = await doctor(["--repo", repo, "--no-cache"]);
    expect(byId(broken.report, "metrics_wiring")).toMatchObject([
      { status: "fail", fix: expect.stringContaining(".github/modelgate-metrics.json") },
    ]);

    // Prometheus (the default source): the candidate's series is missing.
    commitFiles(repo, { ".github/modelgate.yml": null, ".github/modelgate-metrics.json": null });
    const answers = new Map<string, number | null>();
    const prometheus = await fakePrometheus((query) => answers.get(query) ?? null);
    try {
      for (const arm of ["control", "candidate"]) {
        answers.set(`sum(increase(llm_requests_total{arm="${arm}"}[1h]))`, 500);
        answers.set(`sum(increase(llm_requests_total{arm="${arm}",outcome="error"}[1h]))`, 2);
        answers.set(`sum(increase(llm_tasks_total{arm="${arm}"}[1h]))`, 480);
      }
      answers.set('sum(increase(llm_tasks_total{arm="control",outcome="completed"}[1h]))', 450);
      const missing = await doctor(["--repo", repo, "--no-cache"], { PROMETHEUS_URL: prometheus.url });
      expect(byId(missing.report, "metrics_wiring")).toMatchObject([
        { status: "warn", message: expect.stringContaining("no traffic at 0 %") },
      ]);
      commitFiles(repo, {
        "config/llm.json": JSON.stringify({
          llm: { default_model: "gpt-5.4-2026-03-05", routes: { general_qna: "gpt-5.4-2026-03-05" } },
          models: { candidate: "gpt-5.5-2026-04-23", rollback: "gpt-5.4-2026-03-05" },
          rollout: { candidate_percent: 10 },
        }),
      });
      const during = await doctor(["--repo", repo, "--no-cache"], { PROMETHEUS_URL: prometheus.url });
      expect(byId(during.report, "metrics_wiring")).toMatchObject([
        { status: "fail", message: expect.stringContaining("no data for candidate completed") },
      ]);
      expect(during.code).toBe(1);
      answers.set('sum(increase(llm_tasks_total{arm="candidate",outcome="completed"}[1h]))', 440);
      const answering = await doctor(["--repo", repo, "--no-cache"], { PROMETHEUS_URL: prometheus.url });
      expect(byId(answering.report, "metrics_wiring")).toMatchObject([{ status: "pass" }]);
      expect(prometheus.queries()).toBeGreaterThanOrEqual(18);
    } finally {
      await prometheus.close();
    }
  });

  it("flags structured output without a json_schema or regex assertion", async () => {
    const dir = tempDir();
    git(dir, "init", "--quiet", "--initial-branch=main");
    commitFiles(dir, {
      "config/llm.json": JSON.stringify({
        llm: {
          default_model: "gpt-5.4-2026-03-05",
          routes: { triage: { model: "gpt-5.4-2026-03-05", response_format: "json_object" } },
        },
        models: { candidate: "gpt-5.5-2026-04-23", rollback: "gpt-5.4-2026-03-05" },
      }),
      "evals/triage.jsonl": `${JSON.stringify({ id: "t-1", route: "triage", input: "charged twice", assert: [{ type: "contains", value: "billing" }] })}\n`,
    });
    const run = await doctor(["--repo", dir, "--no-cache"]);
    expect(byId(run.report, "parsers_under_test")).toMatchObject([
      {
        status: "fail",
        subject: "triage",
        fix: expect.stringContaining("evals/triage.jsonl:1"),
      },
    ]);
  });

  it("exits 2 on usage and config errors, with one line and no stack", async () => {
    const badFormat = await runCliCaptured(["doctor", "--repo", repo, "--format", "yaml"], env);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("--format: expected one of json, text");
    const badRef = await runCliCaptured(["doctor", "--repo", repo, "--ref", "no-such-ref"], env);
    expect(badRef.code).toBe(2);
    expect(badRef.stderr.trim().split("\n")).toHaveLength(1);
    commitFiles(repo, { "config/llm.json": "{ not json" });
    const badConfig = await runCliCaptured(["doctor", "--repo", repo, "--no-cache"], env);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain("config/llm.json");
    expect(badConfig.stderr).not.toContain("    at ");
  });
});
