import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { CaseResult, EvalResult } from "../src/core/result.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { type BatchStub, startBatchStub } from "./support/batch-stub.ts";
import { expectedExit } from "./support/cli.ts";
import { tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 14, part 3: `modelgate eval --batch` over the real wire (CLI → `openai` SDK files and
 * batches clients → a loopback Batch API whose lines the simulator answers) on the example repo.
 */
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The example repo; `fixed` runs every selected pair (no sequential stop) so runs compare case by case. */
function exampleRepo(policy: { fixed?: boolean; extra?: string } = {}): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
  const file = join(dir, ".github/modelgate.yml");
  let text = readFileSync(file, "utf8");
  if (policy.fixed) text = text.replace("  max_cases: 200\n", "  max_cases: 200\n  sequential: false\n");
  if (policy.extra) text += `${policy.extra}\n`;
  writeFileSync(file, text);
  git("commit", "--quiet", "-am", "policy");
  git("checkout", "--quiet", "migrate-agentic-coding");
  git("merge", "--quiet", "--no-edit", "main");
  git("checkout", "--quiet", "main");
  return dir;
}

async function providers(): Promise<{ sim: Simulator; stub: BatchStub }> {
  const sim = await startExampleSimulator();
  const stub = await startBatchStub(sim.url);
  closers.push(
    () => stub.close(),
    () => sim.close(),
  );
  return { sim, stub };
}

async function evalRun(repo: string, url: string, args: string[], cacheHome: string, signal?: AbortSignal) {
  const out = join(tempDir(), "result.json");
  let stderr = "";
  const run = runCli(
    ["eval", "--repo", repo, "--base", "main", "--head", "migrate-agentic-coding", "--out", out, ...args],
    {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: {
        OPENAI_BASE_URL: url,
        OPENAI_API_KEY: "sk-test",
        XDG_CACHE_HOME: cacheHome,
        MODELGATE_INTERNAL_BATCH_POLL_MS: "5",
      },
    },
  );
  signal?.addEventListener("abort", () => process.emit("SIGTERM"));
  const code = await run;
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
  };
}

const completions = (sim: Simulator) => Object.values(sim.stats.byModel).reduce((a, b) => a + b, 0);

/** What a case's side says regardless of how it was sent: outcome, tokens, tool calls, model. */
function sideFacts(side: CaseResult["base"]) {
  if (!side) return undefined;
  return {
    outcome: side.outcome,
    attempts: side.attempts,
    tokens: side.tokens,
    tool_calls: side.tool_calls,
    model: side.model,
  };
}

describe("eval --batch", () => {
  it("gives the interactive run's case results at half the cost, tool loops in later rounds", async () => {
    const repo = exampleRepo({ fixed: true });
    // Two fresh simulators: its answers depend on how often it saw a request (retries), so each
    // run starts from the same state.
    const first = await providers();
    const interactive = await evalRun(repo, first.stub.url, [], tempDir());
    expect(interactive.code, interactive.stderr).toBe(expectedExit(interactive.result));
    expect(first.stub.created).toEqual([]);
    const { sim, stub } = await providers();
    const batch = await evalRun(repo, stub.url, ["--batch"], tempDir());
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    const a = interactive.result as EvalResult;
    const b = batch.result as EvalResult;
    expect(b.partial).toBe(false);
    expect(b.verdict).toBe(a.verdict);
    expect(b.cases.length).toBeGreaterThan(10);
    expect(b.cases.map((c) => c.id)).toEqual(a.cases.map((c) => c.id));
    for (const [index, c] of b.cases.entries()) {
      const i = a.cases[index] as CaseResult;
      expect(sideFacts(c.base), c.id).toEqual(sideFacts(i.base));
      expect(sideFacts(c.head), c.id).toEqual(sideFacts(i.head));
      // Batch pricing: the same tokens at half the list price.
      for (const side of ["base", "head"] as const) {
        expect(c[side]?.cost ?? Number.NaN, c.id).toBeCloseTo((i[side]?.cost ?? 0) * 0.5, 12);
        // A batch answer has no latency of its own: unknown, never 0.
        expect(c[side]?.latencies_ms, c.id).toEqual([]);
      }
    }
    expect(b.cost_estimate?.actual?.total.cost_usd ?? 0).toBeCloseTo(
      (a.cost_estimate?.actual?.total.cost_usd ?? 0) * 0.5,
      10,
    );
    // The estimate uses the batch price too.
    expect(b.cost_estimate?.estimate.total.cost_usd ?? 0).toBeCloseTo(
      (a.cost_estimate?.estimate.total.cost_usd ?? 0) * 0.5,
      10,
    );
    expect(b.mode).toBe("batch");
    expect(a.mode).toBeUndefined();
    // Round 1: every case's first step on both sides; the coding cases' tool loops go on after.
    const rounds = b.batch?.rounds ?? 0;
    expect(rounds).toBeGreaterThan(1);
    expect(b.batch?.batches.map((x) => x.id)).toEqual(stub.created.map((x) => x.id));
    expect(b.batch?.batches.every((x) => x.status === "completed")).toBe(true);
    expect(stub.created[0]?.lines).toBe(b.cases.length * 2);
    expect(b.head.requests + b.base.requests).toBe(a.head.requests + a.base.requests);
    expect(batch.stderr).toMatch(/modelgate: batch batch_\d+: round 1, \d+ requests submitted/);
    expect(completions(sim)).toBeGreaterThan(0);
  });
});
