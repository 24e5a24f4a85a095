import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { type EvalInProcess, EXAMPLE_POLICY, evalInProcess, ROOT } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 11, item 10: no silent defaults. A policy file named on the command line must exist,
 * and a change the eval cannot cover says so (result, warnings, comment) and fails when it is
 * a model change. The CLI in-process on real git repos, the simulator over loopback HTTP.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

type EvalRun = EvalInProcess;

async function evalCli(repo: string, args: string[]): Promise<EvalRun> {
  const sim = await startExampleSimulator(undefined, 0);
  simulators.push(sim);
  return evalInProcess(repo, args, sim.url);
}

const exampleLlm = readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8");

function llmWithRoutes(routes: Record<string, string>): string {
  const doc = JSON.parse(exampleLlm) as { llm: { routes: Record<string, string> } };
  doc.llm.routes = routes;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The example repo with `base` committed on main, and a branch `pr` with `head` on top. */
function repo(base: Record<string, string | null>, head: Record<string, string | null>): string {
  const dir = makeExampleRepo(tempDir()).dir;
  if (Object.keys(base).length > 0) commitFiles(dir, base, "base setup");
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, head, "the pull request");
  return dir;
}

const withSummarize = { agentic_coding: "gpt-5.4", general_qna: "gpt-5.4", summarize: "gpt-5.4" };
const summarizeMoved = { ...withSummarize, summarize: "gpt-5.5" };

describe("--config naming a missing file", () => {
  it("exits 2 naming the path, instead of running with the default policy", async () => {
    const dir = repo(
      {},
      { "config/llm.json": llmWithRoutes({ ...withSummarize, agentic_coding: "gpt-5.5" }) },
    );
    const run = await evalCli(dir, [
      "--base",
      "main",
      "--head",
      "pr",
      "--config",
      ".github/modelgate-prod.yml",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--config: \.github\/modelgate-prod\.yml does not exist at the base commit [0-9a-f]{12}/,
    );
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(join(dir, "result.json"))).toBe(false);
  });

  it("classify refuses it the same way", async () => {
    const dir = repo(
      {},
      { "config/llm.json": llmWithRoutes({ ...withSummarize, agentic_coding: "gpt-5.5" }) },
    );
    let stderr = "";
    const code = await runCli(
      ["classify", "--repo", dir, "--base", "main", "--head", "pr", "--config", "policies/modelgate.yml"],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        isTTY: false,
        env: {},
      },
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/--config: policies\/modelgate\.yml does not exist at the base commit/);
  });

  it("a missing default path stays zero config", async () => {
    const dir = repo(
      { ".github/modelgate.yml": null },
      { "config/llm.json": llmWithRoutes({ agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" }) },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.stderr).not.toMatch(/does not exist/);
    expect([0, 1]).toContain(run.code);
    expect(run.result.selection.reasons.map((r) => r.route)).toEqual(["agentic_coding"]);
  });
});

describe("changes no case covers", () => {
  it("a model change on a route without cases fails, naming the route and the change", async () => {
    const dir = repo(
      { "config/llm.json": llmWithRoutes(withSummarize) },
      { "config/llm.json": llmWithRoutes(summarizeMoved) },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(1);
    expect(run.result.verdict).toBe("fail");
    expect(run.result.coverage?.uncovered).toEqual([
      expect.objectContaining({
        kind: "route",
        route: "summarize",
        model: { from: "gpt-5.4", to: "gpt-5.5" },
        model_change: true,
      }),
    ]);
    expect(run.result.coverage?.uncovered[0]?.reason).toMatch(
      /route summarize: model changed \(gpt-5\.4 → gpt-5\.5\); no case has this route \(cases looked for in evals\/\*\*\/\*\.jsonl\)/,
    );
    expect(run.result.warnings).toContainEqual(
      expect.objectContaining({ code: "uncovered_route", route: "summarize", model_change: true }),
    );
    expect(run.stderr).toMatch(/not covered \(model change\): route summarize/);
    expect(run.markdown).toMatch(/#### Not covered by any case/);
    expect(run.markdown).toMatch(/1 model change no eval case covers/);
    expect(run.markdown).not.toMatch(/No gates are configured/);
  });

  it("evals.require_coverage: false reports it and does not fail", async () => {
    const policy = EXAMPLE_POLICY.replace("  max_cases: 200", "  max_cases: 200\n  require_coverage: false");
    expect(policy).toContain("require_coverage: false");
    const dir = repo(
      { "config/llm.json": llmWithRoutes(withSummarize), ".github/modelgate.yml": policy },
      { "config/llm.json": llmWithRoutes(summarizeMoved) },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(0);
    expect(run.result.verdict).toBe("skipped");
    expect(run.result.coverage).toMatchObject({ required: false, uncovered: [{ route: "summarize" }] });
    expect(run.markdown).toMatch(/The eval did not run: no case covers the change \(route summarize/);
    expect(run.markdown).not.toMatch(/No gates are configured/);
  });

  it("no case file matching evals.cases fails a model change, saying where cases were looked for", async () => {
    const policy = EXAMPLE_POLICY.replace('cases: ["evals/**/*.jsonl"]', 'cases: ["tests/evals/**/*.jsonl"]');
    expect(policy).toContain("tests/evals/");
    const dir = repo(
      { ".github/modelgate.yml": policy },
      { "config/llm.json": llmWithRoutes({ agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" }) },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(1);
    expect(run.result.verdict).toBe("fail");
    expect(run.result.coverage).toMatchObject({ case_globs: ["tests/evals/**/*.jsonl"], case_files: 0 });
    expect(run.result.coverage?.uncovered[0]?.reason).toMatch(
      /route agentic_coding: model changed \(gpt-5\.4 → gpt-5\.5\); no case file matched \(cases looked for in tests\/evals\/\*\*\/\*\.jsonl\)/,
    );
    expect(run.result.warnings).toContainEqual({ code: "no_case_files", globs: ["tests/evals/**/*.jsonl"] });
    expect(run.markdown).toMatch(
      /Cases were looked for in `tests\/evals\/\*\*\/\*\.jsonl` \(0 files matched\)/,
    );
  });

  it("a model change in an LLM config the policy does not name fails, naming both files", async () => {
    const models = (coding: string) =>
      `llm:\n  routes:\n    agentic_coding: ${coding}\n    general_qna: gpt-5.4\n`;
    const dir = repo(
      { "config/models.yaml": models("gpt-5.4") },
      { "config/models.yaml": models("gpt-5.5") },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(1);
    expect(run.result.verdict).toBe("fail");
    expect(run.result.coverage?.uncovered).toEqual([
      expect.objectContaining({
        kind: "file",
        file: "config/models.yaml",
        keys: ["llm.routes.agentic_coding"],
        model_change: true,
      }),
    ]);
    expect(run.result.warnings).toContainEqual({
      code: "model_change_outside_llm_config",
      file: "config/models.yaml",
      llm_config: "config/llm.json",
      keys: ["llm.routes.agentic_coding"],
    });
    expect(run.markdown).toMatch(
      /config\/models\.yaml: a model change \(llm\.routes\.agentic\\?_coding\) outside llm\.config \(config\/llm\.json\)/,
    );
  });

  it("a default model change no case exercises fails; a case on a default route covers it", async () => {
    const withDefault = (model: string) => {
      const doc = JSON.parse(exampleLlm) as { llm: { default_model: string } };
      doc.llm.default_model = model;
      return `${JSON.stringify(doc, null, 2)}\n`;
    };
    // Without the triage cases (the only route on the default), nothing measures the new default.
    const bare = repo({ "evals/triage.jsonl": null }, { "config/llm.json": withDefault("gpt-5.5") });
    const uncovered = await evalCli(bare, ["--base", "main", "--head", "pr"]);
    expect(uncovered.code).toBe(1);
    expect(uncovered.result.coverage?.uncovered).toEqual([
      expect.objectContaining({
        kind: "default_model",
        file: "config/llm.json",
        keys: ["llm.default_model"],
        model: { from: "gpt-5.4", to: "gpt-5.5" },
        model_change: true,
      }),
    ]);
    expect(uncovered.result.warnings).toContainEqual({
      code: "uncovered_default_model",
      file: "config/llm.json",
      key: "llm.default_model",
      from: "gpt-5.4",
      to: "gpt-5.5",
    });

    const covered = await evalCli(repo({}, { "config/llm.json": withDefault("gpt-5.5") }), [
      "--base",
      "main",
      "--head",
      "pr",
    ]);
    expect(covered.result.coverage?.uncovered).toEqual([]);
    expect(covered.result.selection.reasons.map((r) => r.route)).toEqual(["ticket_triage"]);
  });

  it("a covered change still reports nothing uncovered", async () => {
    const dir = repo(
      {},
      { "config/llm.json": llmWithRoutes({ agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" }) },
    );
    const run = await evalCli(dir, ["--base", "main", "--head", "pr"]);
    expect(run.result.coverage).toMatchObject({ required: true, uncovered: [] });
    expect(run.result.coverage?.case_files).toBeGreaterThan(0);
    expect(run.markdown).not.toMatch(/Not covered/);
  });
});
