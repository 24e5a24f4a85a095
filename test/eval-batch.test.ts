import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { CaseResult, EvalResult } from "../src/core/result.ts";
import {
  type Simulator,
  type SimulatorBatchOptions,
  type SimulatorProfiles,
  startSimulator,
} from "../src/simulator/index.ts";
import { expectedExit, ROOT } from "./support/cli.ts";
import { tempDir } from "./support/git.ts";
import { waitForOutput } from "./support/net.ts";
import { exampleProfiles } from "./support/simulator.ts";

/**
 * Issue 14, part 3: `modelgate eval --batch` over the real wire (CLI → `openai` SDK files and
 * batches clients → the simulator's `/v1/files` and `/v1/batches`) on the example repo.
 */
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The example repo; `fixed` runs every selected pair (no sequential stop) so runs compare case by case. */
function exampleRepo(policy: { fixed?: boolean; extra?: string; judge?: string } = {}): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
  const file = join(dir, ".github/modelgate.yml");
  let text = readFileSync(file, "utf8");
  if (policy.fixed) text = text.replace("  max_cases: 200\n", "  max_cases: 200\n  sequential: false\n");
  if (policy.extra) text += `${policy.extra}\n`;
  if (policy.judge) {
    text = text.replace("  max_cases: 200\n", `  max_cases: 200\n  judge_model: ${policy.judge}\n`);
    const judged = (id: string) =>
      JSON.stringify({
        id,
        route: "general_qna",
        input: `How do I reset my password? (${id})`,
        assert: [{ type: "judge", rubric: "Mentions the reset link." }],
      });
    writeFileSync(join(dir, "evals/judged.jsonl"), `${judged("judged-1")}\n${judged("judged-2")}\n`);
    git("add", "evals/judged.jsonl");
  }
  writeFileSync(file, text);
  git("commit", "--quiet", "-am", "policy");
  git("checkout", "--quiet", "migrate-agentic-coding");
  git("merge", "--quiet", "--no-edit", "main");
  git("checkout", "--quiet", "main");
  return dir;
}

/** The example's simulator as a real provider (no simulated label), with the Batch API's test hooks. */
async function simulator(batch: SimulatorBatchOptions = {}, overrides?: Partial<SimulatorProfiles>) {
  const sim = await startSimulator({
    profiles: await exampleProfiles(overrides),
    timeScale: 0,
    announce: false,
    batch,
  });
  closers.push(() => sim.close());
  return sim;
}

/** The batches the simulator holds, oldest first (read with the SDK, as a person would). */
async function batchesOf(sim: Simulator) {
  const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-test" });
  const all = [];
  for await (const batch of client.batches.list()) all.push(batch);
  return all.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
}

async function evalRun(
  repo: string,
  url: string,
  args: string[],
  cacheHome: string,
  extraEnv: Record<string, string> = {},
) {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  let stderr = "";
  const run = runCli(
    ["eval", "--repo", repo, "--base", "main", "--head", "migrate-agentic-coding", "--out", out]
      .concat(["--markdown", md])
      .concat(args),
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
        ...extraEnv,
      },
    },
  );
  const code = await run;
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
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
    // Two fresh simulators: an answer depends on how often the simulator saw the request
    // (retries), so each run starts from the same state.
    const first = await simulator();
    const interactive = await evalRun(repo, first.url, [], tempDir());
    expect(interactive.code, interactive.stderr).toBe(expectedExit(interactive.result));
    expect(await batchesOf(first)).toEqual([]);
    const sim = await simulator();
    const batch = await evalRun(repo, sim.url, ["--batch"], tempDir());
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    const a = interactive.result as EvalResult;
    const b = batch.result as EvalResult;
    expectSameCases(a, b);
    expect(b.verdict).toBe(a.verdict);
    expect(b.cases.length).toBeGreaterThan(10);
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
    const held = await batchesOf(sim);
    expect(b.batch?.batches.map((x) => x.id)).toEqual(held.map((x) => x.id));
    expect(held.every((x) => x.status === "completed" && x.endpoint === "/v1/chat/completions")).toBe(true);
    expect(b.batch?.batches.every((x) => x.status === "completed")).toBe(true);
    // One model per batch file (OpenAI's rule): round 1 is a batch per side.
    const roundOne = b.batch?.batches.filter((x) => x.round === 1) ?? [];
    expect(roundOne.map((x) => x.requests)).toEqual([b.cases.length, b.cases.length]);
    // Every request was a batch line: none went to the interactive endpoint.
    expect(sim.stats.batchLines).toBe(completions(first));
    expect(completions(sim)).toBe(sim.stats.batchLines);
    expect(b.head.requests + b.base.requests).toBe(a.head.requests + a.base.requests);
    expect(batch.stderr).toMatch(/modelgate: batch batch_\w+: round 1, \d+ requests submitted/);
    expect(batch.markdown).toContain(
      `**Sequence:** ${b.cases.length} of ${b.cases.length} pairs judged; batch mode (Batch API at batch prices, ${rounds} rounds, ${b.batch?.batches.length} batches) runs every pair: no early stop.`,
    );
  });

  it("judge calls are batched too (a round of their own model): the interactive verdicts", async () => {
    const repo = exampleRepo({ fixed: true, judge: "gpt-5.4-mini" });
    const first = await simulator();
    const interactive = await evalRun(repo, first.url, ["--all"], tempDir());
    const sim = await simulator();
    const batch = await evalRun(repo, sim.url, ["--batch", "--all"], tempDir());
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    expectSameCases(interactive.result as EvalResult, batch.result as EvalResult);
    expect(sim.stats.byModel["gpt-5.4-mini"] ?? 0).toBeGreaterThan(0);
    expect(sim.stats.byModel["gpt-5.4-mini"]).toBe(first.stats.byModel["gpt-5.4-mini"]);
    expect(completions(sim)).toBe(sim.stats.batchLines);
    const judged = batch.result?.cases.find((c) => c.id === "judged-1");
    expect(judged?.base?.outcome).toBeDefined();
    expect(judged?.base?.detail ?? "").not.toContain("judge: HTTP");
  });

  it("shares the cache both ways: a run after the other sends nothing", async () => {
    const repo = exampleRepo({ fixed: true });
    const cacheHome = tempDir();
    const sim = await simulator();
    const batch = await evalRun(repo, sim.url, ["--batch"], cacheHome);
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    const batches = (await batchesOf(sim)).length;
    expect(batches).toBeGreaterThan(1);
    // Interactive after batch, same provider: every attempt is a cache hit, nothing is sent.
    const sent = completions(sim);
    const interactive = await evalRun(repo, sim.url, [], cacheHome);
    expect(interactive.code, interactive.stderr).toBe(expectedExit(interactive.result));
    expect(completions(sim)).toBe(sent);
    expect(interactive.result?.head.requests).toBe(0);
    expect(interactive.result?.base.requests).toBe(0);
    expect(interactive.result?.cases.map((c) => c.head?.outcome)).toEqual(
      batch.result?.cases.map((c) => c.head?.outcome),
    );
    // And batch after interactive: no batch at all.
    const cacheHome2 = tempDir();
    const interactiveFirst = await evalRun(repo, sim.url, [], cacheHome2);
    expect(interactiveFirst.result?.head.requests).toBeGreaterThan(0);
    const sentBefore = completions(sim);
    const batchAfter = await evalRun(repo, sim.url, ["--batch"], cacheHome2);
    expect(batchAfter.code, batchAfter.stderr).toBe(expectedExit(batchAfter.result));
    expect(completions(sim)).toBe(sentBefore);
    expect((await batchesOf(sim)).length).toBe(batches);
    expect(batchAfter.result?.batch).toEqual({ rounds: 0, batches: [] });
    expect(batchAfter.result?.head.requests).toBe(0);
  });

  it("server errors and rate limits in error lines are retried in the next round: the interactive results", async () => {
    const repo = exampleRepo({ fixed: true });
    const faulty = { version: 1 as const, defaults: { errors: { server_error: 0.15, rate_limit: 0.1 } } };
    const env = { MODELGATE_INTERNAL_RETRY_FLOOR_MS: "0" };
    const first = await simulator({}, faulty);
    const interactive = await evalRun(repo, first.url, [], tempDir(), env);
    const sim = await simulator({}, faulty);
    const batch = await evalRun(repo, sim.url, ["--batch"], tempDir(), env);
    expect(batch.code, batch.stderr).toBe(expectedExit(batch.result));
    expect(first.stats.byStatus["500"] ?? 0).toBeGreaterThan(0);
    expect(first.stats.byStatus["429"] ?? 0).toBeGreaterThan(0);
    expectSameCases(interactive.result as EvalResult, batch.result as EvalResult);
    expect(batch.result?.partial).toBe(false);
  });

  it("a budget cap no round can fit: nothing is sent, the result is partial and names the cap", async () => {
    const repo = exampleRepo({ fixed: true, extra: "budget: { max_run_cost_usd: 0.0001 }" });
    const sim = await simulator();
    // --force: the estimate is far above the cap; the runtime cap still holds the run to it.
    const run = await evalRun(repo, sim.url, ["--batch", "--force"], tempDir());
    const result = run.result as EvalResult;
    expect(result.partial, run.stderr).toBe(true);
    expect(result.partial_reason).toMatch(
      /^batch round not sent: (\d+) of \1 requests could take the run past budget\.max_run_cost_usd \$0\.0001 .*\(budget\.max_run_cost_usd\)$/,
    );
    expect(result.batch?.rounds ?? 0).toBe(0);
    expect(await batchesOf(sim)).toHaveLength(0);
    expect(result.verdict).not.toBe("pass");
    expect(run.code, run.stderr).toBe(expectedExit(result));
  });

  it("a round is sent only as far as the budget covers it at worst; the rest waits for later rounds", async () => {
    // About ten requests fit at their worst (prompt + the 4,096-token cap); real answers cost far
    // less, so later rounds admit the rest and the run completes within the cap.
    const cap = 0.5;
    const repo = exampleRepo({ fixed: true, extra: `budget: { max_run_cost_usd: ${cap} }` });
    const sim = await simulator();
    const run = await evalRun(repo, sim.url, ["--batch", "--force"], tempDir());
    const result = run.result as EvalResult;
    expect(result.partial, run.stderr).toBe(false);
    expect(run.stderr).toMatch(
      /batch round: \d+ requests wait for a later round \(\d+ of 48 requests could take/,
    );
    const firstRound = (result.batch?.batches ?? []).filter((b) => b.round === 1);
    expect(firstRound.reduce((n, b) => n + b.requests, 0)).toBeLessThan(48);
    expect(result.cases.every((c) => c.base?.outcome && c.head?.outcome)).toBe(true);
    const spent = result.cases
      .flatMap((c) => [c.base?.cost, c.head?.cost])
      .reduce<number>((sum, cost) => sum + (cost ?? 0), 0);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(cap);
    expect(run.code, run.stderr).toBe(expectedExit(result));
  });

  it("an expired batch leaves a partial result: answered lines kept and cached, the rest not run", async () => {
    const repo = exampleRepo({ fixed: true });
    const cacheHome = tempDir();
    // Every case (--all): the Q&A cases end in round 1, the coding cases need more rounds.
    const sim = await simulator({ expireAt: (b) => (b.ordinal === 1 ? 0.6 : undefined) });
    const run = await evalRun(repo, sim.url, ["--batch", "--all"], cacheHome);
    const result = expectPartial(run, "expired");
    const ran = result.cases.flatMap((c) => [c.base, c.head]).filter((s) => s !== undefined);
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.length).toBeLessThan(result.cases.length * 2);
    // Only round 1 (a batch per model): nothing was sent after the batch ended.
    expect(await batchesOf(sim)).toHaveLength(2);
    expect(result.batch?.batches.map((x) => x.round)).toEqual([1, 1]);
    // The answered lines were cached: a second run does not send those sides again. (A case
    // whose sides send the same request, same model on both, shares one cache entry: the side
    // written last wins, even by a side the batch's end left unfinished: only sides whose twin
    // finished and agrees are checked.)
    const again = await evalRun(repo, sim.url, ["--batch", "--all"], cacheHome);
    expect(again.result?.partial, again.stderr).toBe(false);
    let checked = 0;
    for (const [index, c] of result.cases.entries()) {
      for (const [side, twin] of [
        ["base", "head"],
        ["head", "base"],
      ] as const) {
        const ran = c[side];
        if (!ran || ran.outcome === "error" || ran.attempts !== 1) continue;
        const other = c[twin];
        if (!other || (other.model === ran.model && other.outcome !== ran.outcome)) continue;
        checked++;
        expect(again.result?.cases[index]?.[side]?.cached, `${c.id} ${side}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("a batch cancelled by someone else leaves a partial result naming it", async () => {
    const repo = exampleRepo({ fixed: true });
    const sim = await simulator({ stopAt: (b) => (b.ordinal === 1 ? 0.5 : undefined) });
    const running = evalRun(repo, sim.url, ["--batch", "--all"], tempDir());
    const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-test" });
    let id: string | undefined;
    for (let i = 0; i < 500 && !id; i++) {
      const [batch] = await batchesOf(sim);
      if (batch?.status === "in_progress" && (batch.request_counts?.completed ?? 0) > 0) id = batch.id;
      else await new Promise((r) => setTimeout(r, 10));
    }
    if (!id) throw new Error("the batch never ran");
    await client.batches.cancel(id);
    const result = expectPartial(await running, "cancelled");
    expect(result.cases.some((c) => c.base || c.head)).toBe(true);
  });

  it("a failed batch leaves a partial result with the provider's reason", async () => {
    const repo = exampleRepo({ fixed: true });
    const sim = await simulator({
      stopAt: () => {
        throw new Error("validation broke");
      },
    });
    const result = expectPartial(await evalRun(repo, sim.url, ["--batch"], tempDir()), "failed");
    expect(result.partial_reason).toContain("validation broke");
    expect(result.cases.every((c) => !c.base && !c.head)).toBe(true);
  });

  it("a provider without the Batch API: a partial result naming the route, never a stack trace", async () => {
    const repo = exampleRepo({ fixed: true });
    // Chat completions and a model list, like vLLM or Ollama: no /files, no /batches.
    const server = createServer((req, res) => {
      req.resume();
      if (req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        const ids = ["gpt-5.4", "gpt-5.5", "gpt-5.4-mini"];
        res.end(
          JSON.stringify({ object: "list", data: ids.map((id) => ({ id, object: "model", owned_by: "x" })) }),
        );
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const run = await evalRun(repo, url, ["--batch"], tempDir());
    const result = run.result as EvalResult;
    expect(result.partial, run.stderr).toBe(true);
    expect(result.partial_reason).toBe(
      "batch round 1: could not submit file 1 (POST /files: HTTP 404: no route POST /v1/files); does this provider offer the Batch API? run without --batch / evals.mode: batch",
    );
    expect(result.verdict).not.toBe("pass");
    expect(run.code).toBe(expectedExit(result));
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("SIGTERM while polling: the CLI cancels the batch and writes a partial result naming it (exit 130)", async () => {
    const repo = exampleRepo({ fixed: true });
    const sim = await simulator({ stopAt: 0.5 });
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
          OPENAI_BASE_URL: sim.url,
          OPENAI_API_KEY: "sk-test",
          MODELGATE_INTERNAL_BATCH_POLL_MS: "20",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitForOutput(child, /batch batch_\w+: in_progress/);
      child.kill("SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r("still running"), 5000)),
      ]);
      expect(code).toBe(130);
      const result = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
      const held = await batchesOf(sim);
      expect(held).toHaveLength(2);
      expect(result.partial).toBe(true);
      for (const batch of held) {
        expect(result.partial_reason).toContain(
          `interrupted while batch ${batch.id} was in_progress (cancel requested)`,
        );
        // Nothing keeps spending on answers no one will read.
        expect(["cancelling", "cancelled"]).toContain(batch.status);
      }
      expect(result.batch?.batches.map((x) => x.id)).toEqual(held.map((x) => x.id));
      expect(result.cases.every((c) => !c.base && !c.head)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});

/**
 * Both runs have the same cases with the same outcomes and tokens; the batch one at half the
 * price and without latencies. A case whose sides send the same request (same model on both)
 * is compared as an unordered pair: the simulator answers a repeated request by how often it saw
 * it, and which side's identical request arrives first is not fixed in either mode.
 */
function expectSameCases(a: EvalResult, b: EvalResult) {
  expect(b.partial).toBe(false);
  expect(b.cases.map((c) => c.id)).toEqual(a.cases.map((c) => c.id));
  const facts = (c: CaseResult) => {
    const sides = [sideFacts(c.base), sideFacts(c.head)];
    return c.base?.model === c.head?.model ? sides.map((x) => JSON.stringify(x)).sort() : sides;
  };
  for (const [index, c] of b.cases.entries()) {
    const i = a.cases[index] as CaseResult;
    expect(facts(c), c.id).toEqual(facts(i));
    // Batch pricing: the same tokens at half the list price.
    const cost = (x: CaseResult) => (x.base?.cost ?? 0) + (x.head?.cost ?? 0);
    expect(cost(c), c.id).toBeCloseTo(cost(i) * 0.5, 12);
    for (const side of ["base", "head"] as const) {
      // A batch answer has no latency of its own: unknown, never 0.
      expect(c[side]?.latencies_ms, c.id).toEqual([]);
    }
  }
}

/** A partial batch run: the batch named with its status, never a pass, the exit of any partial run. */
function expectPartial(run: Awaited<ReturnType<typeof evalRun>>, status: string): EvalResult {
  const result = run.result as EvalResult;
  expect(result.partial, run.stderr).toBe(true);
  const id = result.batch?.batches[0]?.id ?? "";
  expect(id).toMatch(/^batch_/);
  expect(result.partial_reason).toContain(`batch ${id} ${status}`);
  expect(result.warnings).toContainEqual(expect.objectContaining({ code: "partial" }));
  expect(result.batch?.batches[0]).toMatchObject({ id, status, round: 1 });
  expect(result.verdict).not.toBe("pass");
  expect(run.code, run.stderr).toBe(expectedExit(result));
  expect(run.stderr).toContain(`(partial: batch ${id} ${status}`);
  expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  return result;
}
