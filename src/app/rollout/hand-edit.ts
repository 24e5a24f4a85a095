import type { Config } from "../../core/config/schema.ts";
import { errorMessage, UserError } from "../../core/errors.ts";
import { CHECK_NAMES } from "../../core/protocol.ts";
import { readCheckRecord, withCheckRecord } from "../../core/rollout/check-record.ts";
import {
  type HandEdit,
  handEditCheck,
  isAppPromotionCommit,
  judgeHandEdit,
} from "../../core/rollout/hand-edit.ts";
import { findCheckRun, upsertCheckRun } from "../../github/check-runs.ts";
import { type GitHub, httpStatus, type RepoRef, requestId } from "../../github/client.ts";
import { readFileAt } from "../../github/contents.ts";
import { loadPolicy } from "../../github/policy.ts";
import { getPullRequest, mergeBase, type PullRequestState } from "../../github/pulls.ts";
import { branchSha, getGitCommit } from "../../github/rollout-api.ts";

/**
 * The hand-edit rule on a PR (issue 13, docs/rollout.md "Hand edits of the share"): a PR whose
 * own diff raises the share at `rollout.key` gets a failing `modelgate/rollout` check, unless
 * modelgate itself vouched for its head (a `modelgate/rollout` success by this App for this PR,
 * or the App's own promotion commit, pushed by the App). Lowering the share is a rollback and
 * is never flagged.
 */

const POLICY_FILE = ".github/modelgate.yml";
const DEFAULT_KEY = "rollout.candidate_percent";

export interface HandEditTrigger extends RepoRef {
  number: number;
  /** `pull_request.synchronize`, `re-run by @alice`…: for logs and the check's footer. */
  reason: string;
  /** The signed event's sender: a push by the App itself is how its own commit is recognised. */
  sender: string | undefined;
  /** The head the event names (`pull_request.head.sha`). */
  event_head_sha: string | undefined;
  /** Someone re-ran the check: write a neutral check too when there is nothing to flag. */
  rerun: boolean;
}

export interface HandEditDeps {
  gh: GitHub;
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  identity: { bot_login: string; app_slug: string };
}

export type HandEditOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "judged"; judgement: HandEdit; head_sha: string; check: "written" | "none" | "kept" };

export async function runHandEdit(deps: HandEditDeps, trigger: HandEditTrigger): Promise<HandEditOutcome> {
  const { gh } = deps;
  const repo: RepoRef = { owner: trigger.owner, repo: trigger.repo };
  let pr: PullRequestState;
  try {
    pr = await getPullRequest(gh, { ...repo, pull_number: trigger.number });
  } catch (error) {
    if (httpStatus(error) === 404)
      return { kind: "skipped", reason: `PR #${trigger.number} does not exist (GitHub answered 404)` };
    throw error;
  }
  if (pr.state === "closed") return { kind: "skipped", reason: `PR #${pr.number} is closed` };
  // The rule is the base branch's, as for a label: its policy names the file and the key.
  // Anything unreadable from here on fails closed, naming what could not be read.
  let file = POLICY_FILE;
  let config: Config | undefined;
  let judgement: HandEdit;
  try {
    const baseTip = (await branchSha(gh, repo, pr.base_ref)) ?? pr.base_sha;
    try {
      config = (await loadPolicy(gh, { ...repo, ref: baseTip })).config;
    } catch (error) {
      // Without a valid policy there is no file or key to read; the attribution check fails
      // on the same policy and says why.
      if (error instanceof UserError)
        return { kind: "skipped", reason: `invalid modelgate config on ${pr.base_ref}` };
      throw error;
    }
    file = config.llm.config;
    // The PR's own change is head vs the merge base (what GitHub's diff shows); a share that
    // moved on the base branch since is not this PR's doing.
    const base = await mergeBase(gh, { ...repo, base: baseTip, head: pr.head_sha });
    const [baseText, headText] = await Promise.all([
      readFileAt(gh, { ...repo, path: file, ref: base }),
      readFileAt(gh, { ...repo, path: file, ref: pr.head_sha }),
    ]);
    judgement = judgeHandEdit({
      file,
      key: config.rollout.key,
      base: baseText,
      head: headText,
      base_sha: base,
      head_sha: pr.head_sha,
    });
  } catch (error) {
    const id = requestId(error);
    judgement = {
      kind: "unreadable",
      message: `cannot read ${file} on ${pr.base_ref} or at the head: ${errorMessage(error)}${id ? ` (GitHub request id ${id})` : ""}`,
    };
  }
  const key = config?.rollout.key ?? DEFAULT_KEY;
  const outcome = (check: "written" | "none" | "kept"): HandEditOutcome => {
    deps.log.info(
      `rollout hand-edit rule on ${repo.owner}/${repo.repo}#${pr.number} at ${pr.head_sha.slice(0, 7)} (${trigger.reason}): ${judgement.kind}; check ${check}`,
    );
    return { kind: "judged", judgement, head_sha: pr.head_sha, check };
  };
  const external_id = `rollout:${pr.number}`;
  const existing = await findCheckRun(gh, repo, {
    name: CHECK_NAMES.rollout,
    head_sha: pr.head_sha,
    external_id,
    app_slug: deps.identity.app_slug,
  });
  // A decision of the label flow on this head stands: a success is modelgate's word that the
  // share was promoted through the gates, a failure already blocks and keeps the target a
  // re-run needs. Only an earlier hand-edit judgement is replaced.
  if (existing && readCheckRecord(existing.output.summary)?.kind !== "hand_edit") return outcome("kept");
  const flagged = judgement.kind === "increase" || judgement.kind === "unreadable";
  if (!flagged && !trigger.rerun && !existing) return outcome("none");
  if (
    judgement.kind === "increase" &&
    (await pushedPromotion(deps, repo, trigger, pr.head_sha, judgement.to))
  )
    return outcome("none");
  const check = handEditCheck({
    judgement,
    file,
    key,
    label_prefix: config?.rollout.label_prefix ?? "rollout:",
    phases: config?.rollout.phases ?? [],
    base_ref: pr.base_ref,
    head_sha: pr.head_sha,
    reason: trigger.reason,
  });
  await upsertCheckRun(
    gh,
    repo,
    {
      name: CHECK_NAMES.rollout,
      head_sha: pr.head_sha,
      external_id,
      status: "completed",
      conclusion: check.conclusion,
      output: { title: check.title, summary: withCheckRecord(check.summary, { kind: "hand_edit" }) },
    },
    { app_slug: deps.identity.app_slug, force: trigger.rerun },
  );
  return outcome("written");
}

/**
 * Whether the head is the App's own promotion commit to `share`, pushed by the App: the
 * `synchronize` its fast-forward caused can arrive before the promotion has written its success
 * check. Trailers and author can be forged by anyone who can push; the signed event's sender
 * cannot, so both are required.
 */
async function pushedPromotion(
  deps: HandEditDeps,
  repo: RepoRef,
  trigger: HandEditTrigger,
  head: string,
  share: number,
): Promise<boolean> {
  if (trigger.sender?.toLowerCase() !== deps.identity.bot_login.toLowerCase()) return false;
  if (trigger.event_head_sha !== head) return false;
  const commit = await getGitCommit(deps.gh, repo, head);
  return isAppPromotionCommit(commit, share, deps.identity.bot_login);
}
