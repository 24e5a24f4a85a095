import type { Classification } from "../../core/classify/classify.ts";
import type { Config } from "../../core/config/schema.ts";
import type { GitHub, RepoRef } from "../../github/client.ts";
import { canWrite, latestLabeling, permissionOf, removeLabel } from "../../github/labels.ts";
import { commitDate, type PullRequestState } from "../../github/pulls.ts";
import type { OverrideStatus } from "./verdict.ts";

export function hasLabel(pr: PullRequestState, label: string): boolean {
  const wanted = label.toLowerCase();
  return pr.labels.some((name) => name.toLowerCase() === wanted);
}

/**
 * A push after the override label voids it (docs/attribution.md). The App is stateless and GitHub
 * keeps no push time a later event could compare with, so the rule is enforced at the one moment
 * the push is known: on `synchronize`, the label is removed unless it was applied after both the
 * push (`pull_request.updated_at` of that payload) and the new head's committer date, i.e. for
 * the new head by someone who saw it. Ties and unknown times remove it (fail closed). The
 * label's absence then shows on the PR that the override is gone.
 */
export async function clearStaleOverride(
  gh: GitHub,
  repo: RepoRef,
  pr: PullRequestState,
  config: Config,
  pushedAt: string | undefined,
): Promise<OverrideStatus | undefined> {
  const label = config.attribution.override_label;
  if (!hasLabel(pr, label)) return undefined;
  const by = await latestLabeling(gh, { ...repo, issue_number: pr.number, label });
  const byAt = by ? { actor: by.actor, at: by.created_at } : undefined;
  if (by && pushedAt !== undefined) {
    const committed = await commitDate(gh, { ...repo, sha: pr.head_sha });
    const pushed = Date.parse(pushedAt);
    const after = committed ? Math.max(pushed, Date.parse(committed)) : pushed;
    if (Date.parse(by.created_at) > after) return undefined;
  }
  await removeLabel(gh, { ...repo, issue_number: pr.number, name: label });
  pr.labels = pr.labels.filter((name) => name.toLowerCase() !== label.toLowerCase());
  return { kind: "cleared", label, by: byAt, head_sha: pr.head_sha };
}

/**
 * Whether the override label turns a mixed (or truncated) verdict into a pass: it counts when
 * the user who applied it last has write access and is not the PR's author (unless
 * `attribution.allow_author_override`). Who and when come from the PR's event log.
 */
export async function evaluateOverride(
  gh: GitHub,
  repo: RepoRef,
  pr: PullRequestState,
  config: Config,
  classification: Classification,
): Promise<OverrideStatus> {
  const label = config.attribution.override_label;
  if (!hasLabel(pr, label)) return { kind: "none" };
  if (!classification.mixed && !classification.truncated && !classification.unreadable)
    return { kind: "none" };
  const event = await latestLabeling(gh, { ...repo, issue_number: pr.number, label });
  if (!event) return { kind: "refused", label, by: undefined, reason: "unknown" };
  const by = { actor: event.actor, at: event.created_at };
  if (event.actor.toLowerCase() === pr.author.toLowerCase() && !config.attribution.allow_author_override) {
    return { kind: "refused", label, by, reason: "author" };
  }
  const permission = await permissionOf(gh, { ...repo, username: event.actor });
  if (!canWrite(permission)) return { kind: "refused", label, by, reason: "permission" };
  return { kind: "applied", label, by, categories: classification.categories };
}
