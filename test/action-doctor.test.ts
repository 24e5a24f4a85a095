import { Octokit } from "@octokit/core";
import { afterEach, describe, expect, it } from "vitest";
import { CHECK_NAMES, COMMENT_MARKERS } from "../src/core/protocol.ts";
import { parseEvidence } from "../src/core/report/markdown.ts";
import {
  commentsOn,
  expectNoStack,
  migrateChange,
  OWNER,
  openPull,
  pullRequestPayload,
  REPO,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";

/**
 * The readiness report (`modelgate doctor`) in the Action's PR comment on a model change
 * (issue 13): the Action over the GitHub REST emulator with the simulator as the provider.
 */

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const SUMMARY = "<summary>Readiness (modelgate doctor)";

describe("the readiness section in the Action's comment", () => {
  it("a model-change PR gets the collapsed section before the evidence block, with the provider's list and the rehearsal's check", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "migrate", migrateChange());
    // A rollback rehearsal that already failed on this head commit: the section must say so.
    const gh = new Octokit({ auth: WORKFLOW_TOKEN, baseUrl: world.emu.url });
    await gh.request("POST /repos/{owner}/{repo}/check-runs", {
      owner: OWNER,
      repo: REPO,
      name: CHECK_NAMES.rehearsal,
      head_sha: head,
      status: "completed",
      conclusion: "failure",
      output: { title: "rehearsal", summary: "failed" },
    });
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const body = commentsOn(world, number).find((c) => c.body.includes(COMMENT_MARKERS.eval))?.body ?? "";
    const at = body.indexOf(SUMMARY);
    expect(at, body).toBeGreaterThan(0);
    expect(body.lastIndexOf("<details>", at)).toBeGreaterThan(0);
    // Before the evidence block, which stays last and readable.
    expect(at).toBeLessThan(body.lastIndexOf("<!-- modelgate:evidence"));
    expect(parseEvidence(body)?.head_sha).toBe(head);
    const section = body.slice(at);
    // The routes of the selected cases only: agentic_coding, not the untouched routes.
    expect(section).toMatch(/\*\*route_cases\*\* \(agentic\\_coding\)/);
    expect(section).not.toMatch(/\*\*route_cases\*\* \(general\\_qna\)/);
    // The rehearsal's check run on the head commit is known: it failed.
    expect(section).toMatch(/❌ \*\*rollback_rehearsal\*\*: rollback rehearsal failed/);
    // The provider's list from the eval's pre-flight: the rollback model is offered.
    expect(section).not.toMatch(/model list cannot be read|could not be read/);
    // The head's LLM config caps every route (the example's per_task_token_cap).
    expect(section).toMatch(/✅ \*\*app_budget\*\*/);
    // The baseline is counted, and named, on the base's model (the PR moves the route to gpt-5.5).
    expect(section).toMatch(/cached base run on gpt-5\.4\b/);
    expect(section).not.toMatch(/cached base run on gpt-5\.5/);
    // The baseline's fix runs the base commit on itself.
    expect(section).toContain(`modelgate eval --base ${world.mainSha.slice(0, 12)}`);
    // Metrics are not read by the Action.
    expect(section).toMatch(/\*\*metrics_wiring\*\*: .*not/);
  });

  it("a change that moves no model has no readiness section", async () => {
    world = await startWorld();
    const { number } = openPull(world, "prompt", {
      "prompts/system.md": "You are Acme's support assistant. Be brief.\n",
    });
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const body = commentsOn(world, number).find((c) => c.body.includes(COMMENT_MARKERS.eval))?.body ?? "";
    expect(body).toContain(COMMENT_MARKERS.eval);
    expect(body).not.toContain(SUMMARY);
  });
});
