import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { EvalResult } from "../src/core/result.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { expectedExit } from "./support/cli.ts";
import { tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 14, part 1: the pre-run cost estimate, over the real wire (CLI → `openai` SDK →
 * simulator) on the example repo, with a budget in the base's policy.
 */
const servers: Simulator[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The example repo with `policy` appended to the base's modelgate.yml (and merged into the head). */
function repoWithPolicy(
  policy: string,
  options: { extraCases?: number; edit?: (text: string) => string } = {},
): string {
  const dir = makeExampleRepo(tempDir(), { extraCases: options.extraCases ?? 0 }).dir;
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
  const file = join(dir, ".github/modelgate.yml");
  const edit = options.edit ?? ((text: string) => text);
  writeFileSync(file, `${edit(readFileSync(file, "utf8"))}${policy}\n`);
  git("commit", "--quiet", "-am", "budget");
  git("checkout", "--quiet", "migrate-agentic-coding");
  git("merge", "--quiet", "--no-edit", "main");
  git("checkout", "--quiet", "main");
  return dir;
}

async function evalRun(repo: string, sim: Simulator, args: string[], cacheHome: string) {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  let stderr = "";
  const code = await runCli(
    [
      "eval",
      "--repo",
      repo,
      "--base",
      "main",
      "--head",
      "migrate-agentic-coding",
      "--out",
      out,
      "--markdown",
      md,
      ...args,
    ],
    {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test", XDG_CACHE_HOME: cacheHome },
    },
  );
  return {
    code,
    stderr,
    out,
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
  };
}

const completions = (sim: Simulator) => Object.values(sim.stats.byModel).reduce((a, b) => a + b, 0);

describe("pre-run cost estimate", () => {
  it("refuses a run whose estimate exceeds budget.max_run_cost_usd before any completion request (exit 2, both numbers, --force)", async () => {
    const repo = repoWithPolicy("budget: { max_run_cost_usd: 1 }");
    const sim = await startExampleSimulator();
    servers.push(sim);
    const run = await evalRun(repo, sim, [], tempDir());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /cost estimate base: ~\d+ tokens, \$[\d.]+ \(from prompt_size 24; prompt sizes are approximate/,
    );
    expect(run.stderr).toMatch(/cost estimate head: /);
    expect(run.stderr).toMatch(/cost estimate total: /);
    expect(run.stderr).toMatch(
      /estimated run cost \$[\d.]+ \(every selected pair, base: prompt_size, head: prompt_size\) exceeds budget\.max_run_cost_usd \$1\.00: pass --force/,
    );
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    // Only pre-flight reached the provider: GET /models, no completion.
    expect(sim.stats.requests).toBe(1);
    expect(completions(sim)).toBe(0);
    expect(run.result).toBeUndefined();
  });

  it("--force runs anyway and records estimate vs actual; a second run estimates from the cache, close to the actual", async () => {
    const repo = repoWithPolicy("budget: { max_run_cost_usd: 1 }");
    const sim = await startExampleSimulator();
    servers.push(sim);
    const cacheHome = tempDir();
    const first = await evalRun(repo, sim, ["--force"], cacheHome);
    expect(first.code, first.stderr).toBe(expectedExit(first.result));
    const recorded = first.result?.cost_estimate;
    expect(recorded?.estimate.source).toBe("base: prompt_size, head: prompt_size");
    expect(recorded?.estimate.base.approximate).toBe(true);
    const actual = recorded?.actual;
    expect(actual?.total.cost_usd).toBeGreaterThan(0);
    // The worst case: every selected pair, every attempt at the output cap.
    expect(actual?.total.cost_usd ?? Infinity).toBeLessThanOrEqual(recorded?.estimate.total.cost_usd ?? 0);
    expect(actual?.total.spend_usd).toBeCloseTo(actual?.total.cost_usd ?? -1, 10);
    expect(first.markdown).toMatch(
      /\*\*Cost:\*\* estimated \$[\d.]+ if every selected pair runs \(base \$[\d.]+ from prompt sizes and output caps, a worst case; head \$[\d.]+ from prompt sizes and output caps, a worst case\) · actual \$[\d.]+, of which new spend \$[\d.]+\./,
    );
    const firstCompletions = completions(sim);
    expect(firstCompletions).toBeGreaterThan(0);

    // Same cache: every attempt that ran is replayed, so the estimate is the cached figures, and
    // nothing new is spent, so the budget does not refuse it.
    const second = await evalRun(repo, sim, [], cacheHome);
    expect(second.code, second.stderr).toBe(expectedExit(second.result));
    expect(completions(sim)).toBe(firstCompletions);
    const again = second.result?.cost_estimate;
    expect(again?.estimate.base.source).toBe("cache");
    expect(again?.estimate.head.source).toBe("cache");
    expect(again?.estimate.total.spend_usd).toBe(0);
    expect(second.stderr).toMatch(/cost estimate base: \d+ tokens, \$[\d.]+ \(from cache 24\)/);
    const estimated = again?.estimate.total.cost_usd ?? 0;
    const reported = again?.actual?.total.cost_usd ?? 0;
    expect(Math.abs(estimated - reported) / reported).toBeLessThan(0.01);
    expect(again?.actual?.total.spend_usd).toBe(0);
  });

  it("a re-run with more cases sizes the unknown ones from the cached cases of the same model and route", async () => {
    // Fixed-N, so the second run's actual spend covers every selected pair, as the estimate does.
    const repo = repoWithPolicy("", {
      extraCases: 200,
      edit: (text) => text.replace("  max_cases: 200\n", "  max_cases: 200\n  sequential: false\n"),
    });
    const sim = await startExampleSimulator();
    servers.push(sim);
    const cacheHome = tempDir();
    const first = await evalRun(repo, sim, ["--max-cases", "40"], cacheHome);
    expect(first.code, first.stderr).toBe(expectedExit(first.result));
    expect(first.result?.cases).toHaveLength(40);

    const second = await evalRun(repo, sim, ["--max-cases", "200"], cacheHome);
    expect(second.code, second.stderr).toBe(expectedExit(second.result));
    const recorded = second.result?.cost_estimate;
    // The sample is a prefix of the seeded sequence: the first 40 are cached, the rest are like them.
    expect(recorded?.estimate.head.sources).toEqual({ cache: 40, similar: 160 });
    expect(recorded?.estimate.base.sources).toEqual({ cache: 40, similar: 160 });
    expect(second.stderr).toMatch(/from cache 40, similar 160; unknown cases at the mean of known ones/);
    expect(second.markdown).toMatch(/from mixed sources/);
    const estimated = recorded?.estimate.total.cost_usd ?? 0;
    const actual = recorded?.actual?.total.cost_usd ?? 0;
    const error = (estimated - actual) / actual;
    console.log(
      `estimate from 40 cached + 160 similar cases: $${estimated.toFixed(3)} vs actual $${actual.toFixed(3)} (${(error * 100).toFixed(1)} %)`,
    );
    expect(Math.abs(error)).toBeLessThan(0.2);
  });

  it("--baseline FILE sizes the base from the last result when nothing is cached", async () => {
    const repo = repoWithPolicy("");
    const sim = await startExampleSimulator();
    servers.push(sim);
    const first = await evalRun(repo, sim, ["--no-cache"], tempDir());
    expect(first.code, first.stderr).toBe(expectedExit(first.result));
    const second = await evalRun(repo, sim, ["--no-cache", "--baseline", first.out], tempDir());
    expect(second.code, second.stderr).toBe(expectedExit(second.result));
    const estimate = second.result?.cost_estimate?.estimate;
    expect(estimate?.base.source).toBe("baseline");
    expect(estimate?.head.source).toBe("prompt_size");
    expect(estimate?.base.cost_usd).toBeCloseTo(first.result?.cost_estimate?.actual?.base.cost_usd ?? -1, 10);
  });

  it("a --baseline that is not a result file is a usage error naming it (exit 2), before any request", async () => {
    const repo = repoWithPolicy("");
    const sim = await startExampleSimulator();
    servers.push(sim);
    const bad = join(tempDir(), "bad.json");
    writeFileSync(bad, '{"schema_version": 1}');
    const run = await evalRun(repo, sim, ["--baseline", bad], tempDir());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--baseline:");
    expect(run.stderr).toContain("bad.json");
    expect(sim.stats.requests).toBe(0);
  });
});
