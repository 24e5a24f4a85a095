import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseEvidence } from "../src/core/report/markdown.ts";
import type { CaseResult } from "../src/core/result.ts";
import {
  checkRunsOn,
  commentsOn,
  migrateChange,
  newWorkspace,
  openPull,
  pullRequestPayload,
  ROOT,
  readResult,
  readTree,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { EXAMPLE_POLICY } from "./support/cli.ts";
import { tempDir } from "./support/git.ts";

/** Issue 4 points 2, 5, 7, 8 and 11, through the committed dist/index.js. */

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * What must not change between a sharded and an unsharded run. Latencies are wall time, and
 * cost depends on cached prompt tokens, which depend on the order requests reach the simulator.
 */
function comparable(cases: readonly CaseResult[]) {
  const side = (s: CaseResult["base"]) => s && { outcome: s.outcome, attempts: s.attempts, tokens: s.tokens };
  return [...cases]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((c) => ({ id: c.id, route: c.route, base: side(c.base), head: side(c.head) }));
}

describe("Action at scale", () => {
  it("makes no provider request and opens no comment when nothing relevant changed", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "docs", { "README.md": "# Acme support\n\nBetter docs.\n" });
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.verdict).toBe("skipped");
    expect(world.sim.stats.requests).toBe(0);
    expect(commentsOn(world, number)).toHaveLength(0);
    expect(run.summary).toContain("SKIPPED");
    // The check run still records the verdict for this head.
    expect(checkRunsOn(world, head)[0]?.conclusion).toBe("skipped");
    expect(run.ms).toBeLessThan(5000);
  });

  it("says so when a PR has more than 3,000 files, and evaluates every route", async () => {
    world = await startWorld();
    const files: Record<string, string> = {};
    for (let i = 0; i < 3001; i++) files[`docs/pages/page-${String(i).padStart(4, "0")}.md`] = `page ${i}\n`;
    const { number } = openPull(world, "big", files);
    expect(world.emu.getPullRequest("acme", "support-bot", number).changed_files).toBe(3001);
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { concurrency: "16" },
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain(
      "::warning::GitHub lists at most 3,000 files of a PR and this one changes 3001",
    );
    const result = readResult(run.outputs["result-file"]);
    expect(result.selection.all).toBe(true);
    expect(result.warnings).toContainEqual({ code: "truncated_file_list", files: 3000 });
    const routes = new Set<string>();
    for (const [path, text] of Object.entries(readTree(join(ROOT, "examples/acme-support/base/evals")))) {
      void path;
      for (const line of text.split("\n"))
        if (line.trim()) routes.add((JSON.parse(line) as { route: string }).route);
    }
    expect(new Set(result.cases.map((c) => c.route))).toEqual(routes);
    expect(result.cases.every((c) => c.base && c.head)).toBe(true);
    const [comment] = commentsOn(world, number);
    expect(comment?.body).toContain("File list truncated");
    expect(comment?.body).toContain("GitHub lists at most 3,000 of the PR's 3001 files: every case runs");
  });

  it("fails the step after posting when a gate fails", async () => {
    const policy = EXAMPLE_POLICY;
    world = await startWorld({
      // gpt-5.5 never gets an answer right: the completion rate collapses on the migrated route.
      profileExtra: `
models:
  gpt-5.4:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
  gpt-5.5:
    quality: 0
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
`,
      baseOverrides: { ".github/modelgate.yml": policy.replace(/^gates:\n/m, "gates:\n  min_cases: 5\n") },
    });
    const { number, head } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::modelgate: FAIL: gate max_completion_rate_drop \(observed/);
    expect(run.outputs.verdict).toBe("fail");
    const [comment] = commentsOn(world, number);
    expect(parseEvidence(comment?.body ?? "")?.verdict).toBe("fail");
    expect(checkRunsOn(world, head)[0]?.conclusion).toBe("failure");

    const lenient = await runAction(world, {
      payload: pullRequestPayload(world, number, "synchronize"),
      inputs: { "fail-on-gate": "false" },
    });
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/::warning::modelgate: FAIL: gate .*fail-on-gate: false/);
  });

  it("serves the base side from the cache after a head-only push", async () => {
    world = await startWorld();
    const workspace = newWorkspace();
    // The cache lives under RUNNER_TEMP: the same folder in both runs models actions/cache.
    const env = { RUNNER_TEMP: tempDir() };
    const { number } = openPull(world, "migrate", migrateChange());
    const first = await runAction(world, { payload: pullRequestPayload(world, number), workspace, env });
    expect(first.code, first.stdout).toBe(stepCode(first));
    const firstResult = readResult(first.outputs["result-file"]);
    expect(firstResult.base.requests).toBeGreaterThan(0);
    const baseModelRequests = world.sim.stats.byModel["gpt-5.4"];

    // A second push changes only the head's settings of the migrated route.
    const llm = JSON.parse(migrateChange()["config/llm.json"] ?? "{}") as {
      llm: { routes: Record<string, unknown> };
    };
    llm.llm.routes.agentic_coding = { model: "gpt-5.5", max_output_tokens: 8192 };
    world.emu.commit("acme", "support-bot", "migrate", {
      "config/llm.json": `${JSON.stringify(llm, null, 2)}\n`,
    });
    const second = await runAction(world, {
      payload: pullRequestPayload(world, number, "synchronize"),
      workspace,
      env,
    });
    expect(second.code, second.stdout).toBe(stepCode(second));
    const result = readResult(second.outputs["result-file"]);
    expect(result.base.requests).toBe(0);
    expect(result.base.cache_hits).toBeGreaterThan(0);
    expect(result.head.requests).toBeGreaterThan(0);
    expect(world.sim.stats.byModel["gpt-5.4"]).toBe(baseModelRequests);
    const [comment] = commentsOn(world, number);
    expect(comment?.body).toMatch(
      /base \d+ cases, 0 attempts sent to the provider, \d+ attempts from the cache/,
    );
  });

  it("shards 1/2 + 2/2, merged by mode: merge, give the unsharded cases and one comment", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number);
    const inputs = { "cache-dir": "none" };
    const shards = await Promise.all(
      ["1/2", "2/2"].map((shard) => runAction(world as World, { payload, inputs: { ...inputs, shard } })),
    );
    for (const shard of shards) expect(shard.code, shard.stdout).toBe(0);
    // Shards post nothing to the PR: the merge job does.
    expect(commentsOn(world, number)).toHaveLength(0);
    expect(checkRunsOn(world, head)).toHaveLength(0);
    const parts = shards.map((s) => readResult(s.outputs["result-file"]));
    expect(parts.map((p) => p.shard)).toEqual(["1/2", "2/2"]);
    const ids = parts.flatMap((p) => p.cases.map((c) => c.id));
    expect(new Set(ids).size).toBe(ids.length);

    const merged = await runAction(world, {
      payload,
      inputs: { mode: "merge", results: shards.map((s) => s.outputs["result-file"]).join("\n") },
    });
    expect(merged.code, merged.stdout).toBe(stepCode(merged));
    const mergedResult = readResult(merged.outputs["result-file"]);
    expect(commentsOn(world, number)).toHaveLength(1);
    expect(checkRunsOn(world, head)).toHaveLength(1);

    // The simulator draws again for a request it has seen: the unsharded run gets a fresh one.
    const fresh = await startWorld();
    let whole: Awaited<ReturnType<typeof runAction>>;
    try {
      const same = openPull(fresh, "migrate", migrateChange());
      whole = await runAction(fresh, { payload: pullRequestPayload(fresh, same.number), inputs });
    } finally {
      await fresh.close();
    }
    expect(whole.code, whole.stdout).toBe(stepCode(whole));
    const wholeResult = readResult(whole.outputs["result-file"]);
    expect(comparable(mergedResult.cases)).toEqual(comparable(wholeResult.cases));
    expect(mergedResult.verdict).toBe(wholeResult.verdict);
    expect(mergedResult.gates.map((g) => [g.name, g.status])).toEqual(
      wholeResult.gates.map((g) => [g.name, g.status]),
    );
    expect(mergedResult.partial).toBe(false);
  });
});
