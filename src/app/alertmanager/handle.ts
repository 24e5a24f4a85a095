import type { AlertTarget } from "../../core/alertmanager/match.ts";
import { planAlerts, repoKey } from "../../core/alertmanager/match.ts";
import type { Alert, AlertmanagerPayload } from "../../core/alertmanager/payload.ts";
import { alertTrigger, renderResolvedComment, resolvedMarker } from "../../core/alertmanager/render.ts";
import { errorMessage, UserError } from "../../core/errors.ts";
import type { GitHub, RepoRef } from "../../github/client.ts";
import { findStickyComments } from "../../github/sticky-comment.ts";
import { type WatchOutcome, watchRollout } from "../../rollout/watch.ts";
import type { KeyedQueue } from "../keyed-queue.ts";

/**
 * What the App does with a parsed Alertmanager payload. A firing alert is a wake-up call, not
 * evidence: the App re-judges the live phase itself (`watchRollout`, the same judgement as
 * `modelgate watch`) and opens the rollback PR only on its own breach beyond noise. A resolved
 * alert gets one comment on the open rollback PR, never a revert.
 *
 * The HTTP status tells Alertmanager whether to retry: 502 when GitHub or Prometheus failed
 * (a retry may succeed), 200 for everything a retry cannot change (ignored alerts, a repository
 * the App is not installed on, a policy the user must fix), each logged.
 */

export interface AlertLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AlertDeps {
  /** An installation client for the repository, or undefined when the App is not installed there. */
  installation(target: RepoRef): Promise<GitHub | undefined>;
  /** The App's bot login (`<slug>[bot]`): whose comments and rollback PRs are ours. */
  author(): Promise<string>;
  /** The App's environment: `PROMETHEUS_URL`, `PROMETHEUS_BEARER_TOKEN`. */
  env: Readonly<Record<string, string | undefined>>;
  log: AlertLog;
  /** One task at a time per repository. */
  queue: KeyedQueue;
  fetch?: typeof fetch;
}

export interface TargetResult {
  repo: string;
  branch: string | null;
  fingerprints: string[];
  result: string;
}

export interface AlertAnswer {
  status: 200 | 502;
  body: {
    handled: TargetResult[];
    ignored: Array<{ fingerprint: string; reason: string }>;
  };
}

class Retryable extends Error {
  override name = "Retryable";
}

export async function handleAlerts(deps: AlertDeps, payload: AlertmanagerPayload): Promise<AlertAnswer> {
  const plan = planAlerts(payload.alerts);
  for (const { alert, reason } of plan.ignored) {
    deps.log.info(`alertmanager: ignored alert ${alert.fingerprint}: ${reason}`);
  }
  const handled: TargetResult[] = [];
  let retry = false;
  const record = async (
    target: AlertTarget,
    alerts: Alert[],
    run: (gh: GitHub) => Promise<string>,
  ): Promise<void> => {
    const where = `${target.owner}/${target.repo}${target.branch ? `@${target.branch}` : ""}`;
    const entry: TargetResult = {
      repo: `${target.owner}/${target.repo}`,
      branch: target.branch ?? null,
      fingerprints: alerts.map((a) => a.fingerprint),
      result: "",
    };
    try {
      entry.result = await deps.queue.run(repoKey(target), async () => {
        const gh = await deps.installation(target);
        if (!gh) {
          const message = `the App is not installed on ${target.owner}/${target.repo}: nothing to do (install it, or fix the modelgate_repo label)`;
          deps.log.error(`alertmanager: ${message}`);
          return `not installed: ${message}`;
        }
        return run(gh);
      });
      deps.log.info(`alertmanager: ${where}: ${entry.result}`);
    } catch (error) {
      if (error instanceof UserError) {
        // A retry cannot fix the repository's config: say so where the operator looks.
        entry.result = `config error: ${error.message}`;
        deps.log.error(`alertmanager: ${where}: ${error.message}`);
      } else {
        retry = true;
        entry.result = `failed, Alertmanager should retry: ${errorMessage(error)}`;
        deps.log.error(`alertmanager: ${where}: ${entry.result}`);
      }
    }
    handled.push(entry);
  };

  for (const group of plan.firing) {
    const alerts = group.alerts.map((a) => a.alert);
    await record(group.target, alerts, async (gh) => {
      const prometheus = watchFetch(deps.fetch ?? fetch);
      const outcome = await watchRollout(
        { gh, log: deps.log, env: deps.env, fetch: prometheus.fetch, author: await deps.author() },
        {
          owner: group.target.owner,
          repo: group.target.repo,
          base_ref: group.target.branch,
          trigger: alertTrigger(group.alerts),
        },
      );
      return describe(outcome, prometheus.failure());
    });
  }
  for (const { target, alert, name } of plan.resolved) {
    await record(target, [alert], async (gh) =>
      commentResolved(gh, target, alert, name, await deps.author()),
    );
  }
  return {
    status: retry ? 502 : 200,
    body: {
      handled,
      ignored: plan.ignored.map(({ alert, reason }) => ({ fingerprint: alert.fingerprint, reason })),
    },
  };
}

/** One line per watch outcome; throws `Retryable` where Alertmanager should send again. */
function describe(outcome: WatchOutcome, prometheusFailure: string | undefined): string {
  switch (outcome.kind) {
    case "idle":
      return `idle: ${outcome.reason}`;
    case "healthy":
      return "healthy: modelgate's own judgement finds no breach beyond noise; nothing opened";
    case "hold":
      // Prometheus down or failing is not the candidate's fault and not a verdict: retry.
      if (prometheusFailure) throw new Retryable(`could not re-judge: ${prometheusFailure}`);
      return `hold: ${outcome.judgement.detail}`;
    case "breach": {
      const link = outcome.rollback;
      // A repository modelgate cannot edit is the user's to fix: sending the alert again cannot help.
      if (link.kind === "failed" && link.config)
        throw new UserError(`breach, but the rollback PR cannot be made: ${link.reason}`);
      if (link.kind === "failed") throw new Retryable(`breach, but the rollback PR failed: ${link.reason}`);
      if (link.kind === "nothing") return `breach, nothing to roll back: ${link.reason}`;
      return `breach: rollback PR #${link.number} ${link.kind === "opened" ? "opened" : "already open, updated"}`;
    }
  }
}

/**
 * The watch's Prometheus calls through a fetch that remembers a transport failure or a 5xx:
 * `readProduction` turns every Prometheus error into a hold (right for a label), but an alert
 * re-judged while Prometheus is down must be retried, not answered "hold".
 */
function watchFetch(base: typeof fetch): { fetch: typeof fetch; failure: () => string | undefined } {
  let failure: string | undefined;
  const wrapped: typeof fetch = async (input, init) => {
    try {
      const response = await base(input, init);
      if (response.status >= 500) failure ??= `Prometheus answered ${response.status}`;
      return response;
    } catch (error) {
      failure ??= `cannot reach Prometheus: ${errorMessage(error)}`;
      throw error;
    }
  };
  return { fetch: wrapped, failure: () => failure };
}

/** Our open rollback PRs on the repository (into `branch` when the alert names one). */
async function openRollbackPulls(
  gh: GitHub,
  repo: RepoRef,
  branch: string | undefined,
  author: string,
): Promise<number[]> {
  const found: number[] = [];
  for (let page = 1; page <= 10; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls", {
      ...repo,
      state: "open",
      ...(branch ? { base: branch } : {}),
      per_page: 100,
      page,
    });
    for (const pull of data) {
      const ours =
        pull.head.ref.startsWith("modelgate/rollback-") &&
        pull.head.repo?.full_name.toLowerCase() === `${repo.owner}/${repo.repo}`.toLowerCase() &&
        pull.user?.login.toLowerCase() === author.toLowerCase();
      if (ours) found.push(pull.number);
    }
    if (data.length < 100) break;
  }
  return found;
}

async function commentResolved(
  gh: GitHub,
  target: AlertTarget,
  alert: Alert,
  name: string,
  author: string,
): Promise<string> {
  const repo = { owner: target.owner, repo: target.repo };
  const pulls = await openRollbackPulls(gh, repo, target.branch, author);
  if (pulls.length === 0) return "resolved: no open rollback PR to comment on";
  const marker = resolvedMarker(alert);
  const done: string[] = [];
  for (const issue_number of pulls) {
    const existing = await findStickyComments(gh, { ...repo, issue_number, marker, author });
    if (existing.length > 0) {
      done.push(`#${issue_number} already has it`);
      continue;
    }
    await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...repo,
      issue_number,
      body: renderResolvedComment(alert, name),
    });
    done.push(`commented on #${issue_number}`);
  }
  return `resolved: ${done.join(", ")}; the rollback is not reverted`;
}
