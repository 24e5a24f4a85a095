import type { Config } from "../../core/config/schema.ts";
import { errorMessage, UserError } from "../../core/errors.ts";
import { parseLlmDocument } from "../../core/llm-config.ts";
import { CHECK_NAMES, decisionMarker, hasPromotionTrailers } from "../../core/protocol.ts";
import { withCheckRecord } from "../../core/rollout/check-record.ts";
import { type Decision, decide } from "../../core/rollout/decide.ts";
import { pickEvidence } from "../../core/rollout/evidence.ts";
import { parseRolloutLabel, type RolloutLabel } from "../../core/rollout/labels.ts";
import { readModel, readShare, rolloutKeys, setShare } from "../../core/rollout/llm-edit.ts";
import {
  type Audit,
  checkTitle,
  commitMessage,
  type Notice,
  type NoticeKind,
  noticeTitle,
  type PromotionCommit,
  type PromotionReport,
  type RollbackLink,
  renderDecision,
  renderNotice,
  renderRollbackNotice,
} from "../../core/rollout/render.ts";
import {
  gateSentence,
  judgeAttribution,
  judgeEvidence,
  judgePhase,
  judgeProduction,
  notRequired,
  type ProductionJudgement,
  type Step,
} from "../../core/rollout/steps.ts";
import { upsertCheckRun } from "../../github/check-runs.ts";
import { classifyPull } from "../../github/classify-pull.ts";
import { type GitHub, httpStatus, type RepoRef, requestId } from "../../github/client.ts";
import { readFileAt } from "../../github/contents.ts";
import { canWrite, latestLabeling, permissionOf, removeLabel } from "../../github/labels.ts";
import { loadPolicy } from "../../github/policy.ts";
import { getPullRequest, type PullRequestState } from "../../github/pulls.ts";
import {
  branchSha,
  commitFile,
  currentLabels,
  evidenceCandidates,
  fastForward,
  getGitCommit,
} from "../../github/rollout-api.ts";
import { upsertStickyComment } from "../../github/sticky-comment.ts";
import { readProduction } from "../../rollout/production.ts";
import { openRollback } from "../../rollout/rollback-pr.ts";
import { treeWith } from "./tree.ts";

/**
 * Label-driven promotion and rollback (issue 6). One label event, one decision: the App reads
 * everything it needs from GitHub (the PR, the policy and LLM config at the base, evidence,
 * labels) and writes its decision back to GitHub (a commit, the `modelgate/rollout` check, a
 * comment, the label's removal). It keeps nothing of its own, so a redelivery finds what the
 * first delivery wrote and writes nothing twice.
 */

/** The label event, as GitHub signed it. */
export interface RolloutTrigger extends RepoRef {
  number: number;
  is_pull: boolean;
  label: string;
  sender: string;
  /** The PR's head when the label was applied: the commit the maintainer vouched for. */
  pinned_sha?: string | undefined;
  /** The PR's head branch (in the payload; the App commits the new share there). */
  head_ref?: string | undefined;
  /** When the label was applied (`updated_at` of the labeled payload). */
  labeled_at?: string | undefined;
  default_branch?: string | undefined;
  /** `X-GitHub-Delivery`: the key of the decision comment, kept by redeliveries. */
  delivery: string;
  /**
   * A re-run of the `modelgate/rollout` check instead of a label (`check_run.rerequested`): the
   * target its last decision recorded and the commit the check was on. Everything else is the
   * label's pipeline; only the label itself (presence, event log, removal) is left out.
   */
  rerun?: { target: number; check_sha: string } | undefined;
}

export interface RolloutLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RolloutDeps {
  gh: GitHub;
  log: RolloutLog;
  identity: { bot_login: string; app_slug: string };
  /** The App's environment: `PROMETHEUS_URL`, `PROMETHEUS_BEARER_TOKEN`. Never the repo's. */
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

export type RolloutOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "notice"; notice: NoticeKind }
  | {
      kind: "decided";
      decision: Decision;
      commit: PromotionCommit | undefined;
      rollback: RollbackLink | undefined;
    }
  | { kind: "rollback"; link: RollbackLink };

const DEFAULT_PREFIX = "rollout:";

export async function runRollout(deps: RolloutDeps, trigger: RolloutTrigger): Promise<RolloutOutcome> {
  const { gh } = deps;
  const repo: RepoRef = { owner: trigger.owner, repo: trigger.repo };
  if (trigger.sender.toLowerCase() === deps.identity.bot_login.toLowerCase())
    return { kind: "skipped", reason: "label applied by this app" };
  let pr: PullRequestState | undefined;
  let labels: string[];
  try {
    pr = trigger.is_pull ? await getPullRequest(gh, { ...repo, pull_number: trigger.number }) : undefined;
    labels = pr ? pr.labels : await currentLabels(gh, repo, trigger.number);
  } catch (error) {
    // A payload naming a PR or issue GitHub does not know: nothing to judge, nothing to write.
    if (httpStatus(error) === 404)
      return { kind: "skipped", reason: `#${trigger.number} does not exist (GitHub answered 404)` };
    throw error;
  }
  if (!trigger.rerun && !labels.some((name) => name.toLowerCase() === trigger.label.toLowerCase()))
    return {
      kind: "skipped",
      reason: `label ${JSON.stringify(trigger.label)} is no longer there (acted on, or removed)`,
    };

  const audit: Audit = {
    label: trigger.label,
    actor: trigger.sender,
    permission: "unknown",
    labeled_at: trigger.labeled_at,
    delivery: trigger.delivery,
    pinned_sha: pr ? (trigger.pinned_sha ?? pr.head_sha) : undefined,
    base_ref: pr?.base_ref ?? trigger.default_branch,
    ...(trigger.rerun ? { rerun: true } : {}),
  };
  // A rollout decides about production now, so the policy, the current share and the metrics
  // file come from the base branch's tip, not from `pull.base.sha` (GitHub leaves that where
  // the PR's head was last pushed, however far the branch has moved since).
  const baseTip = pr ? await branchSha(gh, repo, pr.base_ref) : undefined;
  if (pr && !baseTip) {
    const permission = await permissionOf(gh, { ...repo, username: trigger.sender });
    audit.permission = permission;
    if (!canWrite(permission)) return await notice(deps, repo, trigger, { kind: "permission", audit });
    return await notice(deps, repo, trigger, {
      kind: "error",
      audit,
      message: `the base branch ${pr.base_ref} does not exist (GET git/ref/heads/${pr.base_ref} answered 404)`,
      head_sha: pr.head_sha,
    });
  }
  const baseRef = baseTip ?? trigger.default_branch ?? (await defaultBranch(gh, repo));
  let config: Config;
  try {
    config = (await loadPolicy(gh, { ...repo, ref: baseRef })).config;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // The prefix lives in the config that failed: only a label with the default prefix is ours
    // (a re-run is of our own check, so it is ours whatever the prefix).
    if (!trigger.rerun && !trigger.label.toLowerCase().startsWith(DEFAULT_PREFIX))
      return { kind: "skipped", reason: "invalid config" };
    const permission = await permissionOf(gh, { ...repo, username: trigger.sender });
    audit.permission = permission;
    if (!canWrite(permission)) return await notice(deps, repo, trigger, { kind: "permission", audit });
    return await notice(deps, repo, trigger, {
      kind: "invalid_config",
      audit,
      message: error.message,
      head_sha: pr?.head_sha,
    });
  }
  const parsed: RolloutLabel | undefined = trigger.rerun
    ? rerunLabel(config.rollout.label_prefix, trigger.rerun.target)
    : parseRolloutLabel(trigger.label, config.rollout.label_prefix);
  if (!parsed)
    return { kind: "skipped", reason: `label ${JSON.stringify(trigger.label)} is not a rollout label` };
  audit.label = parsed.label;

  if (!trigger.rerun) {
    // The event log says when (the payload does not); who comes from the signed payload.
    const labeling = await latestLabeling(gh, {
      ...repo,
      issue_number: trigger.number,
      label: trigger.label,
    });
    if (labeling?.actor.toLowerCase() === trigger.sender.toLowerCase())
      audit.labeled_at = labeling.created_at;
  }
  const permission = await permissionOf(gh, { ...repo, username: trigger.sender });
  audit.permission = permission;
  if (!canWrite(permission)) return await notice(deps, repo, trigger, { kind: "permission", audit });
  if (parsed.kind === "invalid")
    return await notice(deps, repo, trigger, { kind: "invalid_label", audit, message: parsed.reason });
  try {
    if (parsed.kind === "rollback") return await rollbackByLabel(deps, repo, trigger, config, audit, pr);
    if (!pr) {
      return await notice(deps, repo, trigger, {
        kind: "invalid_label",
        audit,
        message: "a promotion label belongs on a rollout pull request, not on an issue",
      });
    }
    return await promote(
      deps,
      repo,
      trigger,
      config,
      audit,
      { ...pr, base_tip: baseTip ?? pr.base_sha },
      parsed.share,
    );
  } catch (error) {
    const id = requestId(error);
    const message = `${errorMessage(error)}${id ? ` (GitHub request id ${id})` : ""}`;
    deps.log.error(
      `rollout ${trigger.label} on ${repo.owner}/${repo.repo}#${trigger.number} failed: ${message}`,
    );
    return await notice(deps, repo, trigger, {
      kind: "error",
      audit,
      message,
      head_sha: pr?.head_sha,
      target: parsed.kind === "promote" ? parsed.share : undefined,
    });
  }
}

/** The label a re-run stands for: the one that would ask for the same target today. */
function rerunLabel(prefix: string, target: number): RolloutLabel {
  return { kind: "promote", label: `${prefix}${target}`, share: target };
}

// ---------------------------------------------------------------------------------------------
// Promotion

async function promote(
  deps: RolloutDeps,
  repo: RepoRef,
  trigger: RolloutTrigger,
  config: Config,
  audit: Audit,
  pr: PullRequestState & { base_tip: string },
  target: number,
): Promise<RolloutOutcome> {
  const { gh } = deps;
  if (pr.state === "closed") return await notice(deps, repo, trigger, { kind: "closed", audit });
  // `pr.fork` counts a deleted fork (head repo null) too: its head branch name must never be
  // fast-forwarded in the base repository.
  if (pr.fork) return await notice(deps, repo, trigger, { kind: "fork", audit });
  const pinned = audit.pinned_sha ?? pr.head_sha;
  // A redelivery after this label's own commit finds the head one commit further: that is ours.
  const llmFile = config.llm.config;
  const keys = rolloutKeys(config);
  let ownCommit: string | undefined;
  if (pr.head_sha !== pinned) {
    if (await isOwnPromotion(gh, repo, pr.head_sha, pinned, target, { file: llmFile, key: keys.key }))
      ownCommit = pr.head_sha;
    else return await headMoved(deps, repo, trigger, audit, pr.head_sha, target);
  }
  const [baseText, headText] = await Promise.all([
    readFileAt(gh, { ...repo, path: llmFile, ref: pr.base_tip }),
    readFileAt(gh, { ...repo, path: llmFile, ref: ownCommit ?? pinned }),
  ]);
  if (headText === null)
    throw new UserError(`${llmFile} does not exist at the PR's head; \`llm.config\` names it`);
  const baseDoc = baseText === null ? undefined : parseLlmDocument(baseText, llmFile);
  const headDoc = parseLlmDocument(headText, llmFile);
  const current = baseDoc ? readShare(baseDoc, keys.key) : 0;
  const headShare = readShare(headDoc, keys.key);
  Object.assign(audit, {
    base_sha: pr.base_tip,
    llm_file: llmFile,
    share_key: keys.key,
    current,
    head_share: headShare,
    trusted_bot: config.rollout.trusted_bot,
    thresholds: {
      max_error_rate: config.gates.max_error_rate,
      max_completion_rate_drop: config.gates.max_completion_rate_drop,
      min_requests: config.gates.min_requests,
    },
  } satisfies Partial<Audit>);

  const phases = config.rollout.phases;
  const phase = judgePhase({ current, target, phases, allow_skip: config.rollout.allow_skip });
  const [classification, candidates] = await Promise.all([
    classifyPull(gh, repo, pr, config),
    evidenceCandidates(gh, repo, { issue_number: pr.number, sha: pinned }),
  ]);
  const trust = { trusted_bot: config.rollout.trusted_bot, head_sha: pinned };
  const steps: Step[] = [
    phase,
    judgeAttribution({ classification, llm_file: llmFile, share_key: keys.key }),
    judgeEvidence({ pick: pickEvidence("eval", candidates.eval, trust), ...trust }),
  ];
  let production: ProductionJudgement | undefined;
  const first = phases[0] ?? target;
  if (phase.gated) {
    const reading = await readProduction(deps, repo, config, pr.base_tip, current);
    audit.metrics_source = reading.source;
    production = judgeProduction(reading, config.gates, current);
    steps.push(production);
    steps.push(
      judgeEvidence({
        pick: pickEvidence("rehearsal", candidates.rehearsal, trust),
        ...trust,
        rollback_model: readModel(headDoc, keys.rollback_key),
      }),
    );
  } else {
    steps.push(notRequired("production", target, first), notRequired("rehearsal", target, first));
  }
  const decision = decide(steps, production?.breach === true);
  const report: PromotionReport = {
    decision,
    target,
    position: phase.position,
    phases: phases.length,
    audit,
  };
  if (production?.breach) {
    report.rollback = await openRollback(deps, repo, config, pr.base_ref, {
      kind: "breach",
      source_number: pr.number,
      audit,
      gates: production.gates.filter((g) => g.status === "fail").map(gateSentence),
    });
  }
  if (decision.outcome === "promote") {
    if (headShare === target) {
      report.commit = { action: "already", sha: ownCommit ?? pinned };
    } else {
      const headRef = trigger.head_ref;
      if (!headRef) throw new Error("the label event names no head branch to commit to");
      const sha = await commitFile(gh, repo, {
        parent: pinned,
        path: llmFile,
        text: setShare(headDoc, keys.key, target),
        message: commitMessage(report),
      });
      // Only a fast-forward from the pinned head: a push since then wins, and the label is void.
      if (!(await fastForward(gh, repo, headRef, sha))) {
        const now = await getPullRequest(gh, { ...repo, pull_number: pr.number });
        return await headMoved(deps, repo, trigger, audit, now.head_sha, target);
      }
      report.commit = { action: "committed", sha };
    }
  }
  const checkSha = report.commit?.sha ?? ownCommit ?? pinned;
  await upsertCheckRun(
    gh,
    repo,
    {
      name: CHECK_NAMES.rollout,
      head_sha: checkSha,
      external_id: `rollout:${pr.number}`,
      status: "completed",
      conclusion: decision.outcome === "promote" ? "success" : "failure",
      // The target goes on record, so a re-run of this check judges the same promotion again.
      output: {
        title: checkTitle(report),
        summary: withCheckRecord(renderDecision(report), { kind: "promotion", target }),
      },
    },
    { app_slug: deps.identity.app_slug },
  );
  const marker = decisionMarker(trigger.delivery);
  await upsertStickyComment(
    gh,
    { ...repo, issue_number: pr.number, marker, author: deps.identity.bot_login },
    renderDecision(report, marker),
  );
  if (!trigger.rerun) await removeLabel(gh, { ...repo, issue_number: pr.number, name: trigger.label });
  deps.log.info(
    `rollout ${trigger.label} on ${repo.owner}/${repo.repo}#${pr.number} at ${pinned.slice(0, 7)} by ${trigger.sender}: ${decision.outcome}${decision.blocking ? ` (${decision.blocking.name})` : ""}${report.commit ? `, ${report.commit.action} ${report.commit.sha.slice(0, 7)}` : ""}${report.rollback ? `, rollback ${report.rollback.kind}` : ""}`,
  );
  return { kind: "decided", decision, commit: report.commit, rollback: report.rollback };
}

/**
 * Whether `head` is the commit this App made for this label: on top of `pinned`, same target,
 * and exactly the App's edit. Message and trailers can be copied by anyone who can push, so a
 * copy that also changes something else (a route no eval has seen) must not pass for ours: the
 * commit's tree must be the pinned head's tree with only the share set, which is all the App's
 * commit ever changes. Git trees are content-addressed, so GitHub building that tree answers
 * with the same SHA exactly when the contents are identical.
 */
async function isOwnPromotion(
  gh: GitHub,
  repo: RepoRef,
  head: string,
  pinned: string,
  target: number,
  llm: { file: string; key: string },
): Promise<boolean> {
  const commit = await getGitCommit(gh, repo, head);
  if (
    commit.parents.length !== 1 ||
    commit.parents[0] !== pinned ||
    !hasPromotionTrailers(commit.message, target, pinned)
  )
    return false;
  const text = await readFileAt(gh, { ...repo, path: llm.file, ref: pinned });
  if (text === null) return false;
  let edited: string;
  try {
    edited = setShare(parseLlmDocument(text, llm.file), llm.key, target);
  } catch (error) {
    if (error instanceof UserError) return false;
    throw error;
  }
  const parent = await getGitCommit(gh, repo, pinned);
  return (await treeWith(gh, repo, parent.tree, llm.file, edited)) === commit.tree;
}

async function headMoved(
  deps: RolloutDeps,
  repo: RepoRef,
  trigger: RolloutTrigger,
  audit: Audit,
  head: string,
  target: number,
): Promise<RolloutOutcome> {
  return await notice(deps, repo, trigger, { kind: "head_moved", audit, head_sha: head, target });
}

// ---------------------------------------------------------------------------------------------
// Rollback

async function rollbackByLabel(
  deps: RolloutDeps,
  repo: RepoRef,
  trigger: RolloutTrigger,
  config: Config,
  audit: Audit,
  pr: PullRequestState | undefined,
): Promise<RolloutOutcome> {
  const baseRef = pr?.base_ref ?? trigger.default_branch ?? (await defaultBranch(deps.gh, repo));
  audit.base_ref = baseRef;
  const link = await openRollback(deps, repo, config, baseRef, {
    kind: "label",
    source_number: trigger.number,
    audit,
  });
  const marker = decisionMarker(trigger.delivery);
  await upsertStickyComment(
    deps.gh,
    { ...repo, issue_number: trigger.number, marker, author: deps.identity.bot_login },
    renderRollbackNotice(link, audit, marker),
  );
  if (!trigger.rerun)
    await removeLabel(deps.gh, { ...repo, issue_number: trigger.number, name: trigger.label });
  deps.log.info(
    `rollback ${trigger.label} on ${repo.owner}/${repo.repo}#${trigger.number} by ${trigger.sender}: ${link.kind}${"number" in link ? ` #${link.number}` : ""}`,
  );
  return { kind: "rollback", link };
}

// ---------------------------------------------------------------------------------------------
// Notices

async function notice(
  deps: RolloutDeps,
  repo: RepoRef,
  trigger: RolloutTrigger,
  spec: Notice & { head_sha?: string | undefined; target?: number | undefined },
): Promise<RolloutOutcome> {
  const { gh } = deps;
  // A refused promotion leaves a failing check on the head it judged; a stranger's label, or
  // one on a closed PR, changes no check (it must not be able to flip one). A re-run writes
  // only on the commit its check was on: a stale check's re-run must not overwrite the
  // verdict on a newer head (which may be a promotion's success).
  const checkFor = trigger.rerun
    ? spec.kind === "error" || spec.kind === "invalid_config"
    : spec.kind === "head_moved" || spec.kind === "error" || spec.kind === "invalid_config";
  const checkSha = trigger.rerun ? trigger.rerun.check_sha : spec.head_sha;
  const target = spec.target ?? trigger.rerun?.target ?? promotionTarget(trigger.label);
  if (checkFor && trigger.is_pull && checkSha) {
    const summary = renderNotice(spec);
    await upsertCheckRun(
      gh,
      repo,
      {
        name: CHECK_NAMES.rollout,
        head_sha: checkSha,
        external_id: `rollout:${trigger.number}`,
        status: "completed",
        conclusion: "failure",
        output: {
          title: noticeTitle(spec),
          summary: target === undefined ? summary : withCheckRecord(summary, { kind: "promotion", target }),
        },
      },
      { app_slug: deps.identity.app_slug },
    );
  }
  const marker = decisionMarker(trigger.delivery);
  await upsertStickyComment(
    gh,
    { ...repo, issue_number: trigger.number, marker, author: deps.identity.bot_login },
    renderNotice(spec, marker),
  );
  if (!trigger.rerun) await removeLabel(gh, { ...repo, issue_number: trigger.number, name: trigger.label });
  deps.log.info(
    `rollout ${trigger.label} on ${repo.owner}/${repo.repo}#${trigger.number} by ${trigger.sender}: ${spec.kind}`,
  );
  return { kind: "notice", notice: spec.kind };
}

/** The target of a promotion label with the default prefix (the policy that names another failed). */
function promotionTarget(label: string): number | undefined {
  const parsed = parseRolloutLabel(label, DEFAULT_PREFIX);
  return parsed?.kind === "promote" ? parsed.share : undefined;
}

async function defaultBranch(gh: GitHub, repo: RepoRef): Promise<string> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}", repo);
  return data.default_branch;
}
