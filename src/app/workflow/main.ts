import { appendFileSync, readFileSync } from "node:fs";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { errorMessage } from "../../core/errors.ts";
import { apiVersion } from "../../github/api-version.ts";
import { type ForkShape, isFork } from "../../github/fork.ts";
import { DEFAULT_CLIENT_POLICY, reliabilityOptions } from "../../github/octokit-options.ts";
import { withRequestTimeout } from "../../github/request-timeout.ts";
import { noBlindRepeats } from "../../github/retry-rules.ts";
import { type AttributionLog, CHECK_NAME, runAttribution } from "../attribution/run.ts";
import { triggerFromEvent } from "../attribution/trigger.ts";

/**
 * The attribution check without hosting (issue 5, point 7): the App's handler run once from a
 * GitHub Actions workflow. The event comes from `GITHUB_EVENT_PATH`, the token from the
 * `github-token` input or `GITHUB_TOKEN`, the API from `GITHUB_API_URL`. A mixed PR, an
 * invalid config and any error fail the step (exit 1 with an `::error::`): nothing is only logged.
 * No Probot here: the bundle stays a thin adapter over the shared handler.
 */

export interface WorkflowIO {
  out(line: string): void;
  /** Markdown for the job summary (`GITHUB_STEP_SUMMARY`). */
  summary(markdown: string): void;
}

const EVENTS = new Set(["pull_request", "pull_request_target", "check_run"]);

export async function runWorkflow(env: NodeJS.ProcessEnv, io: WorkflowIO = defaultIO(env)): Promise<number> {
  try {
    return await judge(env, io);
  } catch (error) {
    io.out(command("error", `${CHECK_NAME} failed: ${errorMessage(error)}`, { title: CHECK_NAME }));
    return 1;
  }
}

async function judge(env: NodeJS.ProcessEnv, io: WorkflowIO): Promise<number> {
  const eventName = env.GITHUB_EVENT_NAME ?? "";
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!eventPath)
    throw new Error("GITHUB_EVENT_PATH is not set: run this as a step of a GitHub Actions workflow");
  if (!EVENTS.has(eventName)) {
    throw new Error(
      `the workflow runs on "${eventName || "(unset)"}"; expected on: pull_request (types: opened, synchronize, reopened, edited, labeled, unlabeled, ready_for_review)`,
    );
  }
  const token = env["INPUT_GITHUB-TOKEN"] || env.INPUT_GITHUB_TOKEN || env.GITHUB_TOKEN;
  if (!token)
    throw new Error(
      "no token: give the step env GITHUB_TOKEN set to the workflow token (github.token), or the github-token input",
    );
  const payload: unknown = JSON.parse(readFileSync(eventPath, "utf8"));
  const botLogin = env.MODELGATE_BOT_LOGIN || "github-actions[bot]";
  const result = triggerFromEvent(eventName, payload, botLogin);
  if ("skip" in result) {
    io.out(command("notice", `${CHECK_NAME}: nothing to do (${result.skip})`));
    return 0;
  }
  const log: AttributionLog = {
    info: (message) => io.out(message),
    warn: (message) => io.out(command("warning", message)),
    error: (message) => io.out(message),
  };
  const ActionsOctokit = Octokit.plugin(retry, throttling, apiVersion, noBlindRepeats);
  const gh = new ActionsOctokit(
    withRequestTimeout({
      auth: token,
      baseUrl: (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
      userAgent: "modelgate-attribution-workflow",
      ...reliabilityOptions(DEFAULT_CLIENT_POLICY, {
        warn: (message) => io.out(command("warning", message)),
      }),
    }),
  );
  const readOnly = isForkPullRequest(eventName, payload);
  if (readOnly) {
    io.out(
      command(
        "notice",
        "fork PR: the workflow token is read-only, so no check run or comment is written; this step carries the verdict",
      ),
    );
  }
  const outcome = await runAttribution(
    {
      gh,
      log,
      identity: {
        bot_login: botLogin,
        app_slug: botLogin.endsWith("[bot]") ? botLogin.slice(0, -5) : undefined,
      },
      write: !readOnly,
    },
    result.run,
  );
  if (outcome.kind === "skipped") {
    io.out(command("notice", `${CHECK_NAME}: nothing to do (${outcome.reason})`));
    return 0;
  }
  io.summary(`## ${CHECK_NAME}: ${outcome.verdict.title}\n\n${outcome.summary}\n`);
  if (outcome.verdict.conclusion === "failure") {
    io.out(command("error", outcome.verdict.title, { title: CHECK_NAME }));
    return 1;
  }
  io.out(command("notice", `${outcome.verdict.conclusion}: ${outcome.verdict.title}`, { title: CHECK_NAME }));
  return 0;
}

/**
 * A `pull_request` run from a fork gets a read-only token and no secrets. A deleted fork
 * (`head.repo` null) is a fork too (`isFork`), so the adapter does not try to write.
 */
function isForkPullRequest(eventName: string, payload: unknown): boolean {
  if (eventName !== "pull_request") return false;
  const p = payload as { repository?: { full_name?: unknown }; pull_request?: ForkShape };
  const base = typeof p.repository?.full_name === "string" ? p.repository.full_name : undefined;
  return isFork(p.pull_request ?? {}, base);
}

/** A workflow command (`::error title=…::message`), escaped as the runner expects. */
export function command(
  name: "error" | "warning" | "notice",
  message: string,
  properties: Record<string, string> = {},
): string {
  const props = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(",");
  return `::${name}${props ? ` ${props}` : ""}::${escapeData(message)}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

function defaultIO(env: NodeJS.ProcessEnv): WorkflowIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    summary: (markdown) => {
      if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, markdown);
    },
  };
}
