import { z } from "zod";
import { CHECK_NAMES, decisionMarker, hasPromotionTrailers } from "../../core/protocol.ts";
import { type CheckRecord, readCheckRecord, targetFromTitle } from "../../core/rollout/check-record.ts";
import { type Audit, renderNotice } from "../../core/rollout/render.ts";
import { httpStatus, type RepoRef } from "../../github/client.ts";
import { canWrite, permissionOf } from "../../github/labels.ts";
import { getGitCommit } from "../../github/rollout-api.ts";
import { upsertStickyComment } from "../../github/sticky-comment.ts";
import { type HandEditOutcome, runHandEdit } from "./hand-edit.ts";
import { type RolloutDeps, type RolloutOutcome, runRollout } from "./run.ts";

/**
 * Re-running the `modelgate/rollout` check (issue 13): `check_run.rerequested` of this App's
 * check re-judges what the check judged. A hand-edit flag re-checks the hand-edit rule on the
 * PR's head; a promotion decision runs the label's pipeline again for the same target, pinned
 * to the commit the check was on, with the person who clicked re-run as the actor (write
 * access required, as for the label).
 */

export interface RerunTrigger extends RepoRef {
  number: number;
  check_run_id: number;
  check_sha: string;
  sender: string;
  default_branch?: string | undefined;
  delivery: string;
}

const checkRunRerequested = z.object({
  action: z.literal("rerequested"),
  repository: z.object({
    name: z.string(),
    owner: z.object({ login: z.string() }),
    default_branch: z.string().optional(),
  }),
  sender: z.object({ login: z.string() }),
  check_run: z.object({
    id: z.number().int().positive(),
    name: z.string(),
    head_sha: z.string(),
    external_id: z.string().nullable().optional(),
  }),
});

/** The external id of every `modelgate/rollout` check: `rollout:<PR number>`. */
const EXTERNAL_ID = /^rollout:(\d+)$/;

export function rerunTrigger(payload: unknown, delivery: string): { run: RerunTrigger } | { skip: string } {
  const parsed = checkRunRerequested.safeParse(payload);
  if (!parsed.success) return { skip: "not a check_run.rerequested payload" };
  const event = parsed.data;
  if (event.check_run.name !== CHECK_NAMES.rollout)
    return { skip: `check_run.rerequested of another check (${event.check_run.name})` };
  const match = EXTERNAL_ID.exec(event.check_run.external_id ?? "");
  if (!match) return { skip: "check_run.rerequested: the check run names no pull request" };
  return {
    run: {
      owner: event.repository.owner.login,
      repo: event.repository.name,
      number: Number(match[1]),
      check_run_id: event.check_run.id,
      check_sha: event.check_run.head_sha,
      sender: event.sender.login,
      default_branch: event.repository.default_branch,
      delivery,
    },
  };
}

export type RerunOutcome = RolloutOutcome | HandEditOutcome;

export async function runRerun(deps: RolloutDeps, trigger: RerunTrigger): Promise<RerunOutcome> {
  const { gh } = deps;
  const repo: RepoRef = { owner: trigger.owner, repo: trigger.repo };
  if (trigger.sender.toLowerCase() === deps.identity.bot_login.toLowerCase())
    return { kind: "skipped", reason: "re-run requested by this app" };
  // What the check judged is read from the check itself, and only from one this App created:
  // a forged or stale payload cannot make the App re-judge someone else's check.
  let run: {
    name: string;
    head_sha: string;
    external_id: string | null;
    app?: { slug?: string } | null;
    output: { title: string | null; summary: string | null };
  };
  try {
    ({ data: run } = await gh.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...repo,
      check_run_id: trigger.check_run_id,
    }));
  } catch (error) {
    if (httpStatus(error) === 404)
      return { kind: "skipped", reason: `check run ${trigger.check_run_id} does not exist` };
    throw error;
  }
  if (
    run.app?.slug !== deps.identity.app_slug ||
    run.name !== CHECK_NAMES.rollout ||
    run.head_sha !== trigger.check_sha ||
    run.external_id !== `rollout:${trigger.number}`
  )
    return {
      kind: "skipped",
      reason: `check run ${trigger.check_run_id} is not this App's modelgate/rollout check`,
    };
  const record = readCheckRecord(run.output.summary) ?? legacyRecord(run.output.title);
  if (!record) {
    deps.log.warn(
      `rollout re-run on ${repo.owner}/${repo.repo}#${trigger.number}: check run ${trigger.check_run_id} records nothing to re-judge (written before re-runs were recorded); apply the label again`,
    );
    return { kind: "skipped", reason: "the check records nothing to re-judge" };
  }
  if (record.kind === "hand_edit") {
    const permission = await permissionOf(gh, { ...repo, username: trigger.sender });
    if (!canWrite(permission)) {
      const audit: Audit = {
        label: "the hand-edit rule",
        actor: trigger.sender,
        permission,
        labeled_at: undefined,
        delivery: trigger.delivery,
        rerun: true,
      };
      const marker = decisionMarker(trigger.delivery);
      await upsertStickyComment(
        gh,
        { ...repo, issue_number: trigger.number, marker, author: deps.identity.bot_login },
        renderNotice({ kind: "permission", audit }, marker),
      );
      return { kind: "notice", notice: "permission" };
    }
    return await runHandEdit(deps, {
      ...repo,
      number: trigger.number,
      reason: `re-run by @${trigger.sender} (permission: ${permission})`,
      sender: trigger.sender,
      event_head_sha: undefined,
      rerun: true,
    });
  }
  let headRef: string;
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      ...repo,
      pull_number: trigger.number,
    });
    headRef = data.head.ref;
  } catch (error) {
    if (httpStatus(error) === 404) return { kind: "skipped", reason: `#${trigger.number} does not exist` };
    throw error;
  }
  // A check on the App's own promotion commit judged the commit below it (the pinned head
  // its trailers name), where the eval evidence is: re-judge that one, as a redelivery would.
  // The trailers are enough to pick it: the pipeline then accepts the check's commit as the
  // App's only if its tree is exactly the pinned head's with the share set.
  const commit = await getGitCommit(gh, repo, trigger.check_sha);
  const parent = commit.parents.length === 1 ? commit.parents[0] : undefined;
  const pinned =
    parent && hasPromotionTrailers(commit.message, record.target, parent) ? parent : trigger.check_sha;
  return await runRollout(deps, {
    ...repo,
    number: trigger.number,
    is_pull: true,
    label: `rollout:${record.target}`,
    sender: trigger.sender,
    pinned_sha: pinned,
    head_ref: headRef,
    labeled_at: undefined,
    default_branch: trigger.default_branch,
    delivery: trigger.delivery,
    rerun: { target: record.target, check_sha: trigger.check_sha },
  });
}

/** A promotion check written before the record line: its target is in its title. */
function legacyRecord(title: string | null): CheckRecord | undefined {
  const target = targetFromTitle(title);
  return target === undefined ? undefined : { kind: "promotion", target };
}
