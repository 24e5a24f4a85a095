/**
 * The production watch's one judgement (src/rollout/watch.ts), shared by the App's Alertmanager
 * receiver, `modelgate watch` and the Action's watch mode: Octokit to the GitHub REST emulator,
 * the policy, LLM config and metrics file read at the base branch's tip.
 */
import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, expect, test } from "vitest";
import { UserError } from "../src/core/errors.ts";
import { watchRollout } from "../src/rollout/watch.ts";
import { BASE_FILES, llmJson, OWNER, REPO } from "./support/app-harness.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./support/github-emulator.ts";
import { BREACH, FILE_METRICS_POLICY, HEALTHY, metricsFile } from "./support/watch-fixtures.ts";

let emu: GitHubEmulator;
let gh: Octokit;
const log = { warn: () => {}, error: () => {} };
const deps = () => ({ gh, log, env: {}, author: "github-actions[bot]" });
const watch = () => watchRollout(deps(), { owner: OWNER, repo: REPO, trigger: "modelgate watch (test)" });

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.addRepo({ owner: OWNER, repo: REPO });
  emu.commit(OWNER, REPO, "main", { ...BASE_FILES, ".github/modelgate.yml": FILE_METRICS_POLICY });
  gh = new Octokit({ auth: WORKFLOW_TOKEN, baseUrl: emu.url });
});

afterEach(async () => {
  await emu.close();
});

function pulls(): { number: number; title: string; body: string | null; head: string }[] {
  const repo = emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  return [...(repo?.issues.values() ?? [])]
    .filter((issue) => issue.pull && issue.state === "open")
    .map((issue) => ({
      number: issue.number,
      title: issue.title,
      body: issue.body,
      head: issue.pull?.headRef ?? "",
    }));
}

test("no candidate traffic on the base branch: idle, nothing opened", async () => {
  emu.commit(OWNER, REPO, "main", {
    "config/llm.json": llmJson((c) => {
      c.rollout = { candidate_percent: 0 };
    }),
  });
  const outcome = await watch();
  expect(outcome.kind).toBe("idle");
  expect(outcome.kind === "idle" && outcome.reason).toMatch(/rollout\.candidate_percent is 0 % on main/);
  expect(pulls()).toEqual([]);
});

test("healthy counts: healthy, nothing opened", async () => {
  emu.commit(OWNER, REPO, "main", metricsFile(HEALTHY));
  const outcome = await watch();
  expect(outcome.kind).toBe("healthy");
  expect(outcome.audit).toMatchObject({
    share: 10,
    base_ref: "main",
    metrics_source: "ops/metrics.json on the base branch",
  });
  expect(pulls()).toEqual([]);
});

test("no metrics: a hold that names the file, never a pass and never a rollback", async () => {
  const outcome = await watch();
  expect(outcome.kind).toBe("hold");
  expect(outcome.kind === "hold" && outcome.judgement.detail).toMatch(/ops\/metrics\.json does not exist/);
  expect(pulls()).toEqual([]);
});

test("a breach opens one rollback PR; firing again updates one comment on it", async () => {
  emu.commit(OWNER, REPO, "main", metricsFile(BREACH));
  const first = await watch();
  expect(first.kind).toBe("breach");
  if (first.kind !== "breach") return;
  expect(first.rollback.kind).toBe("opened");
  const open = pulls();
  expect(open).toHaveLength(1);
  expect(open[0]?.head).toBe("modelgate/rollback-gpt-5.5");
  expect(open[0]?.body).toMatch(
    /failed beyond noise at 10 % \(modelgate watch \(test\), re-judged by modelgate\)/,
  );
  expect(open[0]?.body).toMatch(/Watch record/);

  const second = await watch();
  expect(second.kind === "breach" && second.rollback.kind).toBe("existing");
  expect(pulls()).toHaveLength(1);
  const watchComments = [...emu.state.comments.values()].filter((c) =>
    c.body.includes("<!-- modelgate:watch -->"),
  );
  expect(watchComments).toHaveLength(1);
  expect(watchComments[0]?.issueNumber).toBe(open[0]?.number);
});

test("two breaches judged at once (an alert and a label) leave one PR whose branch is one rollback commit on main", async () => {
  emu.commit(OWNER, REPO, "main", metricsFile(BREACH));
  const [a, b] = await Promise.all([
    watchRollout(deps(), { owner: OWNER, repo: REPO, trigger: "alert" }),
    watchRollout(deps(), { owner: OWNER, repo: REPO, trigger: "schedule" }),
  ]);
  expect([a.kind, b.kind]).toEqual(["breach", "breach"]);
  expect(pulls()).toHaveLength(1);
  const repo = emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  const tip = repo?.refs.get("refs/heads/modelgate/rollback-gpt-5.5") ?? "";
  const main = repo?.refs.get("refs/heads/main") ?? "";
  expect(emu.state.store.log(tip, main)).toHaveLength(1);
});

test("a policy that does not parse is the user's to fix, named by file", async () => {
  emu.commit(OWNER, REPO, "main", { ".github/modelgate.yml": "rollout: { phases: [10, oops\n" });
  await expect(watch()).rejects.toThrow(UserError);
  await expect(watch()).rejects.toThrow(/\.github\/modelgate\.yml/);
});

test("a missing base branch is named", async () => {
  await expect(
    watchRollout(deps(), { owner: OWNER, repo: REPO, base_ref: "release", trigger: "t" }),
  ).rejects.toThrow(/there is no branch release in acme\/support-bot/);
});
