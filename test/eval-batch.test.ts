import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { CaseResult, EvalResult } from "../src/core/result.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { type BatchStub, startBatchStub } from "./support/batch-stub.ts";
import { expectedExit, ROOT } from "./support/cli.ts";
import { tempDir } from "./support/git.ts";
import { waitForOutput } from "./support/net.ts";
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

async function evalRun(repo: string, url: string, args: string[], cacheHome: string) {
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

  it("shares the cache both ways: a run after the other sends nothing", async () => {
    const repo = exampleRepo({ fixed: true });
    const cacheHome = tempDir();
    const first = await providers();
    const batch = await evalRun(repo, first.stub.url, ["--batch"], cacheHome);
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    expect(first.stub.created.length).toBeGreaterThan(1);
    // Interactive after batch, same provider address: every attempt is a cache hit.
    const interactive = await evalRun(repo, first.stub.url, [], cacheHome);
    const sent = completions(first.sim);
    expect(interactive.code, interactive.stderr).toBe(expectedExit(interactive.result));
    expect(interactive.result?.head.requests).toBe(0);
    expect(interactive.result?.base.requests).toBe(0);
    expect(interactive.result?.cases.map((c) => c.head?.outcome)).toEqual(
      batch.result?.cases.map((c) => c.head?.outcome),
    );
    // And batch after interactive: no batch at all.
    const cacheHome2 = tempDir();
    const interactiveFirst = await evalRun(repo, first.stub.url, [], cacheHome2);
    expect(interactiveFirst.result?.head.requests).toBeGreaterThan(0);
    const created = first.stub.created.length;
    const batchAfter = await evalRun(repo, first.stub.url, ["--batch"], cacheHome2);
    expect(batchAfter.code, batchAfter.stderr).toBe(expectedExit(batchAfter.result));
    expect(first.stub.created.length).toBe(created);
    expect(batchAfter.result?.batch).toEqual({ rounds: 0, batches: [] });
    expect(batchAfter.result?.head.cache_hits).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(0);
  });

  it("a retryable error line goes into the next round, as an interactive retry would", async () => {
    const repo = exampleRepo({ fixed: true });
    const { stub } = await providers();
    stub.fault = { status: { code: 500, count: 3 } };
    const run = await evalRun(repo, stub.url, ["--batch"], tempDir());
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    const result = run.result as EvalResult;
    expect(result.partial).toBe(false);
    // The three retried requests are in round 2 with the tool-loop steps; no case erred for them.
    expect(result.cases.every((c) => c.base?.outcome !== "error" && c.head?.outcome !== "error")).toBe(true);
    expect(stub.created[1]?.lines).toBeGreaterThanOrEqual(3);
  });

  for (const endAs of ["expired", "cancelled", "failed"] as const) {
    it(`a ${endAs} batch leaves a partial result: answered lines kept and cached, the rest not run`, async () => {
      const repo = exampleRepo({ fixed: true });
      const cacheHome = tempDir();
      const { stub } = await providers();
      // Every case (--all): the Q&A cases end in round 1, the coding cases need more rounds.
      stub.fault = { endAs, answerFirst: endAs === "failed" ? 0 : 60 };
      const run = await evalRun(repo, stub.url, ["--batch", "--all"], cacheHome);
      const result = run.result as EvalResult;
      expect(result.partial).toBe(true);
      const id = stub.created[0]?.id ?? "";
      expect(result.partial_reason).toContain(`batch ${id} ${endAs}`);
      expect(result.warnings).toContainEqual(expect.objectContaining({ code: "partial" }));
      expect(result.batch?.batches[0]).toMatchObject({ id, status: endAs, round: 1 });
      // Never a pass: exit code and message as for any partial run.
      expect(result.verdict).not.toBe("pass");
      expect(run.code, run.stderr).toBe(expectedExit(result));
      expect(run.stderr).toContain(`(partial: batch ${id} ${endAs}`);
      expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
      // Only one round: nothing was sent after the batch ended.
      expect(stub.created).toHaveLength(1);
      const ran = result.cases.flatMap((c) => [c.base, c.head]).filter((s) => s !== undefined);
      const notRun = result.cases.length * 2 - ran.length;
      expect(notRun).toBeGreaterThan(0);
      if (endAs !== "failed") {
        // Answers of the first lines that needed no further step are results (and cached).
        expect(ran.length).toBeGreaterThan(0);
        const again = await evalRun(repo, stub.url, ["--batch", "--all"], cacheHome);
        expect(again.result?.partial, again.stderr).toBe(false);
        // Every side that finished (errors are never cached) is a cache hit now.
        for (const [index, c] of result.cases.entries()) {
          for (const side of ["base", "head"] as const) {
            if (!c[side] || c[side]?.outcome === "error") continue;
            expect(again.result?.cases[index]?.[side]?.cached, `${c.id} ${side}`).toBe(true);
          }
        }
      } else {
        expect(ran).toHaveLength(0);
        expect(result.partial_reason).toContain("stub failure");
      }
    });
  }

  it("SIGTERM while polling: the CLI cancels the batch and writes a partial result naming it (exit 130)", async () => {
    const repo = exampleRepo({ fixed: true });
    const { stub } = await providers();
    stub.fault = { stayInProgress: true };
    const out = join(tempDir(), "result.json");
    const child = spawn(
      process.execPath,
      [join(ROOT, "src/cli/bin.ts"), "eval", "--repo", repo, "--base", "main"].concat([
        "--head",
        "migrate-agentic-coding",
        "--out",
        out,
        "--no-cache",
        "--batch",
      ]),
      {
        env: {
          ...process.env,
          OPENAI_BASE_URL: stub.url,
          OPENAI_API_KEY: "sk-test",
          MODELGATE_INTERNAL_BATCH_POLL_MS: "20",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitForOutput(child, /batch batch_\d+: in_progress/);
      child.kill("SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r("still running"), 5000)),
      ]);
      expect(code).toBe(130);
      const result = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
      const id = stub.created[0]?.id ?? "";
      expect(result.partial).toBe(true);
      expect(result.partial_reason).toBe(`interrupted while batch ${id} was in_progress (cancel requested)`);
      expect(stub.cancelled).toEqual([id]);
      expect(result.batch?.batches).toEqual([expect.objectContaining({ id, status: "in_progress" })]);
      expect(result.cases.every((c) => !c.base && !c.head)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});
