import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { COMMENT_MARKERS } from "../src/core/protocol.ts";
import { parseEvidence } from "../src/core/report/markdown.ts";
import {
  API_KEY,
  checkRunsOn,
  commentsOn,
  DIST,
  expectNoStack,
  migrateChange,
  OWNER,
  openPull,
  pullRequestPayload,
  REPO,
  readResult,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";

/**
 * The Action end to end: the committed dist/index.js in a child process, as the runner starts
 * it, against the GitHub REST emulator and the simulator on loopback.
 */

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("modelgate Action (dist/index.js)", () => {
  it("is built and committed", () => {
    expect(existsSync(DIST)).toBe(true);
  });

  it("posts one sticky comment on the first run and updates it on the next", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number, "opened");

    const first = await runAction(world, { payload });
    expectNoStack(first.stdout + first.stderr);
    expect(first.code, first.stdout + first.stderr).toBe(stepCode(first));
    const comments = commentsOn(world, number);
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    expect(comment?.user).toBe("github-actions[bot]");
    expect(comment?.body).toContain(COMMENT_MARKERS.eval);
    const evidence = parseEvidence(comment?.body ?? "");
    expect(evidence?.head_sha).toBe(head);
    expect(first.outputs.verdict).toBe(evidence?.verdict);
    expect(first.outputs["comment-url"]).toBe(
      `https://github.com/${OWNER}/${REPO}/pull/${number}#issuecomment-${comment?.id}`,
    );
    const result = readResult(first.outputs["result-file"]);
    expect(result.selection.case_ids.length).toBeGreaterThan(0);
    expect(result.cases.every((c) => c.route === "agentic_coding")).toBe(true);
    expect(result.head.requests).toBeGreaterThan(0);
    // The job summary carries the same report; the key never appears anywhere.
    expect(first.summary).toContain(`**modelgate: ${result.verdict.toUpperCase()}**`);
    // The key is masked (the runner reads `::add-mask::`) and never printed otherwise.
    expect(first.stdout).toContain(`::add-mask::${API_KEY}`);
    const printed = first.stdout.replace(/^::add-mask::.*$/gm, "");
    expect(printed + first.stderr + first.summary + (comment?.body ?? "")).not.toContain(API_KEY);
    // The check run carries the same evidence, for the App.
    const runs = checkRunsOn(world, head);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe("completed");
    expect(parseEvidence(runs[0]?.output.summary ?? "")?.head_sha).toBe(head);
    // The first POST of the comment was the "running" state.
    const posts = world.emu.requests.filter((r) => r.method === "POST" && r.path.includes("/comments"));
    expect(posts).toHaveLength(1);
    const edits = world.emu.requests.filter(
      (r) => r.method === "PATCH" && r.path.includes("/issues/comments/"),
    );
    expect(edits).toHaveLength(1);

    const second = await runAction(world, { payload: pullRequestPayload(world, number, "synchronize") });
    expect(second.code, second.stdout + second.stderr).toBe(stepCode(second));
    const after = commentsOn(world, number);
    expect(after).toHaveLength(1);
    expect(after[0]?.id).toBe(comment?.id);
    expect(second.outputs["comment-url"]).toBe(first.outputs["comment-url"]);
    // A re-run on the same head never reopens the completed run: it creates a new one (issue 9,
    // item 12; exactly two runs is asserted in test/github-limits.test.ts). Nothing is left running.
    const rerun = checkRunsOn(world, head);
    expect(rerun.length).toBeLessThanOrEqual(2);
    expect(rerun.map((r) => r.status)).not.toContain("in_progress");
  });

  it("posts what finished, marked partial, when the run is cancelled", async () => {
    // gpt-5.5 never answers: the head side hangs until the runner cancels the job.
    world = await startWorld({
      profileExtra: `
models:
  gpt-5.4:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
  gpt-5.5:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0, hang: 1 }
`,
    });
    const live = world;
    const { number } = openPull(live, "migrate", migrateChange());
    const run = await runAction(live, {
      payload: pullRequestPayload(live, number),
      // Cancel once every base case has been answered (the head ones hang).
      terminateWhen: () => (live.sim.stats.byStatus["200"] ?? 0) >= 24 + 1,
    });
    expectNoStack(run.stdout + run.stderr);
    const [comment] = commentsOn(live, number);
    const evidence = parseEvidence(comment?.body ?? "");
    expect(evidence?.partial, comment?.body).toBe(true);
    expect(evidence?.verdict).not.toBe("pass");
    expect(comment?.body).toContain("**Partial run:**");
    const result = readResult(run.outputs["result-file"]);
    expect(result.partial).toBe(true);
    expect(result.cases.filter((c) => c.base).length).toBeGreaterThan(0);
  });

  it("ignores a marked comment written by someone else", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    world.emu.state.tokens["user-token"] = { login: "mallory", type: "User" };
    const forged = await fetch(`${world.emu.url}/repos/${OWNER}/${REPO}/issues/${number}/comments`, {
      method: "POST",
      headers: { authorization: "token user-token", "content-type": "application/json" },
      body: JSON.stringify({ body: `${COMMENT_MARKERS.eval}\n**modelgate: PASS**` }),
    });
    expect(forged.status).toBe(201);
    const run = await runAction(world, { payload: pullRequestPayload(world, number) });
    expect(run.code, run.stdout).toBe(stepCode(run));
    const comments = commentsOn(world, number);
    expect(comments).toHaveLength(2);
    expect(comments[0]?.body).toBe(`${COMMENT_MARKERS.eval}\n**modelgate: PASS**`);
    expect(comments[1]?.user).toBe("github-actions[bot]");
  });
});
