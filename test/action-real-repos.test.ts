import { afterEach, describe, expect, it } from "vitest";
import {
  commentsOn,
  expectNoStack,
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
 * Issue 11, items 9 and 10, through the Action (sources in a child process, the GitHub REST
 * emulator and the simulator on loopback): a YAML LLM config is evaluated, and a `config`
 * input naming a file that does not exist at the base is an input error, not the defaults.
 */

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const yamlConfig = (coding: string) => `llm:
  default_model: gpt-5.4
  routes:
    agentic_coding: ${coding} # the route under migration
    general_qna: gpt-5.4
  max_output_tokens: 4096
  timeout_ms: 120000
  retry_limit: 2
models: { default: gpt-5.4, candidate: gpt-5.5, rollback: gpt-5.4 }
rollout: { candidate_percent: 0 }
`;

describe("the Action on real repository layouts", () => {
  it("evaluates a model change in a YAML LLM config", async () => {
    world = await startWorld({
      baseOverrides: {
        "config/llm.yaml": yamlConfig("gpt-5.4"),
        ".github/modelgate.yml": EXAMPLE_POLICY.replace("config: config/llm.json", "config: config/llm.yaml"),
      },
    });
    const { number } = openPull(world, "migrate-yaml", { "config/llm.yaml": yamlConfig("gpt-5.5") });
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expectNoStack(run.stdout + run.stderr);
    expect(run.stdout + run.stderr).not.toMatch(/not valid JSON|cannot parse/);
    // The example's small suite may leave a model change inconclusive, which fails the step.
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const result = readResult(run.outputs["result-file"]);
    expect(result.selection.reasons).toEqual([
      { route: "agentic_coding", reason: "model changed (gpt-5.4 → gpt-5.5)" },
    ]);
    expect(result.cases.length).toBeGreaterThan(0);
    expect(result.cases.every((c) => c.head?.model.startsWith("gpt-5.5"))).toBe(true);
    expect(result.coverage?.uncovered).toEqual([]);
    expect(commentsOn(world, number)).toHaveLength(1);
  });

  it("fails with an input error when the config input names a file missing at the base", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate-yaml", { "config/llm.json": "{}\n" });
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { config: ".github/modelgate-prod.yml" },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /::error::Invalid input 'config': \.github\/modelgate-prod\.yml does not exist at the base commit [0-9a-f]{12}/,
    );
    expectNoStack(run.stdout + run.stderr);
    expect(world.sim.stats.requests).toBe(0);
    expect(commentsOn(world, number)).toHaveLength(0);
  });
});
