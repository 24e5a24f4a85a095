import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import { classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { mergeResults } from "../src/core/merge-results.ts";
import type { EvalResult } from "../src/core/result.ts";
import type { TreeSource } from "../src/core/source.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { EXAMPLE_POLICY } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Sequential gates end to end (issue 10, "done when"): the CLI in-process, the `openai` SDK,
 * the simulator on loopback HTTP, and a real git repository whose PR moves one route to
 * another model. The simulated models are made exactly as good as each scenario needs.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

/** A simulator where gpt-5.4 (base) always answers right and gpt-5.5 (head) with `headQuality`. */
async function simulator(headQuality: number): Promise<Simulator> {
  const model = (quality: number) => ({ quality, takeover: 0, format_drift: 0 });
  const sim = await startExampleSimulator({
    models: { "gpt-5.4": model(1), "gpt-5.5": model(headQuality) },
    answers: [{ match: "^Generated question", answer: "Here is the answer you asked for." }],
  });
  simulators.push(sim);
  return sim;
}

function generatedCases(count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      id: `gen-${String(i + 1).padStart(4, "0")}`,
      route: "general_qna",
      prompt: "prompts/qna.md",
      vars: { product: "Acme" },
      input: `Generated question ${i + 1}?`,
      assert: [{ type: "contains", value: "the answer" }],
    }),
  )
    .join("\n")
    .concat("\n");
}

/** The example repo with `count` generated cases on main, and a PR moving general_qna to gpt-5.5. */
function repoWith(count: number, policy: (yml: string) => string = (yml) => yml): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const yml = EXAMPLE_POLICY;
  commitFiles(
    dir,
    {
      "evals/coding.jsonl": null,
      "evals/qna.jsonl": null,
      "evals/triage.jsonl": null,
      "evals/generated.jsonl": generatedCases(count),
      ".github/modelgate.yml": policy(yml),
    },
    "generated suite",
  );
  git(dir, "checkout", "--quiet", "-b", "pr");
  const llm = JSON.parse(readFileSync(join(dir, "config/llm.json"), "utf8")) as {
    llm: { routes: Record<string, string> };
  };
  llm.llm.routes.general_qna = "gpt-5.5";
  commitFiles(dir, { "config/llm.json": `${JSON.stringify(llm, null, 2)}\n` }, "move general_qna to gpt-5.5");
  return dir;
}

interface Run {
  code: number;
  result: EvalResult;
  markdown: string;
}

async function evalCli(repo: string, sim: Simulator, args: string[] = []): Promise<Run> {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  const code = await runCli(
    [
      "eval",
      "--repo",
      repo,
      "--base",
      "main",
      "--head",
      "pr",
      "--out",
      out,
      "--markdown",
      md,
      "--no-cache",
      ...args,
    ],
    {
      stdout: () => {},
      stderr: () => {},
      isTTY: false,
      env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test", MODELGATE_INTERNAL_RETRY_FLOOR_MS: "5" },
    },
  );
  return {
    code,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : ({} as EvalResult),
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
  };
}

/** Completion requests the simulator answered (the model list is not one). */
function completions(sim: Simulator): number {
  return (sim.stats.byModel["gpt-5.4"] ?? 0) + (sim.stats.byModel["gpt-5.5"] ?? 0);
}

describe("sequential gates: done when", () => {
  it("an unchanged head with 400 available cases passes on at most 60 % of them, and the rest are never requested", async () => {
    const sim = await simulator(1);
    const run = await evalCli(repoWith(400), sim, ["--max-cases", "400"]);
    expect(run.result.verdict).toBe("pass");
    expect(run.code).toBe(0);
    expect(run.result.partial).toBe(false);
    const sequence = run.result.sequential;
    expect(sequence).toMatchObject({ mode: "sequential", planned_pairs: 400, stopped_early: true });
    expect(sequence?.pairs).toBeLessThanOrEqual(240);
    // Cases not started are not requests: what the simulator saw is what the result counts.
    const started = run.result.cases.filter((c) => c.base || c.head).length;
    expect(started).toBeLessThanOrEqual(240 + 8);
    expect(completions(sim)).toBe(run.result.base.requests + run.result.head.requests);
    expect(sequence?.calls_saved).toBe(2 * (400 - started));
    // The judged pairs are the prefix of the sequence the result lists them in.
    const judged = run.result.cases.slice(0, sequence?.pairs);
    expect(judged.every((c) => c.base && c.head)).toBe(true);
    expect(run.markdown).toMatch(/stopped after \d+ of 400 pairs/);
  });

  it("a head that fails half the cases fails on at most 50 % of them (exit 1)", async () => {
    // Each attempt is an independent draw and a case gets retry_limit (2) retries, so a head that
    // finally fails half its cases hits on 1 − 0.5^(1/3) ≈ 20.6 % of attempts.
    const sim = await simulator(1 - 0.5 ** (1 / 3));
    const run = await evalCli(repoWith(400), sim, ["--max-cases", "400"]);
    expect(run.result.verdict).toBe("fail");
    expect(run.code).toBe(1);
    expect(run.result.sequential?.pairs).toBeLessThanOrEqual(200);
    expect(run.result.sequential?.stopped_early).toBe(true);
  });

  it("30 identical cases are inconclusive, and a model change makes that a failing check (exit 1) that the comment explains", async () => {
    const sim = await simulator(1);
    const run = await evalCli(repoWith(30), sim);
    expect(run.result.verdict).toBe("inconclusive");
    expect(run.result.gates_config?.on_inconclusive).toBe("fail");
    expect(run.code).toBe(1);
    expect(run.result.sequential).toMatchObject({ pairs: 30, planned_pairs: 30, stopped_early: false });
    expect(run.result.gates.some((g) => g.status === "inconclusive")).toBe(true);
    expect(run.markdown).toMatch(/inconclusive verdict is a \*\*failing\*\* check/);
  });

  it("30 identical cases: each undecided gate says how many more pairs would likely decide it", async () => {
    const sim = await simulator(1);
    const run = await evalCli(repoWith(30), sim);
    const undecided = run.result.gates.filter((g) => g.status === "inconclusive");
    expect(undecided.length).toBeGreaterThan(0);
    expect(undecided.every((g) => g.pairs_to_decide !== undefined)).toBe(true);
    // A number, not just the field: identical pairs are heading for a pass, so some gate projects it.
    expect(undecided.some((g) => typeof g.pairs_to_decide === "number" && g.pairs_to_decide > 0)).toBe(true);
    expect(run.markdown).toMatch(/more pairs (would likely|are unlikely to) decide it/);
  });

  it("fixed-N mode (evals.sequential: false) runs every selected case and judges once", async () => {
    const sim = await simulator(1);
    const repo = repoWith(60, (yml) =>
      yml.replace("  max_cases: 200", "  max_cases: 200\n  sequential: false"),
    );
    const run = await evalCli(repo, sim);
    expect(run.result.sequential).toMatchObject({
      mode: "fixed",
      planned_pairs: 60,
      pairs: 60,
      stopped_early: false,
      calls_saved: 0,
    });
    expect(run.result.cases.every((c) => c.base && c.head)).toBe(true);
    expect(completions(sim)).toBe(120);
  });

  it("a case the head cannot run (its prompt is gone on the head) is a head error in the pair, never silently left out", async () => {
    const sim = await simulator(1);
    const repo = repoWith(40);
    commitFiles(repo, { "prompts/qna.md": null }, "drop the prompt on the head");
    const run = await evalCli(repo, sim);
    const judged = run.result.cases.filter((c) => c.base && c.head);
    expect(judged.length).toBeGreaterThan(0);
    for (const c of judged) {
      expect(c.head?.outcome).toBe("error");
      expect(c.head?.detail).toContain("the head cannot run this case");
    }
    expect(sim.stats.byModel["gpt-5.5"] ?? 0).toBe(0);
    expect(run.result.verdict).not.toBe("pass");
    expect(run.code).toBe(1);
  });

  it("shards never stop early, and merge replays their pairs in the shared sequence order", async () => {
    const sim = await simulator(1);
    const llm = (model: string) =>
      JSON.stringify({ llm: { default_model: "gpt-5.4", routes: { general_qna: model }, retry_limit: 0 } });
    const suite = generatedCases(80).replaceAll('"prompt":"prompts/qna.md",', "");
    const source = (model: string): TreeSource => {
      const files: Record<string, string> = { "config/llm.json": llm(model), "evals/cases.jsonl": suite };
      return {
        label: model,
        readFiles: async (paths) => new Map(paths.map((p) => [p, files[p] ?? null])),
        listFiles: async () => Object.keys(files),
      };
    };
    const config = defaultConfig();
    const classification = classifyChange(compilePolicy(config), {
      changes: [{ path: "config/llm.json", status: "modified" }],
      base: () => llm("gpt-5.4"),
      head: () => llm("gpt-5.5"),
    });
    const client = createOpenAIClient({ baseURL: sim.url, apiKey: "sk-test", maxRetries: 0 });
    const shards = await Promise.all(
      [1, 2].map((index) =>
        evaluate({
          base: source("gpt-5.4"),
          head: source("gpt-5.5"),
          config,
          classification,
          client,
          shard: { index, count: 2 },
        }),
      ),
    );
    for (const shard of shards) {
      expect(shard.sequential).toMatchObject({ stopped_early: false, calls_saved: 0, planned_pairs: 40 });
      expect(shard.cases.every((c) => c.base && c.head)).toBe(true);
    }
    const merged = mergeResults(shards.map((result, i) => ({ label: `shard-${i + 1}.json`, result })));
    expect(merged.sequential).toMatchObject({
      mode: "sequential",
      seed: "modelgate",
      planned_pairs: 80,
      pairs: 80,
      stopped_early: false,
    });
    expect(merged.gates_config?.on_inconclusive).toBe("fail");
  });
});
