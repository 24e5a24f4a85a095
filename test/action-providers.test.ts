import { afterEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
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
import { exampleProfiles } from "./support/simulator.ts";

/**
 * Issue 14, part 2, through the Action: the `providers` input sends the models the policy maps
 * to `other` to a second provider (a keyed simulator), the rest to openai-base-url.
 */
let world: World | undefined;
let other: Simulator | undefined;
afterEach(async () => {
  await Promise.all([world?.close(), other?.close()]);
  world = undefined;
  other = undefined;
});

const OTHER_KEY = "sk-other-provider-key";
const policy = {
  ".github/modelgate.yml": EXAMPLE_POLICY.replace(
    "  max_cases: 200\n",
    '  max_cases: 200\n  providers:\n    - { models: "gpt-5.5*", provider: other }\n',
  ),
};

describe("Action: providers input", () => {
  it("sends the head's gpt-5.5 to the provider the input defines, with its own key", async () => {
    world = await startWorld({ baseOverrides: policy });
    other = await startSimulator({
      profiles: await exampleProfiles(),
      timeScale: 0,
      announce: false,
      requireApiKey: OTHER_KEY,
    });
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { providers: JSON.stringify({ other: { base_url: other.url, api_key_env: "OTHER_KEY" } }) },
      env: { OTHER_KEY },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    // Masked before anything could print it, and printed nowhere else.
    expect(run.stdout).toContain(`::add-mask::${OTHER_KEY}`);
    expect(run.stdout.split(OTHER_KEY)).toHaveLength(2);
    expect(Object.keys(other.stats.byModel)).toEqual(["gpt-5.5"]);
    expect(other.stats.byStatus["401"]).toBeUndefined();
    expect(world.sim.stats.byModel["gpt-5.5"]).toBeUndefined();
    const result = readResult(run.outputs["result-file"]);
    expect(result.providers?.routes.agentic_coding).toEqual({ base: "default", head: "other" });
    const [comment] = commentsOn(world, number);
    expect(comment?.body).toContain("**Providers:** base `default` → head `other`");
  });

  it("a malformed providers input is an input error naming the key", async () => {
    world = await startWorld({ baseOverrides: policy });
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { providers: '{"other": {"base_url": "not a url", "api_key_env": "OTHER_KEY"}}' },
    });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain("::error::input providers.other.base_url: expected an http(s) URL");
    expect(Object.keys(world.sim.stats.byModel)).toEqual([]);
  });

  it("a policy provider the workflow does not define fails closed", async () => {
    world = await startWorld({ baseOverrides: policy });
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain("policy evals.providers[0].provider: 'other' is not in the provider map");
    expect(Object.keys(world.sim.stats.byModel)).toEqual([]);
  });
});
