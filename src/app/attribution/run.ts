import { errorMessage, UserError } from "../../core/errors.ts";
import { CHECK_NAMES } from "../../core/protocol.ts";
import { upsertCheckRun, type WriteAction } from "../../github/check-runs.ts";
import { classifyPull } from "../../github/classify-pull.ts";
import { type GitHub, httpStatus, type RepoRef, requestId } from "../../github/client.ts";
import { type LoadedPolicy, loadPolicy } from "../../github/policy.ts";
import { getPullRequest, type PullRequestState } from "../../github/pulls.ts";
import { upsertStickyComment } from "../../github/sticky-comment.ts";
import { clearStaleOverride, evaluateOverride } from "./override.ts";
import {
  type RenderContext,
  renderCheckSummary,
  renderComment,
  renderResolvedComment,
  STICKY_MARKER,
} from "./render.ts";
import { type Judgement, type OverrideStatus, type Verdict, verdictOf } from "./verdict.ts";

export const CHECK_NAME = CHECK_NAMES.attribution;

/** What asks for a (re-)evaluation of one PR. Built from a webhook or a workflow's event file. */
export interface AttributionTrigger extends RepoRef {
  pull_number: number;
  /** `pull_request.synchronize`, `check_run.rerequested`…: for logs. */
  reason: string;
  /** A push: the time it happened (`pull_request.updated_at` of the synchronize payload). */
  pushed_at?: string | undefined;
  /** A label event: only the override label is worth a run. */
  label?: string | undefined;
  /** Someone asked for a re-run: write the check even when nothing changed. */
  rerun?: boolean | undefined;
  /** The head SHA the event names: where the error check goes when the PR cannot even be read. */
  head_sha?: string | undefined;
}

export interface AttributionLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AttributionDeps {
  gh: GitHub;
  log: AttributionLog;
  /**
   * Who the App writes as: its comments are found by this login (`modelgate[bot]`), its check
   * runs by this app slug. The workflow adapter writes as `github-actions[bot]`.
   */
  identity: { bot_login: string; app_slug?: string | undefined };
  /** Writes to GitHub can be turned off (a read-only workflow token): the verdict still stands. */
  write?: boolean;
}

export type AttributionOutcome =
  | { kind: "skipped"; reason: string }
  | {
      kind: "judged";
      head_sha: string;
      verdict: Verdict;
      judgement: Judgement;
      summary: string;
      check: { id: number; action: WriteAction } | undefined;
      comment: WriteAction | "absent" | "none";
    };

/** The external id of our check run: which PR it judged, to answer `check_run.rerequested`. */
export function externalIdFor(pull_number: number): string {
  return `pr:${pull_number}`;
}

export function pullNumberFromExternalId(externalId: string | null | undefined): number | undefined {
  const match = /^pr:(\d+)$/.exec(externalId ?? "");
  return match ? Number(match[1]) : undefined;
}

/**
 * The attribution check for one PR (issue 5): policy from the base, file list and structured
 * contents from GitHub, classification by the core, override from labels, then one check run
 * on the head SHA and at most one sticky comment. Idempotent: run it twice and the second run
 * finds and keeps what the first wrote. A failure after the PR is known still leaves a failing
 * check that explains; only when that write fails too does the error propagate.
 */
export async function runAttribution(
  deps: AttributionDeps,
  trigger: AttributionTrigger,
): Promise<AttributionOutcome> {
  const repo: RepoRef = { owner: trigger.owner, repo: trigger.repo };
  let pr: PullRequestState;
  try {
    pr = await getPullRequest(deps.gh, { ...repo, pull_number: trigger.pull_number });
  } catch (error) {
    // No such PR (a forged or stale payload, or a repo the installation cannot see): a check on
    // the commit it names would let anyone with the secret write checks on arbitrary commits.
    if (httpStatus(error) === 404)
      return { kind: "skipped", reason: `PR #${trigger.pull_number} does not exist (GitHub answered 404)` };
    if (!trigger.head_sha) throw error;
    return await failClosed(deps, repo, unreadPull(trigger, trigger.head_sha), trigger, error);
  }
  if (pr.state === "closed") return { kind: "skipped", reason: `PR #${pr.number} is closed` };
  let policy: LoadedPolicy | undefined;
  let judgement: Judgement;
  try {
    policy = await loadPolicy(deps.gh, { ...repo, ref: pr.base_sha });
  } catch (error) {
    if (!(error instanceof UserError)) return await failClosed(deps, repo, pr, trigger, error);
    judgement = { kind: "invalid_config", message: error.message };
    return await publish(deps, repo, pr, trigger, judgement, context(pr, undefined));
  }
  const config = policy.config;
  if (
    trigger.label !== undefined &&
    trigger.label.toLowerCase() !== config.attribution.override_label.toLowerCase()
  ) {
    return { kind: "skipped", reason: `label ${JSON.stringify(trigger.label)} is not the override label` };
  }
  try {
    let cleared: OverrideStatus | undefined;
    if (trigger.reason.endsWith(".synchronize") && deps.write !== false)
      cleared = await clearStaleOverride(deps.gh, repo, pr, config, trigger.pushed_at);
    const classification = await classifyPull(deps.gh, repo, pr, config);
    const override = cleared ?? (await evaluateOverride(deps.gh, repo, pr, config, classification));
    judgement = { kind: "classified", classification, override };
  } catch (error) {
    return await failClosed(deps, repo, pr, trigger, error, policy);
  }
  return await publish(deps, repo, pr, trigger, judgement, context(pr, policy));
}

/** What the event says about a PR the API would not return. */
function unreadPull(trigger: AttributionTrigger, head_sha: string): PullRequestState {
  return {
    number: trigger.pull_number,
    state: "open",
    draft: false,
    author: "",
    head_sha,
    head_repo: null,
    // Unknown head repository: treated as a fork (least trust), as `isFork` does.
    fork: true,
    base_sha: "",
    base_ref: "",
    changed_files: 0,
    labels: [],
    html_url: "",
  };
}

function context(pr: PullRequestState, policy: LoadedPolicy | undefined): RenderContext {
  return {
    head_sha: pr.head_sha,
    base_sha: pr.base_sha,
    policy_sources: policy?.sources ?? [],
    override_label: policy?.config.attribution.override_label ?? "modelgate:allow-mixed",
    allow_author_override: policy?.config.attribution.allow_author_override ?? false,
  };
}

async function failClosed(
  deps: AttributionDeps,
  repo: RepoRef,
  pr: PullRequestState,
  trigger: AttributionTrigger,
  error: unknown,
  policy?: LoadedPolicy,
): Promise<AttributionOutcome> {
  const id = requestId(error);
  const message = `${errorMessage(error)}${id ? ` (GitHub request id ${id})` : ""}`;
  deps.log.error(
    `attribution of ${repo.owner}/${repo.repo}#${pr.number} (${trigger.reason}) failed: ${message}`,
  );
  return await publish(deps, repo, pr, trigger, { kind: "error", message }, context(pr, policy));
}

async function publish(
  deps: AttributionDeps,
  repo: RepoRef,
  pr: PullRequestState,
  trigger: AttributionTrigger,
  judgement: Judgement,
  ctx: RenderContext,
): Promise<AttributionOutcome> {
  const verdict = verdictOf(judgement);
  const summary = renderCheckSummary(judgement, verdict, ctx);
  const outcome = { kind: "judged" as const, head_sha: pr.head_sha, verdict, judgement, summary };
  if (deps.write === false) return { ...outcome, check: undefined, comment: "none" };
  const check = await upsertCheckRun(
    deps.gh,
    repo,
    {
      name: CHECK_NAME,
      head_sha: pr.head_sha,
      external_id: externalIdFor(pr.number),
      status: "completed",
      conclusion: verdict.conclusion,
      output: { title: verdict.title, summary },
    },
    { app_slug: deps.identity.app_slug, force: trigger.rerun === true },
  );
  let comment: WriteAction | "absent" | "none" = "none";
  if (judgement.kind === "classified") {
    const target = {
      ...repo,
      issue_number: pr.number,
      marker: STICKY_MARKER,
      author: deps.identity.bot_login,
    };
    const body = renderComment(judgement, verdict, ctx);
    comment = body
      ? (await upsertStickyComment(deps.gh, target, body)).action
      : (
          await upsertStickyComment(deps.gh, target, renderResolvedComment(verdict, ctx), {
            onlyIfPresent: true,
          })
        ).action;
  }
  deps.log.info(
    `attribution of ${repo.owner}/${repo.repo}#${pr.number} at ${pr.head_sha.slice(0, 7)} (${trigger.reason}): ${verdict.conclusion}, ${verdict.title}; check ${check.action}, comment ${comment}`,
  );
  return { ...outcome, check, comment };
}
