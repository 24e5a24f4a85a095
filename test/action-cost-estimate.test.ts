import { afterEach, describe, expect, it } from "vitest";
import {
  commentsOn,
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
import { EXAMPLE_POLICY } from "./support/cli.ts";

/**
 * Issue 14, part 1, through the Action: the estimate is logged before any completion, a budget
 * below it is an input error naming both numbers and the `force` input, and `force` runs.
 */
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const withBudget = { ".github/modelgate.yml": `${EXAMPLE_POLICY}budget: { max_run_cost_usd: 1 }\n` };
const completions = (w: World) => Object.values(w.sim.stats.byModel).reduce((a, b) => a + b, 0);

describe("Action: pre-run cost estimate", () => {
  it("logs the estimate and refuses above budget.max_run_cost_usd without a completion request", async () => {
    world = await startWorld({ baseOverrides: withBudget });
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/modelgate: cost estimate base: ~\d+ tokens, \$[\d.]+ \(from prompt_size/);
    expect(run.stdout).toMatch(/modelgate: cost estimate total: /);
    expect(run.stdout).toMatch(
      /::error::estimated run cost \$[\d.]+ \(every selected pair, [^)]*\) exceeds budget\.max_run_cost_usd \$1\.00: pass --force \(Action input force\)/,
    );
    expect(completions(world)).toBe(0);
  });

  it("input force runs anyway and the comment header shows the cost line", async () => {
    world = await startWorld({ baseOverrides: withBudget });
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { force: "true" },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(completions(world)).toBeGreaterThan(0);
    const result = readResult(run.outputs["result-file"]);
    expect(result.cost_estimate?.actual?.total.cost_usd).toBeGreaterThan(0);
    const [comment] = commentsOn(world, number);
    expect(comment?.body).toMatch(
      /\*\*Cost:\*\* estimated \$[\d.]+ if every selected pair runs .* · actual \$[\d.]+/,
    );
  });
});
