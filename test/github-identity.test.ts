/**
 * Issue 9, item 11: who a PR's head belongs to, and which base a production decision reads.
 * Over the wire against the REST emulator: a deleted fork (`head.repo: null`, as GitHub reports
 * it) through the Action, the workflow adapter and the App's rollout label; and a base branch
 * that moved after the PR's last push (GitHub leaves `base.sha` where it was).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { embedEvidence } from "../src/core/report/evidence.ts";
import type { EvalResult, Kpis } from "../src/core/result.ts";
import { isFork } from "../src/github/fork.ts";
import {
  OWNER as ACTION_OWNER,
  REPO as ACTION_REPO,
  ACTION_SOURCE,
  commentsOn,
  migrateChange,
  openPull,
  pullRequestPayload,
  runAction,
  startWorld,
  type World,
} from "./support/action-harness.ts";
import {
  type AppHarness,
  BASE_FILES,
  MODEL_CHANGE,
  OWNER,
  PROMPT_CHANGE,
  REPO,
  startAppHarness,
} from "./support/app-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const LLM = "config/llm.json";
const FORK = `forker/${REPO}`;

let h: AppHarness | undefined;
let world: World | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  h = undefined;
  world = undefined;
  dir = undefined;
});

describe("isFork", () => {
  test("null or missing head repository is a fork; the same repository (any case) is not", () => {
    const base = { repo: { full_name: "acme/app" } };
    expect(isFork({ head: { repo: null }, base })).toBe(true);
    expect(isFork({ head: {}, base })).toBe(true);
    expect(isFork({ head: { repo: { full_name: "ACME/App" } }, base })).toBe(false);
    expect(isFork({ head: { repo: { full_name: "other/app" } }, base })).toBe(true);
    // Unknown base: fail closed.
    expect(isFork({ head: { repo: { full_name: "acme/app" } } })).toBe(true);
    expect(isFork({ head: { repo: { full_name: "acme/app" } } }, "acme/app")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Deleted fork

/** A fork sharing main's history, with `files` pushed to its `main`, a PR from it, then the fork deleted. */
function deletedForkPR(app: AppHarness, files: Record<string, string>): number {
  app.emu.addRepo({ owner: "forker", repo: REPO });
  const fork = app.emu.state.repos.get(FORK.toLowerCase());
  const main = app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main");
  if (!fork || !main) throw new Error("no fork or no main");
  fork.refs.set("refs/heads/main", main);
  app.emu.commit("forker", REPO, "main", files, "Change in the fork");
  const pr = app.emu.openPullRequest(OWNER, REPO, {
    base: "main",
    head: "main",
    headRepoFullName: FORK,
    user: "forker",
  });
  app.emu.deleteRepo("forker", REPO);
  expect(app.emu.getPullRequest(OWNER, REPO, pr.number).head.repo).toBeNull();
  return pr.number;
}

function kpis(completion: number): Kpis {
  return {
    completion_rate: completion,
    retry_count: 0.1,
    tokens_per_completed_task: 1200,
    cost_per_completed_task: 0.01,
    human_takeover_rate: 0.02,
    error_rate: 0.01,
    latency_p50_ms: 900,
    latency_p95_ms: 2400,
    tool_calls_per_task: 1.5,
  };
}

function passingResult(): EvalResult {
  const side = (c: number) => ({ kpis: kpis(c), cases: 200, requests: 220, cache_hits: 0 });
  return {
    schema_version: 1,
    verdict: "pass",
    partial: false,
    base: side(0.8),
    head: side(0.83),
    routes: {},
    deltas: { completion_rate: { delta: 0.03, ci95: [-0.01, 0.07] } },
    min_detectable_effect: 0.06,
    gates: [],
    warnings: [],
    selection: { case_ids: [], reasons: [], selected: 200, all: false },
    cases: [],
  };
}

async function post(app: AppHarness, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${app.emu.url}/repos/${OWNER}/${REPO}${path}`, {
    method: "POST",
    headers: { authorization: `token ${WORKFLOW_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

/** A passing eval, published as the Action does (a comment by github-actions[bot]). */
async function publishEval(app: AppHarness, number: number, sha: string): Promise<void> {
  const result = passingResult();
  const response = await fetch(`${app.emu.url}/repos/${OWNER}/${REPO}/issues/${number}/comments`, {
    method: "POST",
    headers: { authorization: `token ${WORKFLOW_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      body: `<!-- modelgate:eval -->\n**modelgate eval: PASS**\n\n${embedEvidence(result, sha)}`,
    }),
  });
  expect(response.status).toBe(201);
}

/** A passing rollback rehearsal, published as the Action does (a check run by github-actions). */
async function publishRehearsal(app: AppHarness, sha: string): Promise<void> {
  const summary = `modelgate rollback rehearsal\n\n${embedEvidence(passingResult(), sha)}`;
  await post(app, "/check-runs", {
    name: "modelgate/rollback-rehearsal",
    head_sha: sha,
    status: "completed",
    conclusion: "success",
    output: { title: "modelgate rollback rehearsal", summary },
  });
}

const POLICY = [
  "version: 1",
  "gates:",
  "  max_error_rate: 0.02",
  "  max_completion_rate_drop: 0.05",
  "  min_requests: 200",
  "rollout:",
  "  key: rollout.candidate_percent",
  "  phases: [10, 30, 50, 100]",
  "  metrics:",
  "    source: file",
  "    file: metrics/rollout.json",
  "",
].join("\n");

function atShare(share: number, snapshot = false): string {
  const config = JSON.parse(BASE_FILES[LLM] ?? "{}") as {
    llm: { routes: Record<string, string> };
    models: Record<string, string>;
    rollout: { candidate_percent: number };
  };
  config.rollout.candidate_percent = share;
  config.llm.routes.general_qna = "gpt-5.5";
  if (snapshot) config.models.candidate = "gpt-5.5-2026-04-23";
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function labelAndDeliver(app: AppHarness, number: number, label: string): Promise<void> {
  const event = app.pullRequestEvent("labeled", number, {
    label: { name: label },
    sender: { login: "maintainer", id: 5000, type: "User" },
  });
  await app.label(number, label, "maintainer");
  const delivery = await app.deliver("pull_request", event);
  expect(delivery.status).toBe(200);
}

function rolloutComments(app: AppHarness, number: number) {
  return [...app.emu.state.comments.values()].filter(
    (c) =>
      c.issueNumber === number && c.body.includes("<!-- modelgate:rollout ") && c.user === "modelgate[bot]",
  );
}

describe("a deleted fork (head.repo null) is a fork everywhere", () => {
  test("App rollout label: refused as a fork; the base repository's branch of that name is not moved", async () => {
    h = await startAppHarness();
    h.user("maintainer", "write");
    h.push("main", { [LLM]: atShare(0), ".github/modelgate.yml": POLICY });
    const mainBefore = h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main");
    // The fork's head branch is called `main`, like the base repository's default branch.
    const number = deletedForkPR(h, { [LLM]: atShare(10) });
    await publishEval(h, number, h.headSha(number));
    await labelAndDeliver(h, number, "rollout:10");

    const mainAfter = h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main");
    expect(mainAfter).toBe(mainBefore);
    const [comment] = rolloutComments(h, number);
    expect(comment?.body).toContain("this PR's branch lives in a fork");
  }, 30_000);

  test("workflow adapter: a mixed PR from a deleted fork writes nothing and fails the step", async () => {
    h = await startAppHarness();
    const app = h;
    const number = deletedForkPR(app, { ...MODEL_CHANGE, ...PROMPT_CHANGE });
    const payload = app.pullRequestEvent("opened", number);
    expect((payload.pull_request as { head: { repo: unknown } }).head.repo).toBeNull();
    dir = mkdtempSync(join(tmpdir(), "modelgate-identity-"));
    const eventPath = join(dir, "event.json");
    const summaryPath = join(dir, "summary.md");
    writeFileSync(eventPath, JSON.stringify(payload));
    writeFileSync(summaryPath, "");
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(import.meta.dirname, "..", "src", "app", "workflow", "index.ts")],
        {
          env: {
            PATH: process.env.PATH ?? "",
            GITHUB_ACTIONS: "true",
            GITHUB_EVENT_NAME: "pull_request",
            GITHUB_EVENT_PATH: eventPath,
            GITHUB_STEP_SUMMARY: summaryPath,
            GITHUB_API_URL: app.emu.url,
            GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
            GITHUB_TOKEN: WORKFLOW_TOKEN,
          },
          timeout: 60_000,
        },
        (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
    expect(result.stdout).toContain("fork PR: the workflow token is read-only");
    expect(result.code).toBe(1);
    expect(app.checks()).toHaveLength(0);
    expect(app.comments(number)).toHaveLength(0);
    expect(readFileSync(summaryPath, "utf8")).toContain("Mixed change");
  }, 60_000);

  test("Action: a deleted-fork PR without a key is skipped as a fork PR", async () => {
    world = await startWorld();
    const { number } = openPull(world, "migrate", migrateChange());
    const payload = pullRequestPayload(world, number);
    (payload.pull_request as { head: { repo: unknown } }).head.repo = null;
    const run = await runAction(world, { payload, env: { OPENAI_API_KEY: undefined }, entry: ACTION_SOURCE });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/::notice::Skipped: this fork PR runs without access to secrets/);
    expect(commentsOn(world, number)).toHaveLength(0);
    expect(`${ACTION_OWNER}/${ACTION_REPO}`).toBe(`${OWNER}/${REPO}`);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Base branch moved

describe("a rollout decides on the base branch's tip, not on pull.base.sha", () => {
  test("main moved to 10 % after the PR's last push: rollout:10 finds nothing to promote and names the tip", async () => {
    h = await startAppHarness();
    h.emu.state.staleBaseSha = true;
    h.user("maintainer", "write");
    h.push("main", { [LLM]: atShare(0), ".github/modelgate.yml": POLICY });
    const number = h.openPR("rollout-10", { [LLM]: atShare(0) });
    const pinned = h.headSha(number);
    const staleBase = h.emu.getPullRequest(OWNER, REPO, number).base.sha;
    await publishEval(h, number, pinned);
    // Another rollout PR merged meanwhile: production is at 10 % now.
    const tip = h.push("main", { [LLM]: atShare(10) });
    expect(h.emu.getPullRequest(OWNER, REPO, number).base.sha).toBe(staleBase);

    await labelAndDeliver(h, number, "rollout:10");
    expect(h.headSha(number)).toBe(pinned);
    const [comment] = rolloutComments(h, number);
    expect(comment?.body).toContain("The base branch is already at 10 %: nothing to promote.");
    expect(comment?.body).toContain(`on \`main\` at \`${tip.slice(0, 7)}\``);
    expect(comment?.body).not.toContain(staleBase.slice(0, 7));
  }, 30_000);
});

test("production metrics are read at the tip: a breach reported on main after the PR's push refuses the promotion", async () => {
  h = await startAppHarness();
  h.emu.state.staleBaseSha = true;
  h.user("maintainer", "write");
  const metrics = (candidate: { requests: number; errors: number; completed: number }) =>
    JSON.stringify({
      phase: 10,
      updated_at: "2026-11-02T08:00:00Z",
      control: { requests: 20_000, errors: 100, tasks: 20_000, completed: 16_000 },
      candidate: { ...candidate, tasks: candidate.requests },
    });
  h.push("main", {
    [LLM]: atShare(10),
    ".github/modelgate.yml": POLICY,
    "metrics/rollout.json": metrics({ requests: 5_000, errors: 20, completed: 4_050 }),
  });
  const number = h.openPR("rollout-30", { [LLM]: atShare(10, true) });
  const pinned = h.headSha(number);
  await publishEval(h, number, pinned);
  await publishRehearsal(h, pinned);
  // Production went bad after the PR's last push: the exporter committed a breach to main.
  const tip = h.push("main", {
    "metrics/rollout.json": metrics({ requests: 5_000, errors: 400, completed: 3_000 }),
  });

  await labelAndDeliver(h, number, "rollout:30");
  expect(h.headSha(number)).toBe(pinned);
  const [comment] = rolloutComments(h, number);
  expect(comment?.body).toContain(`on \`main\` at \`${tip.slice(0, 7)}\``);
  expect(comment?.body).not.toContain("30 % committed");
  const rollback = [
    ...(h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.issues.values() ?? []),
  ].filter((issue) => issue.pull?.headRef.startsWith("modelgate/rollback-"));
  expect(rollback).toHaveLength(1);
}, 30_000);
