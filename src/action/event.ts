import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.ts";
import { isFork } from "../github/fork.ts";
import type { Settings } from "./inputs.ts";

/** The pull request a run is about, from the event payload. */
export interface PullContext {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  baseSha: string;
  /** The head branch lives in another repository (or one that was deleted). */
  fork: boolean;
  author: string;
  changedFiles: number | undefined;
  eventName: "pull_request" | "pull_request_target";
}

export type EventPlan = { kind: "pull_request"; pull: PullContext } | { kind: "ignore"; message: string };

/** Activity types that change what the PR would merge, or make it ready for review. */
export const PULL_REQUEST_ACTIONS = ["opened", "synchronize", "reopened", "ready_for_review"] as const;

/**
 * What to do for the event that started the job. Anything other than a pull request event
 * (or a PR activity that changes nothing, such as `labeled`) is a notice, not a failure.
 * `pull_request_target` runs with the base repository's secrets for code from forks, so it is
 * refused unless the workflow opts in; even then, head files are only ever read as data.
 */
export function planEvent(settings: Settings): EventPlan {
  const { eventName, eventPath } = settings.env;
  if (eventName !== "pull_request" && eventName !== "pull_request_target") {
    return {
      kind: "ignore",
      message: `modelgate evaluates pull requests; the '${eventName || "unknown"}' event has nothing to evaluate. Run it on: pull_request (types: ${PULL_REQUEST_ACTIONS.join(", ")}).`,
    };
  }
  if (eventName === "pull_request_target" && !settings.allowPullRequestTarget) {
    throw new UserError(
      "This workflow runs on pull_request_target, which gives fork PRs access to secrets. modelgate only reads the PR's files as data (nothing from the PR is executed), but it needs an explicit opt-in: set allow-pull-request-target: true, or run on pull_request.",
    );
  }
  const payload = readPayload(eventPath);
  const action = typeof payload.action === "string" ? payload.action : "";
  if (!(PULL_REQUEST_ACTIONS as readonly string[]).includes(action)) {
    return {
      kind: "ignore",
      message: `Nothing to evaluate for '${eventName}.${action || "?"}': modelgate runs on ${PULL_REQUEST_ACTIONS.join(", ")}.`,
    };
  }
  return { kind: "pull_request", pull: pullContext(payload, eventName, settings.env.repository) };
}

type Json = Record<string, unknown>;

function readPayload(path: string | undefined): Json {
  if (!path) throw new UserError("GITHUB_EVENT_PATH is not set: run this action in a GitHub Actions job.");
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UserError(
      `Cannot read the event payload at ${path} (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  if (!isObject(value)) throw new UserError(`The event payload at ${path} is not a JSON object.`);
  return value;
}

function pullContext(
  payload: Json,
  eventName: "pull_request" | "pull_request_target",
  repository: string,
): PullContext {
  const pull = object(payload.pull_request, "pull_request");
  const head = object(pull.head, "pull_request.head");
  const base = object(pull.base, "pull_request.base");
  const baseRepo = isObject(base.repo) ? base.repo : isObject(payload.repository) ? payload.repository : {};
  const fullName = typeof baseRepo.full_name === "string" ? baseRepo.full_name : repository;
  const [owner = "", repo = ""] = fullName.split("/");
  const user = isObject(pull.user) && typeof pull.user.login === "string" ? pull.user.login : "";
  return {
    owner,
    repo,
    number: number(pull.number, "pull_request.number"),
    headSha: sha(head.sha, "pull_request.head.sha"),
    baseSha: sha(base.sha, "pull_request.base.sha"),
    fork: isFork({ head: { repo: isObject(head.repo) ? head.repo : null } }, fullName),
    author: user,
    changedFiles: typeof pull.changed_files === "number" ? pull.changed_files : undefined,
    eventName,
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(value: unknown, what: string): Json {
  if (!isObject(value)) throw new UserError(`The event payload has no ${what}.`);
  return value;
}

function number(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new UserError(`The event payload has no ${what}.`);
  return value;
}

function sha(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^[0-9a-f]{40}$/i.test(value))
    throw new UserError(`The event payload's ${what} is not a commit SHA.`);
  return value;
}
