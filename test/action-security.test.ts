import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { EvalResult } from "../src/core/result.ts";
import {
  commentsOn,
  expectNoStack,
  migrateChange,
  openPull,
  pullRequestPayload,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";

/** docs/action.md#security and issue 4 points 3 and 6, through the committed dist/index.js. */

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("Action security", () => {
  it("skips a fork PR without a key with a notice, and touches neither GitHub nor the provider", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number);
    const pull = payload.pull_request as { head: { repo: { full_name: string } } };
    pull.head.repo = { ...pull.head.repo, full_name: "forker/support-bot" };
    const before = world.emu.requests.length;

    const run = await runAction(world, { payload, env: { OPENAI_API_KEY: undefined } });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/::notice::Skipped: this fork PR runs without access to secrets/);
    expect(run.stdout).not.toContain("::error::");
    expect(run.outputs.verdict).toBe("skipped");
    expect(run.summary).toContain("SKIPPED");
    expect(world.sim.stats.requests).toBe(0);
    expect(world.emu.requests.length).toBe(before);
    expect(commentsOn(world, number)).toHaveLength(0);
  });

  it("fails a same-repo PR without a key with a message that says what to set", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      env: { OPENAI_API_KEY: undefined },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::No API key: set the input openai-api-key/);
    expectNoStack(run.stdout + run.stderr);
  });

  it("warns about an endpoint set by the PR in repo files, and sends it nothing", async () => {
    world = await startWorld();
    const llm = JSON.parse(migrateChange()["config/llm.json"] ?? "{}") as { llm: Record<string, unknown> };
    llm.llm.base_url = world.attacker.url;
    const { number } = openPull(world, "redirect", {
      "config/llm.json": `${JSON.stringify(llm, null, 2)}\n`,
      ".env": `OPENAI_BASE_URL=${world.attacker.url}\nOPENAI_API_KEY_FILE=/tmp/steal\n`,
    });
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expect(run.code, run.stdout).toBe(stepCode(run));
    expect(run.stdout).toContain("::warning::config/llm.json sets a provider endpoint (llm.base_url)");
    const result = JSON.parse(readFileSync(run.outputs["result-file"] ?? "", "utf8")) as EvalResult;
    const flagged = result.warnings.filter((w) => w.code === "endpoint_in_repo");
    expect(flagged).toEqual(
      expect.arrayContaining([
        { code: "endpoint_in_repo", file: "config/llm.json", key: "llm.base_url" },
        { code: "endpoint_in_repo", file: ".env", key: "OPENAI_BASE_URL" },
      ]),
    );
    const [comment] = commentsOn(world, number);
    expect(comment?.body).toContain("Endpoint in repo config");
    // The eval ran, on the workflow's endpoint only.
    expect(result.head.requests).toBeGreaterThan(0);
    expect(world.sim.stats.requests).toBeGreaterThan(0);
    expect(world.attacker.requests).toBe(0);
  });

  it("refuses pull_request_target without the opt-in, and runs it with the opt-in", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number);
    const refused = await runAction(world, { event: "pull_request_target", payload });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /::error::This workflow runs on pull_request_target.*allow-pull-request-target: true/,
    );
    expect(world.sim.stats.requests).toBe(0);

    const allowed = await runAction(world, {
      event: "pull_request_target",
      payload,
      inputs: { "allow-pull-request-target": "true" },
    });
    expect(allowed.code, allowed.stdout).toBe(stepCode(allowed));
    expect(commentsOn(world, number)).toHaveLength(1);
  });

  it("ends other events and PR activities with a notice, not a failure", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const push = await runAction(world, { event: "push", payload: { ref: "refs/heads/main" } });
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/::notice::modelgate evaluates pull requests; the 'push' event/);
    expect(push.outputs.verdict).toBe("skipped");

    const labeled = await runAction(world, { payload: pullRequestPayload(world, number, "labeled") });
    expect(labeled.code).toBe(0);
    expect(labeled.stdout).toMatch(/::notice::Nothing to evaluate for 'pull_request.labeled'/);
    expect(world.sim.stats.requests).toBe(0);
    expect(commentsOn(world, number)).toHaveLength(0);
  });

  it.each([
    ["shard", "3/2", /::error::Invalid input 'shard': '3\/2'. Expected i\/n with 1 ≤ i ≤ n/],
    ["concurrency", "abc", /::error::Invalid input 'concurrency': 'abc'. Expected a positive whole number/],
    ["max-cases", "0", /::error::Invalid input 'max-cases': '0'. Expected a positive whole number/],
    ["fail-on-gate", "maybe", /::error::Invalid input 'fail-on-gate': 'maybe'. Expected true or false/],
    [
      "openai-base-url",
      "ftp://x",
      /::error::Invalid input 'openai-base-url': 'ftp:\/\/x\/?'. Expected an http\(s\) URL/,
    ],
    ["provider", "claude", /::error::Invalid input 'provider': 'claude'. Expected one of: openai, simulator/],
  ])("fails clearly on an invalid input %s: %s", async (name, value, message) => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const before = world.emu.requests.length;
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      inputs: { [name]: value },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expectNoStack(run.stdout + run.stderr);
    expect(world.emu.requests.length).toBe(before);
    expect(world.sim.stats.requests).toBe(0);
  });
});
