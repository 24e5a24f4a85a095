/**
 * Issue 9, item 12: GitHub's rate limits and retries, over the wire against the REST emulator.
 * A secondary rate limit sent without any header, a 5xx after the write was applied (a lost
 * answer), a completed check run asked to run again, the API version header on every request,
 * and the walk of a truncated tree (requests in flight, identical subtrees).
 */
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { afterEach, describe, expect, test } from "vitest";
import { apiVersion, GITHUB_API_VERSION } from "../src/github/api-version.ts";
import { upsertCheckRun } from "../src/github/check-runs.ts";
import { reliabilityOptions } from "../src/github/octokit-options.ts";
import { noBlindRepeats, rateLimitWaitSeconds, safeToRepeat } from "../src/github/retry-rules.ts";
import { blobStore, restTreeSource } from "../src/github/tree-source.ts";
import {
  ACTION_SOURCE,
  checkRunsOn,
  commentsOn,
  migrateChange,
  openPull,
  pullRequestPayload,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { type AppHarness, CHECK, MODEL_CHANGE, OWNER, REPO, startAppHarness } from "./support/app-harness.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./support/github-emulator.ts";

/** One second of a GitHub-requested wait lasts 1 ms here: 60 "s" are 60 ms. */
const FAST = { MODELGATE_GITHUB_SECOND_MS: "1" };

let world: World | undefined;
let h: AppHarness | undefined;
let emu: GitHubEmulator | undefined;
afterEach(async () => {
  await world?.close();
  await h?.close();
  await emu?.close();
  world = undefined;
  h = undefined;
  emu = undefined;
});

describe("Action over the wire", () => {
  test("a 403 secondary rate limit without headers is waited out (60 s, GitHub's minimum), not a failure", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    world.emu.failNext({ method: "GET", pathIncludes: `/pulls/${number}/files` }, 403, 1, {}, { bare: true });
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      entry: ACTION_SOURCE,
      env: FAST,
    });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(run.stdout).toContain("answered 403; retrying in 60 s (rate limit)");
    const files = world.emu.requests.filter((r) => r.path.endsWith(`/pulls/${number}/files`));
    expect(files.map((r) => r.status).slice(0, 2)).toEqual([403, 200]);
    expect(commentsOn(world, number)).toHaveLength(1);
  }, 60_000);

  test("every request carries X-GitHub-Api-Version: 2022-11-28", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, { payload: pullRequestPayload(world, number), entry: ACTION_SOURCE });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(world.emu.requests.length).toBeGreaterThan(5);
    expect(world.emu.requests.filter((r) => r.apiVersion !== GITHUB_API_VERSION)).toEqual([]);
  }, 60_000);

  test("a comment POST answered 502 after GitHub applied it leaves one comment, not two", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    world.emu.failNext(
      { method: "POST", pathIncludes: `/issues/${number}/comments` },
      502,
      1,
      {},
      { after: true },
    );
    const run = await runAction(world, { payload: pullRequestPayload(world, number), entry: ACTION_SOURCE });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const comments = commentsOn(world, number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("modelgate");
    const posts = world.emu.requests.filter((r) => r.method === "POST" && r.path.endsWith("/comments"));
    expect(posts.map((r) => r.status)).toEqual([502]);
  }, 60_000);

  test("a check-run POST answered 502 after GitHub applied it leaves one run, and it completes", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "migrate", migrateChange());
    world.emu.failNext({ method: "POST", pathIncludes: "/check-runs" }, 502, 1, {}, { after: true });
    const run = await runAction(world, { payload: pullRequestPayload(world, number), entry: ACTION_SOURCE });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    const runs = checkRunsOn(world, head);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe("completed");
  }, 60_000);

  test("a re-run on the same head creates a new check run; the completed one is never reopened", async () => {
    world = await startWorld();
    const { number, head } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number);
    const initial = await runAction(world, { payload, entry: ACTION_SOURCE });
    expect(initial.code).toBe(stepCode(initial));
    const [first] = checkRunsOn(world, head);
    const firstId = first?.id;
    const before = world.emu.requests.length;
    const rerun = await runAction(world, { payload, entry: ACTION_SOURCE });
    expect(rerun.code).toBe(stepCode(rerun));
    const runs = checkRunsOn(world, head).sort((a, b) => a.id - b.id);
    expect(runs.map((r) => r.status)).toEqual(["completed", "completed"]);
    expect(runs[0]?.id).toBe(firstId);
    const patches = world.emu.requests
      .slice(before)
      .filter((r) => r.method === "PATCH" && r.path.endsWith(`/check-runs/${firstId}`));
    expect(patches).toEqual([]);
  }, 90_000);
});

describe("App over the wire", () => {
  test("attribution: a headerless 403 secondary limit is waited out with throttling on; every request is versioned", async () => {
    h = await startAppHarness({
      client: { throttle: true, retries: 3, retryAfterBaseValue: 20, limits: { secondMs: 1 } },
    });
    const number = h.openPR("model", MODEL_CHANGE);
    h.emu.failNext({ method: "GET", pathIncludes: `/pulls/${number}/files` }, 403, 1, {}, { bare: true });
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    const checks = h.checks(h.headSha(number));
    expect(checks).toHaveLength(1);
    expect(checks[0]?.conclusion).toBe("success");
    const files = h.emu.requests.filter((r) => r.path.endsWith(`/pulls/${number}/files`));
    expect(files.map((r) => r.status).slice(0, 2)).toEqual([403, 200]);
    expect(h.emu.requests.filter((r) => r.apiVersion !== GITHUB_API_VERSION)).toEqual([]);
  }, 60_000);

  test("attribution: a check-run POST lost after it was applied is found, not created twice", async () => {
    h = await startAppHarness();
    const number = h.openPR("model-5xx", MODEL_CHANGE);
    h.emu.failNext({ method: "POST", pathIncludes: "/check-runs" }, 500, 1, {}, { after: true });
    h.emu.failNext(
      { method: "POST", pathIncludes: `/issues/${number}/comments` },
      502,
      1,
      {},
      { after: true },
    );
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    const checks = [...h.emu.state.checkRuns.values()].filter((r) => r.name === CHECK);
    expect(checks).toHaveLength(1);
    expect(checks[0]?.status).toBe("completed");
    expect(h.comments(number).length).toBeLessThanOrEqual(1);
    const posts = h.emu.requests.filter(
      (r) => r.method === "POST" && /\/(check-runs|comments)$/.test(r.path),
    );
    expect(posts.every((r) => r.status >= 500)).toBe(true);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

function client(at: GitHubEmulator) {
  return new (Octokit.plugin(apiVersion))({ auth: WORKFLOW_TOKEN, baseUrl: at.url });
}

describe("the App's and workflow's client (throttling + retry plugins)", () => {
  test("a secondary limit that persists is waited out 60 s, then 120 s (GitHub: exponentially longer)", async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: OWNER, repo: REPO });
    emu.commit(OWNER, REPO, "main", { "a.txt": "a\n" });
    const warnings: string[] = [];
    const Client = Octokit.plugin(retry, throttling, apiVersion, noBlindRepeats);
    const gh = new Client({
      auth: WORKFLOW_TOKEN,
      baseUrl: emu.url,
      ...reliabilityOptions(
        { throttle: true, retries: 3, retryAfterBaseValue: 1, limits: { secondMs: 2 } },
        { warn: (message) => warnings.push(message) },
      ),
    });
    emu.failNext({ method: "GET", pathIncludes: "/contents/a.txt" }, 403, 2, {}, { bare: true });
    const started = performance.now();
    const { status } = await gh.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: OWNER,
      repo: REPO,
      path: "a.txt",
    });
    const ms = performance.now() - started;
    expect(status).toBe(200);
    expect(warnings.map((w) => w.replace(/^.*: /, ""))).toEqual([
      "retrying in 60 s (retry 1 of 2)",
      "retrying in 120 s (retry 2 of 2)",
    ]);
    // 180 "seconds" of 2 ms each.
    expect(ms).toBeGreaterThanOrEqual(360);
  });

  test("a comment POST lost after a 5xx is not repeated by the retry plugin", async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: OWNER, repo: REPO });
    emu.commit(OWNER, REPO, "main", { "a.txt": "a\n" });
    emu.commit(OWNER, REPO, "feature", { "b.txt": "b\n" });
    emu.openPullRequest(OWNER, REPO, { base: "main", head: "feature" });
    const Client = Octokit.plugin(retry, throttling, apiVersion, noBlindRepeats);
    const gh = new Client({
      auth: WORKFLOW_TOKEN,
      baseUrl: emu.url,
      ...reliabilityOptions({ throttle: false, retries: 3, retryAfterBaseValue: 1 }, { warn: () => {} }),
    });
    emu.failNext({ method: "POST", pathIncludes: "/issues/1/comments" }, 502, 1, {}, { after: true });
    await expect(
      gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
        body: "hello",
      }),
    ).rejects.toMatchObject({ status: 502 });
    expect(emu.state.comments.size).toBe(1);
  });
});

describe("check runs", () => {
  test("upsertCheckRun never PATCHes a completed run back to in_progress; it creates a new one", async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: OWNER, repo: REPO });
    const sha = emu.commit(OWNER, REPO, "main", { "a.txt": "a\n" });
    const gh = client(emu);
    const repo = { owner: OWNER, repo: REPO };
    const spec = { name: "modelgate/eval", head_sha: sha, external_id: "pull/1" };
    const done = await upsertCheckRun(gh, repo, {
      ...spec,
      status: "completed",
      conclusion: "success",
      output: { title: "done", summary: "done" },
    });
    const again = await upsertCheckRun(gh, repo, {
      ...spec,
      status: "in_progress",
      output: { title: "running", summary: "running" },
    });
    expect(again.action).toBe("created");
    expect(again.id).not.toBe(done.id);
    expect(emu.state.checkRuns.get(done.id)?.status).toBe("completed");
    const finished = await upsertCheckRun(gh, repo, {
      ...spec,
      status: "completed",
      conclusion: "failure",
      output: { title: "second", summary: "second" },
    });
    expect(finished).toEqual({ id: again.id, action: "updated" });
    expect(emu.state.checkRuns.get(done.id)?.conclusion).toBe("success");
    expect(emu.state.checkRuns.get(again.id)?.conclusion).toBe("failure");
  });
});

describe("truncated tree walk", () => {
  /** 8 × 8 × 8 directories, one file in each leaf. */
  function monorepo(): Record<string, string> {
    const files: Record<string, string> = {};
    for (let a = 0; a < 8; a++)
      for (let b = 0; b < 8; b++)
        for (let c = 0; c < 8; c++) files[`p${a}/m${b}/s${c}/config.json`] = `{"at":"${a}${b}${c}"}\n`;
    return files;
  }

  test("one limit of 8 requests in flight for the whole walk of both sides; identical subtrees listed once", async () => {
    emu = await startGitHubEmulator();
    emu.addRepo({ owner: OWNER, repo: REPO });
    const base = emu.commit(OWNER, REPO, "main", monorepo());
    const head = emu.commit(OWNER, REPO, "feature", { "p0/m0/s0/config.json": '{"at":"changed"}\n' });
    emu.state.treeEntryLimit = 100;
    emu.concurrency.delayMs = 5;
    const gh = client(emu);
    const repo = { owner: OWNER, repo: REPO };
    const store = blobStore();
    const sides = [
      restTreeSource(gh, repo, base, { side: "base", blobs: store }),
      restTreeSource(gh, repo, head, { side: "head", blobs: store }),
    ];
    const [baseFiles, headFiles] = await Promise.all(sides.map((side) => side.listFiles()));
    expect(baseFiles).toHaveLength(512);
    expect(headFiles).toHaveLength(512);
    const trees = emu.requests.filter((r) => r.path.includes("/git/trees/"));
    const recursive = trees.filter((r) => r.url.includes("recursive"));
    // 585 trees on each side, 4 of them differ on the head (root, p0, p0/m0, p0/m0/s0): the
    // two roots are asked by commit, every other tree once.
    expect(recursive).toHaveLength(2);
    expect(trees.length - recursive.length).toBe(2 + 584 + 3);
    expect(new Set(trees.map((r) => r.url)).size).toBe(trees.length);
    expect(emu.concurrency.max).toBeLessThanOrEqual(8);
    console.log(
      `truncated 8×8×8 walk, both sides: ${trees.length} tree requests, at most ${emu.concurrency.max} in flight`,
    );
  }, 60_000);
});

describe("GitHub's retry rules", () => {
  const limited = (status: number, headers: Record<string, string>, message = "Forbidden") =>
    Object.assign(new Error(message), { status, message, response: { headers, data: { message } } });

  test("retry-after first, then the reset of an exhausted limit, then at least a minute, doubling", () => {
    expect(rateLimitWaitSeconds(limited(403, { "retry-after": "7" }), 0)).toBe(7);
    expect(
      rateLimitWaitSeconds(
        limited(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000" }),
        0,
        60,
        990_000,
      ),
    ).toBe(11);
    const secondary = limited(403, {}, "You have exceeded a secondary rate limit.");
    expect([0, 1, 2].map((n) => rateLimitWaitSeconds(secondary, n))).toEqual([60, 120, 240]);
    expect(rateLimitWaitSeconds(limited(429, {}), 0)).toBe(60);
    // A 403 that is no rate limit (no permission) is not repeated.
    expect(rateLimitWaitSeconds(limited(403, {}, "Resource not accessible by integration"), 0)).toBe(
      undefined,
    );
  });

  test("creates that would duplicate are not repeated blindly; everything else is", () => {
    expect(safeToRepeat("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toBe(false);
    expect(safeToRepeat("POST", "/repos/{owner}/{repo}/check-runs")).toBe(false);
    expect(safeToRepeat("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")).toBe(true);
    expect(safeToRepeat("POST", "/repos/{owner}/{repo}/git/blobs")).toBe(true);
    expect(safeToRepeat("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")).toBe(true);
  });
});
