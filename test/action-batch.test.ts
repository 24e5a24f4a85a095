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
});
