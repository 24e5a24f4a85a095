import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { CaseResult, EvalResult } from "../src/core/result.ts";
import type { Simulator, SimulatorProfiles } from "../src/simulator/index.ts";
import { EXAMPLE_POLICY, expectedExit, ROOT } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * `modelgate eval` end to end: the CLI in-process, the real `openai` SDK, the simulator on
 * loopback HTTP, and real git repositories built from the bundled example.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

async function simulator(overrides?: Partial<SimulatorProfiles>, timeScale = 0): Promise<Simulator> {
  const sim = await startExampleSimulator(overrides, timeScale);
  simulators.push(sim);
  return sim;
}

interface EvalRun {
  code: number;
  stderr: string;
  result: EvalResult;
  markdown: string;
}

async function evalCli(repo: string, sim: Simulator, args: string[]): Promise<EvalRun> {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  let stderr = "";
  const code = await runCli(["eval", "--repo", repo, "--out", out, "--markdown", md, "--no-cache", ...args], {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
    // Short retry waits: the 1 s floor after a 429 is the product's, not the test's.
    env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test", MODELGATE_INTERNAL_RETRY_FLOOR_MS: "5" },
  });
  return {
    code,
    stderr,
    result: existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : ({} as EvalResult),
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
  };
}

/** An example repo whose `main` gets `baseFiles` and whose branch `pr` gets `headFiles` on top. */
function exampleWith(
  baseFiles: Record<string, string | null>,
  headFiles: Record<string, string | null>,
): string {
  const dir = makeExampleRepo(tempDir()).dir;
  if (Object.keys(baseFiles).length) commitFiles(dir, baseFiles, "base tweak");
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, headFiles, "the pull request");
  return dir;
}

function llmJson(mutate: (doc: LlmDoc) => void): string {
  const doc = JSON.parse(
    readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8"),
  ) as LlmDoc;
  mutate(doc);
  return JSON.stringify(doc, null, 2);
}
interface LlmDoc {
  llm: { default_model: string; routes: Record<string, unknown>; timeout_ms: number; retry_limit: number };
}

const moveCoding = llmJson((d) => {
  d.llm.routes.agentic_coding = "gpt-5.5";
});

/** What an answer was, without the wall-clock parts that differ between runs. */
function outcomes(cases: readonly CaseResult[]) {
  const strip = (side: CaseResult["base"]) =>
    side && {
      outcome: side.outcome,
      attempts: side.attempts,
      tokens: side.tokens,
      tool_calls: side.tool_calls,
    };
  return cases.map((c) => ({ id: c.id, base: strip(c.base), head: strip(c.head) }));
}

describe("modelgate eval", () => {
  it("runs the affected subset, base vs head, and writes the result file and comment", async () => {
    const sim = await simulator();
    const repo = makeExampleRepo(tempDir()).dir;
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "migrate-agentic-coding"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(expectedExit(run.result));
    const { result } = run;
    expect(result.schema_version).toBe(1);
    expect(result.selection.reasons).toEqual([
      { route: "agentic_coding", reason: "model changed (gpt-5.4 → gpt-5.5)" },
    ]);
    expect(result.cases).toHaveLength(24);
    expect(result.cases.every((c) => c.route === "agentic_coding" && c.base && c.head)).toBe(true);
    expect(result.cases.every((c) => c.head?.model.startsWith("gpt-5.5"))).toBe(true);
    expect(Object.keys(result.head.kpis).sort()).toEqual(
      [
        "completion_rate",
        "cost_per_completed_task",
        "error_rate",
        "human_takeover_rate",
        "latency_p50_ms",
        "latency_p95_ms",
        "retry_count",
        "tokens_per_completed_task",
        "tool_calls_per_task",
      ].sort(),
    );
    expect(result.routes.agentic_coding).toBeDefined();
    expect(result.deltas.completion_rate?.ci95).toHaveLength(2);
    expect(result.simulated).toBeUndefined();
    expect(result.warnings).toEqual([]);
    expect(sim.stats.byModel["gpt-5.5"]).toBeGreaterThan(0);
    expect(run.markdown).toContain("<!-- modelgate:eval -->");
    expect(run.markdown).toContain("agentic_coding");
  });

  it("a 429 storm is waited out and leaves every outcome as in the clean run", async () => {
    const repo = makeExampleRepo(tempDir()).dir;
    const clean = await evalCli(repo, await simulator(), [
      "--base",
      "main",
      "--head",
      "migrate-agentic-coding",
    ]);
    const stormy = await simulator({ defaults: { errors: { rate_limit: 0.6, retry_after_ms: 5 } } });
    const storm = await evalCli(repo, stormy, ["--base", "main", "--head", "migrate-agentic-coding"]);
    expect(stormy.stats.byStatus["429"]).toBeGreaterThan(20);
    // Cost is left out: which request first sends a prompt prefix (uncached) depends on
    // arrival order, which the storm shuffles; the sequence's judged pairs are compared.
    const judged = (run: EvalRun) => outcomes(run.result.cases.slice(0, run.result.sequential?.pairs));
    expect(judged(storm)).toEqual(judged(clean));
    expect(storm.result.sequential?.pairs).toBe(clean.result.sequential?.pairs);
    expect(storm.result.head.kpis.error_rate).toBe(clean.result.head.kpis.error_rate);
    expect(storm.result.head.kpis.completion_rate).toBe(clean.result.head.kpis.completion_rate);
  });

  it("500s after the SDK's transport retries are errors, and a clear error-rate breach fails the run", async () => {
    const sim = await simulator({ models: { "gpt-5.5": { errors: { server_error: 1 } } } });
    const repo = exampleWith({}, { "config/llm.json": llmJson((d) => (d.llm.default_model = "gpt-5.5")) });
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr", "--all"]);
    // The sequence may stop once the breach is certain: judge the cases the head ran.
    const head = run.result.cases.flatMap((c) => (c.head ? [c.head] : []));
    // Routes that still pin gpt-5.4 are unaffected; every gpt-5.5 case errors.
    const onNewModel = run.result.cases.filter((c) => c.route === "ticket_triage" && c.head);
    expect(onNewModel.length).toBeGreaterThan(0);
    for (const c of onNewModel) {
      expect(c.head?.outcome).toBe("error");
      expect(c.head?.detail).toMatch(/^HTTP 500/);
      expect(c.head?.attempts).toBe(3);
    }
    expect(head.length).toBe(run.result.sequential?.stopped_early ? head.length : 51);
    expect(run.result.cases.length).toBe(51);
    const gate = run.result.gates.find((g) => g.name === "max_error_rate");
    expect(gate?.status).toBe("fail");
    expect(run.result.verdict).toBe("fail");
    expect(run.code).toBe(1);
  });

  it("a model that outlasts the route's timeout_ms is an error after that time", async () => {
    const sim = await simulator({ models: { "gpt-5.5": { errors: { hang: 1 } } } });
    const slowBase = llmJson((d) => {
      d.llm.timeout_ms = 1_500;
      d.llm.retry_limit = 0;
    });
    const repo = exampleWith(
      { "config/llm.json": slowBase },
      {
        "config/llm.json": llmJson((d) => {
          d.llm.timeout_ms = 1_500;
          d.llm.retry_limit = 0;
          d.llm.routes.agentic_coding = "gpt-5.5";
        }),
      },
    );
    // 1.5 s: long enough that the base side (answering at once) never reaches it on a loaded
    // machine, short enough to show the hung head side is cut at the route's own deadline.
    const started = Date.now();
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr", "--concurrency", "16"]);
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const c of run.result.cases) {
      expect(c.head?.outcome).toBe("error");
      expect(c.head?.detail).toBe("timed out after 1500 ms");
      expect(c.base?.outcome).not.toBe("error");
    }
  });

  it("a malformed JSON body from the provider is an error with the SDK's reason, not a crash", async () => {
    const sim = await simulator({ models: { "gpt-5.5": { errors: { malformed: 1 } } } });
    const repo = makeExampleRepo(tempDir()).dir;
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "migrate-agentic-coding"]);
    expect(run.stderr).not.toMatch(/internal error/);
    for (const c of run.result.cases) {
      expect(c.head?.outcome).toBe("error");
      expect(c.head?.detail).toBeTruthy();
    }
  });

  it("a different model in the answer is a model_mismatch warning in the result and the comment", async () => {
    const sim = await simulator({ models: { "gpt-5.5": { serve_as: { model: "gpt-5.4", rate: 1 } } } });
    const repo = makeExampleRepo(tempDir()).dir;
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "migrate-agentic-coding"]);
    expect(run.result.warnings).toContainEqual({
      code: "model_mismatch",
      route: "agentic_coding",
      requested: "gpt-5.5",
      returned: "gpt-5.4",
    });
    expect(run.markdown).toMatch(/mismatch/i);
  });

  it("an unknown model ID stops before spending, names the route and the ID, and fails", async () => {
    const sim = await simulator();
    const repo = exampleWith(
      {},
      { "config/llm.json": llmJson((d) => (d.llm.routes.agentic_coding = "gpt-5.5-turbo")) },
    );
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(1);
    expect(run.result.verdict).toBe("fail");
    expect(run.result.warnings).toContainEqual({
      code: "unknown_model",
      route: "agentic_coding",
      model: "gpt-5.5-turbo",
      side: "head",
    });
    expect(sim.stats.byModel).toEqual({});
    expect(run.markdown).toContain("gpt-5.5-turbo");
  });

  it("a run budget stops new requests and marks the result partial with the cap that stopped it", async () => {
    const sim = await simulator();
    const policy = EXAMPLE_POLICY;
    const repo = exampleWith(
      { ".github/modelgate.yml": `${policy}budget:\n  max_run_tokens: 3000\n` },
      { "config/llm.json": moveCoding },
    );
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr", "--concurrency", "2"]);
    expect(run.result.partial).toBe(true);
    expect(run.result.warnings).toContainEqual(
      expect.objectContaining({ code: "partial", cap: "budget.max_run_tokens" }),
    );
    const ran = run.result.cases.filter((c) => c.base || c.head).length;
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(24);
    expect(run.result.verdict).not.toBe("pass");
    expect(run.markdown).toMatch(/partial/i);
  });

  it("a task token cap ends that case only; the others run and the result is partial", async () => {
    const sim = await simulator();
    const policy = EXAMPLE_POLICY;
    const repo = exampleWith(
      { ".github/modelgate.yml": `${policy}budget:\n  max_task_tokens: 400\n` },
      { "config/llm.json": moveCoding },
    );
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(run.result.partial).toBe(true);
    expect(run.result.warnings).toContainEqual(
      expect.objectContaining({ code: "partial", cap: "budget.max_task_tokens" }),
    );
    // Every case still ran on both sides: the cap stopped attempts, not the run.
    expect(run.result.cases.every((c) => c.base && c.head)).toBe(true);
    expect(run.result.cases.some((c) => c.head?.detail === "task token cap reached (400)")).toBe(true);
  });

  it("a PR that edits cases gets a notice listing what changed; both sides run the head's cases", async () => {
    const sim = await simulator();
    const extra = JSON.stringify({
      id: "code-new",
      route: "agentic_coding",
      input: "Add a README.",
      assert: [],
    });
    const repo = exampleWith({}, { "config/llm.json": moveCoding, "evals/extra.jsonl": `${extra}\n` });
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(run.result.warnings).toContainEqual({
      code: "cases_changed",
      added: ["code-new"],
      removed: [],
      modified: [],
    });
    const added = run.result.cases.find((c) => c.id === "code-new");
    expect(added?.base).toBeDefined();
    expect(added?.head).toBeDefined();
  });

  it("nothing LLM-relevant changed: verdict skipped, no requests at all", async () => {
    const sim = await simulator();
    const repo = exampleWith({}, { "README.md": "# changed\n" });
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(0);
    expect(run.result.verdict).toBe("skipped");
    expect(run.result.cases).toEqual([]);
    expect(sim.stats.requests).toBe(0);
  });

  it("selects the cases of a changed prompt, and every route when a global setting changes", async () => {
    const sim = await simulator();
    const repo = exampleWith({}, { "prompts/triage.md": "Classify the ticket. Respond with JSON only.\n" });
    const prompt = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(prompt.result.selection.reasons).toEqual([
      { route: "ticket_triage", reason: "prompt prompts/triage.md changed" },
    ]);
    expect(prompt.result.cases.every((c) => c.route === "ticket_triage")).toBe(true);

    const global = exampleWith({}, { "config/llm.json": llmJson((d) => (d.llm.retry_limit = 1)) });
    const settings = await evalCli(global, sim, ["--base", "main", "--head", "pr", "--max-cases", "10"]);
    expect(new Set(settings.result.selection.reasons.map((r) => r.route))).toEqual(
      new Set(["agentic_coding", "general_qna", "ticket_triage"]),
    );
    expect(settings.result.selection.selected).toBe(51);
    expect(settings.result.cases).toHaveLength(10);
    expect(settings.result.selection.sample_seed).toBe("modelgate");
  });

  it("a re-run with an unchanged base makes no base requests (attempt cache)", async () => {
    const sim = await simulator();
    const repo = makeExampleRepo(tempDir()).dir;
    const cacheDir = tempDir();
    const args = ["--base", "main", "--head", "migrate-agentic-coding", "--cache-dir", cacheDir];
    const run = (extra: string[]) =>
      runCli(["eval", "--repo", repo, ...args, ...extra], {
        stdout: () => {},
        stderr: () => {},
        isTTY: false,
        env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
      });
    const first = join(tempDir(), "first.json");
    await run(["--out", first]);
    const before = sim.stats.byModel["gpt-5.4"] ?? 0;
    const second = join(tempDir(), "second.json");
    await run(["--out", second]);
    expect(sim.stats.byModel["gpt-5.4"] ?? 0).toBe(before);
    const result = JSON.parse(readFileSync(second, "utf8")) as EvalResult;
    expect(result.base.requests).toBe(0);
    expect(result.base.cache_hits).toBeGreaterThan(0);
  });

  it("bad case files and templates are exit 2 with file:line and the field", async () => {
    const sim = await simulator();
    const badCase = exampleWith(
      {},
      { "config/llm.json": moveCoding, "evals/extra.jsonl": '{"id":"x","route":"general_qna"}\n' },
    );
    const run = await evalCli(badCase, sim, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("evals/extra.jsonl:1 (case x) (case): give exactly one of `input`");

    const badVar = exampleWith(
      {},
      { "config/llm.json": moveCoding, "prompts/coding-agent.md": "Work in {{repository}}." },
    );
    const template = await evalCli(badVar, sim, ["--base", "main", "--head", "pr"]);
    expect(template.code).toBe(2);
    expect(template.stderr).toContain(
      "prompts/coding-agent.md: {{repository}} has no value in the vars of case code-001",
    );
  });

  it("judge asserts are graded by the judge model, never by the model under test", async () => {
    const sim = await simulator();
    const policy = readFileSync(
      join(ROOT, "examples/acme-support/base/.github/modelgate.yml"),
      "utf8",
    ).replace("  max_cases: 200\n", "  max_cases: 200\n  judge_model: gpt-5.4-mini\n");
    const judged = (id: string, model?: string) =>
      JSON.stringify({
        id,
        route: "general_qna",
        input: "How do I reset my password?",
        assert: [{ type: "judge", rubric: "Mentions the reset link.", ...(model ? { model } : {}) }],
      });
    const repo = exampleWith(
      {
        ".github/modelgate.yml": policy,
        "evals/judged.jsonl": `${judged("judged-1")}\n${judged("judged-self", "gpt-5.4")}\n`,
      },
      { "config/llm.json": llmJson((d) => (d.llm.routes.general_qna = "gpt-5.5")) },
    );
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(sim.stats.byModel["gpt-5.4-mini"]).toBeGreaterThan(0);
    const self = run.result.cases.find((c) => c.id === "judged-self");
    expect(self?.base?.outcome).toBe("fail");
    expect(self?.base?.detail).toContain("judge: the judge model gpt-5.4 is the model under test");
    const graded = run.result.cases.find((c) => c.id === "judged-1");
    expect(graded?.base?.outcome === "pass" || graded?.base?.detail?.startsWith("judge:")).toBe(true);
  });

  it("a judge model the provider does not list: exit 2 naming the case and the model, before any completion", async () => {
    const sim = await simulator();
    const policy = readFileSync(
      join(ROOT, "examples/acme-support/base/.github/modelgate.yml"),
      "utf8",
    ).replace("  max_cases: 200\n", "  max_cases: 200\n  judge_model: gpt-9-judge\n");
    const repo = exampleWith(
      {
        ".github/modelgate.yml": policy,
        "evals/judged.jsonl": `${JSON.stringify({
          id: "judged-1",
          route: "general_qna",
          input: "How do I reset my password?",
          assert: [{ type: "judge", rubric: "Mentions the reset link." }],
        })}\n`,
      },
      { "config/llm.json": llmJson((d) => (d.llm.routes.general_qna = "gpt-5.5")) },
    );
    const run = await evalCli(repo, sim, ["--base", "main", "--head", "pr"]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /evals\/judged\.jsonl:1 case judged-1: the judge model 'gpt-9-judge' is not among the provider's models; set evals\.judge_model/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(Object.keys(sim.stats.byModel)).toEqual([]);
  });

  it("a run killed mid-way leaves a partial result on disk", async () => {
    const sim = await simulator(undefined, 0.2);
    const repo = makeExampleRepo(tempDir()).dir;
    const out = join(tempDir(), "result.json");
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "src/cli/bin.ts"),
        "eval",
        "--repo",
        repo,
        "--base",
        "main",
        "--head",
        "migrate-agentic-coding",
        "--all",
      ].concat(["--out", out, "--no-cache", "--concurrency", "2"]),
      { env: { ...process.env, OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" }, stdio: "ignore" },
    );
    const deadline = Date.now() + 20_000;
    while (!existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const result = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
    expect(result.partial).toBe(true);
    expect(result.cases.some((c) => c.base || c.head)).toBe(true);
    expect(result.cases.some((c) => !c.base || !c.head)).toBe(true);
  });
});
