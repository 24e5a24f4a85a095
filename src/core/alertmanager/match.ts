import { ownGet } from "../own.ts";
import type { Alert } from "./payload.ts";

/**
 * Which alerts are modelgate's and what each asks for. An alert is ours when its labels name
 * the repository and the rule (docs/rollout.md, "The watch"):
 *
 *   modelgate_repo:   "owner/name"  the repository whose rollout is watched
 *   modelgate_rule:   "rollback"    the only rule so far: re-judge, and roll back on a breach
 *   modelgate_branch: "main"        optional: the branch production deploys from (default branch)
 *
 * Label values are hostile: a repository or branch of the wrong shape makes the alert ignored
 * with a reason, never a request to a path built from it, and labels are read with `ownGet`.
 */

export const ALERT_LABELS = {
  repo: "modelgate_repo",
  rule: "modelgate_rule",
  branch: "modelgate_branch",
} as const;

export const ROLLBACK_RULE = "rollback";

export interface AlertTarget {
  owner: string;
  repo: string;
  /** Absent: the repository's default branch. */
  branch: string | undefined;
}

export type AlertMatch =
  | { kind: "ours"; target: AlertTarget; alert: Alert; name: string }
  | { kind: "ignored"; reason: string; alert: Alert };

// GitHub's own limits: owners are 1–39 alphanumerics or single hyphens; names 1–100 of [A-Za-z0-9._-].
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
// A branch as `git check-ref-format --branch` would take it, a little stricter: no `..`, no
// `@{`, no control or special characters, no leading `-` or `/`, no `.lock` ending.
const BRANCH = /^(?!-|\/)(?!.*(?:\.\.|\/\/|@\{|\/\.|\.lock$|\/$|\.$))[A-Za-z0-9._/-]{1,255}$/;

export function matchAlert(alert: Alert): AlertMatch {
  const labels = alert.labels;
  const name = ownGet(labels, "alertname") ?? "(no alertname)";
  const repoLabel = ownGet(labels, ALERT_LABELS.repo);
  const rule = ownGet(labels, ALERT_LABELS.rule);
  if (repoLabel === undefined || rule === undefined) {
    return {
      kind: "ignored",
      alert,
      reason: `no ${ALERT_LABELS.repo} and ${ALERT_LABELS.rule} labels: not a modelgate alert`,
    };
  }
  if (rule !== ROLLBACK_RULE) {
    return {
      kind: "ignored",
      alert,
      reason: `${ALERT_LABELS.rule} ${JSON.stringify(rule.slice(0, 60))} is not a rule modelgate knows (expected "${ROLLBACK_RULE}")`,
    };
  }
  const parts = repoLabel.split("/");
  const [owner, repo] = parts;
  if (parts.length !== 2 || !owner || !repo || !OWNER.test(owner) || !NAME.test(repo) || /^\.+$/.test(repo)) {
    return {
      kind: "ignored",
      alert,
      reason: `${ALERT_LABELS.repo} ${JSON.stringify(repoLabel.slice(0, 120))} is not owner/name`,
    };
  }
  const branch = ownGet(labels, ALERT_LABELS.branch);
  if (branch !== undefined && !BRANCH.test(branch)) {
    return {
      kind: "ignored",
      alert,
      reason: `${ALERT_LABELS.branch} ${JSON.stringify(branch.slice(0, 120))} is not a branch name`,
    };
  }
  return { kind: "ours", alert, name, target: { owner, repo, branch: branch || undefined } };
}

/** `owner/name@branch` in lower case: alerts for one target are judged once per payload. */
export function targetKey(target: AlertTarget): string {
  return `${target.owner}/${target.repo}@${target.branch ?? ""}`.toLowerCase();
}

/** `owner/name` in lower case: one task at a time per repository, whatever the branch. */
export function repoKey(target: AlertTarget): string {
  return `${target.owner}/${target.repo}`.toLowerCase();
}

/** The firing alerts grouped by target (one re-judgement each), and the resolved ones. */
export function planAlerts(alerts: readonly Alert[]): {
  firing: Array<{ target: AlertTarget; alerts: Array<{ alert: Alert; name: string }> }>;
  resolved: Array<{ target: AlertTarget; alert: Alert; name: string }>;
  ignored: Array<{ alert: Alert; reason: string }>;
} {
  const firing = new Map<string, { target: AlertTarget; alerts: Array<{ alert: Alert; name: string }> }>();
  const resolved: Array<{ target: AlertTarget; alert: Alert; name: string }> = [];
  const ignored: Array<{ alert: Alert; reason: string }> = [];
  for (const alert of alerts) {
    const match = matchAlert(alert);
    if (match.kind === "ignored") {
      ignored.push({ alert, reason: match.reason });
      continue;
    }
    if (alert.status === "resolved") {
      resolved.push({ target: match.target, alert, name: match.name });
      continue;
    }
    const key = targetKey(match.target);
    const group = firing.get(key) ?? { target: match.target, alerts: [] };
    group.alerts.push({ alert, name: match.name });
    firing.set(key, group);
  }
  return { firing: [...firing.values()], resolved, ignored };
}
