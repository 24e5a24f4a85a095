import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { CaseResult, EvalResult } from "../src/core/result.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { type EvalInProcess, EXAMPLE_POLICY, evalInProcess, ROOT } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 13, part 3: the app's own token caps (its LLM config's `budget_controls`) applied inside
 * the eval as production applies them. The CLI in-process, the `openai` SDK, the simulator on
 * loopback and real git repos built from the bundled example.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

async function simulator(): Promise<Simulator> {
  const sim = await startExampleSimulator(undefined, 0);
  simulators.push(sim);
  return sim;
}

type Doc = Record<string, Record<string, unknown>> & { llm: { routes: Record<string, unknown> } };

function llmJson(mutate: (doc: Doc) => void): string {
  const doc = JSON.parse(
    readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8"),
  ) as Doc;
  mutate(doc);
  return JSON.stringify(doc, null, 2);
}

/** Every selected case runs (fixed-N), so which cases a cap fails is the same on every run. */
function policyWith(settings = ""): string {
  return EXAMPLE_POLICY.replace("evals:\n", "evals:\n  sequential: false\n").replace(
    "    retry_limit: llm.retry_limit\n",
    `    retry_limit: llm.retry_limit\n${settings}`,
  );
}

function exampleWith(baseFiles: Record<string, string>, headFiles: Record<string, string>): string {
  const dir = makeExampleRepo(tempDir()).dir;
  if (Object.keys(baseFiles).length) commitFiles(dir, baseFiles, "base tweak");
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, headFiles, "the pull request");
  return dir;
}

const headModel = (d: Doc) => {
  d.llm.routes.agentic_coding = "gpt-5.5";
};

/** What each side answered, without the wall-clock parts. */
function sides(cases: readonly CaseResult[], side: "base" | "head") {
  return cases.map((c) => {
    const s = c[side];
    return { id: c.id, outcome: s?.outcome, tokens: s?.tokens, attempts: s?.attempts, detail: s?.detail };
  });
}

async function runWithCache(repo: string, sim: Simulator, cacheDir: string): Promise<EvalResult> {
  const out = join(tempDir(), "result.json");
  const code = await runCli(
    ["eval", "--repo", repo, "--base", "main", "--head", "pr", "--out", out, "--cache-dir", cacheDir],
    {
      stdout: () => {},
      stderr: () => {},
      isTTY: false,
      env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
    },
  );
  expect(code).toBeLessThan(2);
  return JSON.parse(readFileSync(out, "utf8")) as EvalResult;
}

describe("the app's own token caps in the eval", () => {
  it("a head whose tasks exceed the app's per-task cap fails those cases with the cap and its key; the base runs under its own cap", async () => {
    const sim = await simulator();
    // The other routes keep their own cap on both sides, so only agentic_coding is selected.
    const keepOthers = (d: Doc) => {
      d.budget_controls = {
        ...d.budget_controls,
        route_caps: { general_qna: 150_000, ticket_triage: 150_000 },
      };
    };
    const policy = { ".github/modelgate.yml": policyWith(), "config/llm.json": llmJson(keepOthers) };
    const reference = await evalInProcess(
      exampleWith(policy, {
        "config/llm.json": llmJson((d) => {
          keepOthers(d);
          headModel(d);
        }),
      }),
      ["--base", "main", "--head", "pr"],
      sim.url,
    );
    // A fresh simulator answers the same requests the same way (its draws count sightings).
    const capped = await evalInProcess(
      exampleWith(policy, {
        "config/llm.json": llmJson((d) => {
          keepOthers(d);
          headModel(d);
          d.budget_controls = { ...d.budget_controls, per_task_token_cap: 1000 };
        }),
      }),
      ["--base", "main", "--head", "pr"],
      (await simulator()).url,
    );
    expect(capped.stderr).not.toMatch(/internal error/);
    expect(capped.result.cases.every((c) => c.route === "agentic_coding")).toBe(true);
    // The base keeps the example's 150,000 cap: it answers exactly as without the head's cap.
    expect(sides(capped.result.cases, "base")).toEqual(sides(reference.result.cases, "base"));
    const over = capped.result.cases.filter((c) => /over the app's/.test(c.head?.detail ?? ""));
    const wasOver = reference.result.cases.filter((c) => (c.head?.tokens ?? 0) > 1000);
    expect(over.length).toBeGreaterThan(0);
    expect(over.map((c) => c.id).sort()).toEqual(wasOver.map((c) => c.id).sort());
    for (const c of over) {
      expect(c.head?.outcome).toBe("fail");
      expect(c.head?.tokens).toBeGreaterThan(1000);
      expect(c.head?.detail).toMatch(
        /^used [\d,]+ tokens, over the app's per-task cap 1,000 \(budget_controls\.per_task_token_cap\)/,
      );
    }
    // Under the cap nothing changes; over it, a fail like any fail: in the KPIs, not a partial run.
    const under = (r: EvalInProcess) =>
      sides(r.result.cases, "head").filter((c) => !over.some((o) => o.id === c.id));
    expect(under(capped)).toEqual(under(reference));
    expect(capped.result.partial).toBeFalsy();
    expect(capped.result.head.kpis.completion_rate).toBeLessThan(
      reference.result.head.kpis.completion_rate ?? 0,
    );
    expect(capped.code).toBe(1);
  });

  it("a change of the cap alone selects the routes it caps and judges them under the new cap", async () => {
    const sim = await simulator();
    const run = await evalInProcess(
      exampleWith(
        { ".github/modelgate.yml": policyWith() },
        {
          "config/llm.json": llmJson((d) => {
            d.budget_controls = { ...d.budget_controls, route_caps: { agentic_coding: 1000 } };
          }),
        },
      ),
      ["--base", "main", "--head", "pr"],
      sim.url,
    );
    expect(run.result.selection.reasons).toEqual([
      { route: "agentic_coding", reason: "app token cap changed (150000 → 1000)" },
    ]);
    expect(run.result.cases.every((c) => c.route === "agentic_coding")).toBe(true);
    const over = run.result.cases.filter((c) => c.head?.detail?.includes("over the app's route cap 1,000"));
    expect(over.length).toBeGreaterThan(0);
    expect(over.every((c) => c.head?.detail?.includes("(budget_controls.route_caps.agentic_coding)"))).toBe(
      true,
    );
  });

  it("a policy with custom key paths reads the route cap there; the route cap wins over the per-task cap", async () => {
    const sim = await simulator();
    const policy = {
      ".github/modelgate.yml": policyWith(
        "    per_task_token_cap: limits.task\n    route_caps: limits.routes\n",
      ),
    };
    const run = await evalInProcess(
      exampleWith(policy, {
        "config/llm.json": llmJson((d) => {
          headModel(d);
          d.limits = { task: 100_000, routes: { agentic_coding: 900 } };
        }),
      }),
      ["--base", "main", "--head", "pr"],
      sim.url,
    );
    const over = run.result.cases.filter((c) => c.head?.detail?.includes("over the app's"));
    expect(over.length).toBeGreaterThan(0);
    for (const c of over) {
      expect(c.head?.detail).toMatch(/over the app's route cap 900 \(limits\.routes\.agentic_coding\)/);
    }
    // The default keys are not read once the policy names others: the base has no cap there.
    expect(run.result.cases.some((c) => c.base?.detail?.includes("over the app's"))).toBe(false);
  });

  it("a cap that is not a positive number is the user's to fix: exit 2 naming the file and key", async () => {
    const sim = await simulator();
    const run = await evalInProcess(
      exampleWith(
        { ".github/modelgate.yml": policyWith() },
        {
          "config/llm.json": llmJson((d) => {
            headModel(d);
            d.budget_controls = { ...d.budget_controls, route_caps: { agentic_coding: "lots" } };
          }),
        },
      ),
      ["--base", "main", "--head", "pr"],
      sim.url,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /config\/llm\.json.*budget_controls\.route_caps\.agentic_coding: expected a positive token cap/,
    );
    expect(run.stderr).not.toMatch(/internal error| {4}at /);
  });

  it("the attempt cache keys the cap: a cached run does not hide a cap lowered later", async () => {
    const sim = await simulator();
    const cacheDir = tempDir();
    const policy = { ".github/modelgate.yml": policyWith() };
    const first = await runWithCache(
      exampleWith(policy, { "config/llm.json": llmJson(headModel) }),
      sim,
      cacheDir,
    );
    expect(first.cases.some((c) => c.head?.detail?.includes("over the app's"))).toBe(false);
    const lowered = await runWithCache(
      exampleWith(policy, {
        "config/llm.json": llmJson((d) => {
          headModel(d);
          d.budget_controls = { ...d.budget_controls, per_task_token_cap: 1000 };
        }),
      }),
      // The same provider: the cache is keyed by the endpoint, so a new port would be a new provider.
      sim,
      cacheDir,
    );
    expect(lowered.cases.some((c) => c.head?.detail?.includes("over the app's per-task cap 1,000"))).toBe(
      true,
    );
    // The base's caps did not change, so its attempts are all cache hits.
    // Every route's cap moved, so every route is selected; agentic_coding's base ran before.
    const coding = lowered.cases.filter((c) => c.route === "agentic_coding");
    expect(coding.length).toBeGreaterThan(0);
    expect(coding.every((c) => c.base?.cached === true)).toBe(true);
    expect(lowered.cases.some((c) => c.head?.cached !== true)).toBe(true);
  });
});
