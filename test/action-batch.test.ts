import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  expectNoStack,
  migrateChange,
  openPull,
  pullRequestPayload,
  readResult,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { ROOT } from "./support/cli.ts";

/** Issue 14, part 3, through the Action: input `batch` runs the eval through the Batch API. */
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("Action: batch input", () => {
  it("batch: true sends every request as a batch line, logs the batches and records them in the result", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { batch: "true" },
      env: { MODELGATE_INTERNAL_BATCH_POLL_MS: "5" },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const result = readResult(run.outputs["result-file"]);
    expect(result.mode).toBe("batch");
    expect(result.partial).toBe(false);
    expect(result.batch?.rounds).toBeGreaterThan(0);
    const completions = Object.values(world.sim.stats.byModel).reduce((a, b) => a + b, 0);
    expect(completions).toBeGreaterThan(0);
    expect(world.sim.stats.batchLines).toBe(completions);
    for (const batch of result.batch?.batches ?? []) {
      expect(run.stdout).toContain(`modelgate: batch ${batch.id}: round ${batch.round},`);
    }
  });

  it("the rollback rehearsal of a rollout PR goes through the Batch API too", async () => {
    const llm = "config/llm.json";
    const at = (share: number) => {
      const doc = JSON.parse(readFileSync(join(ROOT, "examples/acme-support/base", llm), "utf8")) as {
        llm: { routes: Record<string, string> };
        rollout: { candidate_percent: number };
      };
      doc.llm.routes.agentic_coding = "gpt-5.5";
      doc.rollout.candidate_percent = share;
      return `${JSON.stringify(doc, null, 2)}\n`;
    };
    world = await startWorld({ baseOverrides: { [llm]: at(10) } });
    const { number } = openPull(world, "rollout-30", { [llm]: at(30) });
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { batch: "true" },
      env: { MODELGATE_INTERNAL_BATCH_POLL_MS: "5" },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const rehearsal = readResult(run.outputs["rollback-rehearsal-file"]);
    expect(rehearsal.mode).toBe("batch");
    expect(rehearsal.batch?.rounds).toBeGreaterThan(0);
    // Every completion of the job, the eval's and the rehearsal's, was a batch line.
    const completions = Object.values(world.sim.stats.byModel).reduce((a, b) => a + b, 0);
    expect(world.sim.stats.batchLines).toBe(completions);
  });
});
