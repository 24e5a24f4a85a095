/**
 * The workflow adapter (issue 5, point 7) as a workflow runs it: `node src/app/workflow/index.ts`
 * in a child process, with the event file, token and API URL a runner provides, against the
 * REST emulator.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import {
  type AppHarness,
  MODEL_CHANGE,
  OWNER,
  PROMPT_CHANGE,
  REPO,
  startAppHarness,
} from "./support/app-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const ENTRY = join(import.meta.dirname, "..", "src", "app", "workflow", "index.ts");

let h: AppHarness;
let dir: string;

beforeEach(async () => {
  h = await startAppHarness();
  dir = mkdtempSync(join(tmpdir(), "modelgate-workflow-"));
});

afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
  summary: string;
}

function step(eventName: string, payload: unknown, env: Record<string, string> = {}): Promise<StepResult> {
  const eventPath = join(dir, "event.json");
  const summaryPath = join(dir, "summary.md");
  writeFileSync(eventPath, JSON.stringify(payload));
  writeFileSync(summaryPath, "");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ENTRY],
      {
        env: {
          PATH: process.env.PATH ?? "",
          GITHUB_ACTIONS: "true",
          GITHUB_EVENT_NAME: eventName,
          GITHUB_EVENT_PATH: eventPath,
          GITHUB_STEP_SUMMARY: summaryPath,
          GITHUB_API_URL: h.emu.url,
          GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
          GITHUB_TOKEN: WORKFLOW_TOKEN,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, summary: readFileSync(summaryPath, "utf8") });
      },
    );
  });
}

test("a mixed PR fails the step with ::error::, a check run, a comment and a job summary", async () => {
  const number = h.openPR("wf-mixed", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
  const result = await step("pull_request", h.pullRequestEvent("opened", number));
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("::error title=modelgate/attribution::Mixed change: model + prompt");
  expect(result.summary).toContain("### Suggested split");
  const checks = h.checks(h.headSha(number));
  expect(checks).toHaveLength(1);
  expect(checks[0]).toMatchObject({ conclusion: "failure", app: "github-actions" });
  const comments = h.comments(number);
  expect(comments).toHaveLength(1);
  expect(comments[0]?.user).toBe("github-actions[bot]");

  // The same run again (a re-run of the job): nothing duplicated.
  const again = await step("pull_request", h.pullRequestEvent("opened", number));
  expect(again.code).toBe(1);
  expect(h.checks(h.headSha(number))).toHaveLength(1);
  expect(h.comments(number)).toHaveLength(1);
});

test("a model-only PR passes the step", async () => {
  const number = h.openPR("wf-model", MODEL_CHANGE);
  const result = await step("pull_request", h.pullRequestEvent("opened", number));
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("::notice title=modelgate/attribution::success: One kind of change: model");
  expect(h.checks(h.headSha(number))[0]?.conclusion).toBe("success");
});

test("an override by a maintainer passes the step", async () => {
  h.user("maintainer", "write");
  const number = h.openPR("wf-override", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
  await h.label(number, "modelgate:allow-mixed", "maintainer");
  const event = h.pullRequestEvent("labeled", number, { label: { name: "modelgate:allow-mixed" } });
  const result = await step("pull_request", event);
  expect(result.code).toBe(0);
  expect(h.checks(h.headSha(number))[0]?.output.title).toBe(
    "Mixed change: model + prompt, overridden by maintainer",
  );
});

test("an API failure (a revoked token) fails the step; nothing is only logged", async () => {
  const number = h.openPR("wf-down", MODEL_CHANGE);
  const result = await step("pull_request", h.pullRequestEvent("opened", number), {
    GITHUB_TOKEN: "revoked",
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(
    /::error title=modelgate\/attribution::modelgate\/attribution failed: Bad credentials/,
  );
  expect(h.checks()).toHaveLength(0);
});

test("a workflow on another event fails the step and says what to use", async () => {
  const result = await step("push", { ref: "refs/heads/main" });
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("expected on: pull_request");
});

test("a fork PR (read-only token) writes nothing but still fails the step when mixed", async () => {
  const number = h.openPR("wf-fork", { ...MODEL_CHANGE, ...PROMPT_CHANGE });
  const payload = h.pullRequestEvent("opened", number);
  const pr = payload.pull_request as { head: { repo: { full_name: string } } };
  pr.head.repo = { ...pr.head.repo, full_name: "someone/support-bot" };
  const result = await step("pull_request", payload);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("fork PR");
  expect(h.checks()).toHaveLength(0);
  expect(h.comments(number)).toHaveLength(0);
});
