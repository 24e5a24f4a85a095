import { GATES } from "../gates.ts";
import { COMMENT_MARKERS, promotionTrailers } from "../protocol.ts";
import { escapeUntrusted, inlineCode } from "../report/escape.ts";
import { formatInterval, formatSigned, formatValue, shortSha } from "../report/format.ts";
import type { Decision } from "./decide.ts";
import type { KeyEdit } from "./llm-edit.ts";
import { ALPHA_BREACH, ALPHA_WITHIN, formatP } from "./production-gates.ts";
import { ident, login, type ProductionJudgement, STEP_TITLES, type Step, type StepStatus } from "./steps.ts";

/**
 * The words of every rollout decision: the PR comment, the `modelgate/rollout` check run, the
 * commit message of a promotion and the body of a rollback PR. Each one carries the audit
 * (issue 6, point 7): who labelled, at which commit, the evidence numbers and the thresholds.
 * Logins, labels, paths and keys come from users or the repo and are escaped.
 */

export interface Thresholds {
  max_error_rate: number;
  max_completion_rate_drop: number;
  min_requests: number;
}

/** Who asked for what, when, and against which state: the audit lines of every comment. */
export interface Audit {
  label: string;
  actor: string;
  /** The labeller's repository permission as GitHub reported it. */
  permission: string;
  labeled_at: string | undefined;
  /** `X-GitHub-Delivery` of the event. */
  delivery: string;
  /** The head the label was applied at (pull requests only). */
  pinned_sha?: string | undefined;
  base_ref?: string | undefined;
  base_sha?: string | undefined;
  llm_file?: string | undefined;
  share_key?: string | undefined;
  /** The share on the base branch and at the pinned head. */
  current?: number | undefined;
  head_share?: number | undefined;
  trusted_bot?: string | undefined;
  thresholds?: Thresholds | undefined;
  /** Where production numbers came from, in words. */
  metrics_source?: string | undefined;
  /**
   * A re-run of the `modelgate/rollout` check asked for this judgement (not a label): `label`
   * is then the label that would ask for the same target, `actor` who clicked re-run, and
   * `pinned_sha` the commit the re-run check was on.
   */
  rerun?: boolean | undefined;
}

export type RollbackLink =
  | { kind: "opened" | "existing"; number: number; url: string | undefined }
  | { kind: "nothing"; reason: string }
  /** `config`: the repository must be fixed (a missing branch, an LLM config modelgate cannot edit); retrying cannot help. */
  | { kind: "failed"; reason: string; config?: boolean };

export interface PromotionCommit {
  action: "committed" | "already";
  sha: string;
}

export interface PromotionReport {
  decision: Decision;
  target: number;
  /** 1-based phase number of the target and the number of phases. */
  position: number;
  phases: number;
  audit: Audit;
  commit?: PromotionCommit | undefined;
  rollback?: RollbackLink | undefined;
}

const ICON: Record<StepStatus, string> = {
  pass: "✅ pass",
  fail: "❌ fail",
  hold: "⏸️ hold",
  not_required: "➖ not required",
};

export function checkTitle(report: PromotionReport): string {
  const { decision, target, audit } = report;
  switch (decision.outcome) {
    case "promote":
      return `Promoted to ${target} % (phase ${report.position} of ${report.phases})`;
    case "hold":
      return `Hold at ${audit.current ?? 0} %: not enough production evidence for ${target} %`;
    case "refuse": {
      const step = decision.blocking ? STEP_TITLES[decision.blocking.name].toLowerCase() : "a check";
      return `${plainLabel(audit.label)} refused: ${step} failed${decision.breach ? "; rollback PR opened" : ""}`;
    }
  }
}

/** The decision comment (and, without the marker, the check run's summary). */
export function renderDecision(report: PromotionReport, marker?: string): string {
  const { decision, target, audit } = report;
  const label = inlineCode(audit.label, { max: 60 });
  const lines: string[] = [];
  if (marker) lines.push(marker);
  switch (decision.outcome) {
    case "promote":
      lines.push(`### modelgate rollout: promoted to ${target} %`, "", promotedSentence(report));
      break;
    case "hold":
      lines.push(
        `### modelgate rollout: hold at ${audit.current ?? 0} %`,
        "",
        `${label} is not acted on yet: ${holdReason(decision.blocking)} ${audit.rerun ? "Re-run the check or apply the label" : "The label was removed; apply it"} again once more traffic has been served. Nothing was committed.`,
      );
      break;
    case "refuse":
      lines.push(
        `### modelgate rollout: ${label} refused`,
        "",
        `The candidate stays at ${audit.current ?? 0} %. ${decision.blocking ? `${STEP_TITLES[decision.blocking.name]} failed (see below).` : ""} ${audit.rerun ? "Nothing" : "The label was removed; nothing"} was committed.`,
      );
      break;
  }
  if (report.rollback) lines.push("", rollbackSentence(report.rollback));
  lines.push("", "| check | result | details |", "|---|---|---|");
  for (const step of decision.steps)
    lines.push(`| ${STEP_TITLES[step.name]} | ${ICON[step.status]} | ${cell(step.detail)} |`);
  const production = decision.steps.find(
    (s): s is ProductionJudgement => s.name === "production" && "gates" in s,
  );
  if (production) lines.push(...productionSection(production, audit));
  lines.push("", ...auditLines(audit, report.commit));
  return lines.join("\n");
}

function promotedSentence(report: PromotionReport): string {
  const { commit, target, audit } = report;
  const where = inlineCode(audit.share_key ?? "rollout key", { max: 80 });
  const file = inlineCode(audit.llm_file ?? "the LLM config", { max: 120 });
  const what =
    commit?.action === "committed"
      ? `modelgate committed ${where} = ${target} in ${file} to this PR's branch (\`${shortSha(commit.sha) ?? "?"}\`).`
      : `${where} is already ${target} in ${file} at \`${shortSha(commit?.sha ?? audit.pinned_sha) ?? "?"}\`; nothing new was committed.`;
  return `Every check passed for \`${shortSha(audit.pinned_sha) ?? "?"}\`. ${what} Merging this PR moves production to ${target} %.`;
}

function holdReason(step: Step | undefined): string {
  if (!step) return "a check could not decide yet.";
  return `${STEP_TITLES[step.name].toLowerCase()} could not decide yet. Too little data never promotes and never rolls back.`;
}

function rollbackSentence(link: RollbackLink): string {
  switch (link.kind) {
    case "opened":
      return `**Rollback:** a production gate failed beyond noise, so modelgate opened the rollback PR #${link.number} (share → 0 %, routes back to the rollback model). Review and merge it to roll back.`;
    case "existing":
      return `**Rollback:** a production gate failed beyond noise; the rollback PR #${link.number} is already open. Review and merge it to roll back.`;
    case "nothing":
      return `**Rollback:** a production gate failed beyond noise, but there is nothing to roll back: ${escapeUntrusted(link.reason)}.`;
    case "failed":
      return `**Rollback:** a production gate failed beyond noise, and opening the rollback PR failed: ${escapeUntrusted(link.reason)}. Roll back by hand.`;
  }
}

function productionSection(step: ProductionJudgement, audit: Audit): string[] {
  const lines: string[] = [];
  if (step.gates.length > 0) {
    lines.push(
      "",
      `**Production gates** (current phase ${audit.current ?? 0} %, candidate vs control)`,
      "",
      "| gate | status | value | always-valid interval | limit | p breach | p within |",
      "|---|---|---|---|---|---|---|",
    );
    for (const gate of step.gates) {
      const { unit, signed } = GATES[gate.name];
      const value = signed ? formatSigned(gate.value, unit) : formatValue(gate.value, unit);
      const p = (x: number | null) => (x === null ? "n/a" : formatP(x));
      lines.push(
        `| ${ident(gate.name)} | ${gate.status} | ${value} | ${formatInterval(gate.ci95, unit, signed)} | ${formatValue(gate.threshold, unit)} | ${p(gate.p_breach)} | ${p(gate.p_within)} |`,
      );
    }
    lines.push(
      "",
      `A gate fails (rollback) when p breach ≤ ${ALPHA_BREACH} and passes when p within ≤ ${ALPHA_WITHIN}: always-valid p-values, so checking this phase again and again (every hour) does not raise the chance of a false rollback or a false promotion above 2.5 % each. Promotion past the first phase needs \`max_error_rate\` to pass here: the eval proves only a coarse error ceiling.`,
    );
  }
  const reading = step.reading;
  if (reading.kind === "counts") {
    const { control, candidate } = reading.arms;
    lines.push(
      "",
      "| arm | requests | errors | tasks | completed |",
      "|---|---|---|---|---|",
      `| control | ${formatValue(control.requests, "int")} | ${formatValue(control.errors, "int")} | ${formatValue(control.tasks, "int")} | ${formatValue(control.completed, "int")} |`,
      `| candidate | ${formatValue(candidate.requests, "int")} | ${formatValue(candidate.errors, "int")} | ${formatValue(candidate.tasks, "int")} | ${formatValue(candidate.completed, "int")} |`,
    );
  }
  if (reading.queries?.length) {
    lines.push("", `Source: ${escapeUntrusted(reading.source)}.`, "");
    for (const q of reading.queries) {
      lines.push(
        `- ${q.arm} ${q.count} = ${q.value === null ? "no data" : formatValue(q.value, "int")}: ${inlineCode(q.query, { max: 300 })}`,
      );
    }
  } else {
    lines.push("", `Source: ${escapeUntrusted(reading.source)}.`);
  }
  return lines;
}

export function auditLines(audit: Audit, commit?: PromotionCommit): string[] {
  const lines = ["**Audit**", ""];
  const at = audit.labeled_at ? ` at ${escapeUntrusted(audit.labeled_at)}` : "";
  lines.push(
    audit.rerun
      ? `- Re-run of the \`modelgate/rollout\` check (for ${inlineCode(audit.label, { max: 60 })}) requested by ${login(audit.actor)} (permission: ${escapeUntrusted(audit.permission)}); webhook delivery ${inlineCode(audit.delivery, { max: 80 })}.`
      : `- Label ${inlineCode(audit.label, { max: 60 })} applied by ${login(audit.actor)} (permission: ${escapeUntrusted(audit.permission)})${at}; webhook delivery ${inlineCode(audit.delivery, { max: 80 })}.`,
  );
  if (audit.pinned_sha)
    lines.push(
      `- Pinned head: \`${escapeUntrusted(audit.pinned_sha)}\` (${audit.rerun ? "the commit the re-run check judged" : "the commit the label was applied at"}).`,
    );
  if (audit.base_sha && audit.llm_file && audit.share_key) {
    lines.push(
      `- State: ${inlineCode(audit.share_key, { max: 80 })} in ${inlineCode(audit.llm_file, { max: 120 })} is ${audit.current ?? 0} % on ${inlineCode(audit.base_ref ?? "base", { max: 80 })} at \`${shortSha(audit.base_sha) ?? "?"}\`${audit.head_share === undefined ? "" : ` and ${audit.head_share} % at the pinned head`}.`,
    );
  }
  if (audit.thresholds) {
    const t = audit.thresholds;
    lines.push(
      `- Thresholds: candidate error rate ≤ ${formatValue(t.max_error_rate, "percent")}, completion drop vs control ≤ ${formatValue(t.max_completion_rate_drop, "pp")}, at least ${formatValue(t.min_requests, "int")} requests per arm; a gate decides only when its always-valid p-value clears its α (fail ${ALPHA_BREACH} per gate, pass ${ALPHA_WITHIN}); the error rate must pass in production before the second phase.`,
    );
  }
  if (audit.trusted_bot)
    lines.push(`- Evidence is trusted only from ${login(audit.trusted_bot)} and only for the pinned head.`);
  if (commit?.action === "committed") lines.push(`- Commit: \`${escapeUntrusted(commit.sha)}\`.`);
  return lines;
}

/** The commit message of a promotion: the phase and the evidence, in plain text. */
export function commitMessage(report: PromotionReport): string {
  const { audit, target } = report;
  const lines = [
    `rollout: candidate to ${target} % (phase ${report.position} of ${report.phases})`,
    "",
    `${audit.rerun ? `Re-run of modelgate/rollout for ${audit.label}` : `Label ${audit.label}`} by @${audit.actor} on ${audit.pinned_sha ?? "?"}; base ${audit.base_ref ?? "?"} at ${audit.current ?? 0} %.`,
    "",
  ];
  for (const step of report.decision.steps) {
    lines.push(`${STEP_TITLES[step.name]}: ${step.status.replace("_", " ")}. ${plain(step.detail)}`);
  }
  lines.push("", ...promotionTrailers(target, audit.pinned_sha ?? ""));
  return lines.join("\n");
}

/** Markdown of our own making as plain text: no emphasis, no escapes, no zero-width joiners. */
export function plain(markdown: string): string {
  return markdown
    .replace(/\*\*/g, "")
    .replace(/\\([\\`*_[\]~|$])/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/[\u200b\u200d]/g, "");
}

export type NoticeKind =
  | "permission"
  | "head_moved"
  | "fork"
  | "closed"
  | "invalid_label"
  | "invalid_config"
  | "error";

export interface Notice {
  kind: NoticeKind;
  audit: Audit;
  /** The PR's head when the App looked (head_moved). */
  head_sha?: string | undefined;
  /** invalid_label, invalid_config, error: the message. */
  message?: string | undefined;
}

export function noticeTitle(notice: Notice): string {
  const label = plainLabel(notice.audit.label);
  switch (notice.kind) {
    case "permission":
      return `${notice.audit.rerun ? `Re-run for ${label}` : label} ignored: @${notice.audit.actor} lacks write access`;
    case "head_moved":
      return notice.audit.rerun
        ? `Re-run for ${label} refused: new commits since the check`
        : `${label} refused: new commits after the label`;
    case "fork":
      return `${label} refused: the PR's branch is in a fork`;
    case "closed":
      return `${label} ignored: the PR is closed`;
    case "invalid_label":
      return `${label} is not a rollout label`;
    case "invalid_config":
      return "Invalid modelgate config on the base branch";
    case "error":
      return `${label} could not be evaluated`;
  }
}

/** The comment for a label that is refused before any check runs. */
export function renderNotice(notice: Notice, marker?: string): string {
  const { audit } = notice;
  const label = inlineCode(audit.label, { max: 60 });
  const lines: string[] = [];
  if (marker) lines.push(marker);
  lines.push(`### modelgate rollout: ${escapeUntrusted(noticeTitle(notice))}`, "");
  switch (notice.kind) {
    case "permission":
      lines.push(
        audit.rerun
          ? `${login(audit.actor)} asked to re-run the \`modelgate/rollout\` check (for ${label}) but has ${escapeUntrusted(audit.permission)} permission on this repository; a re-run counts only from a user with write access. Nothing changed.`
          : `${login(audit.actor)} applied ${label} but has ${escapeUntrusted(audit.permission)} permission on this repository; a rollout label counts only from a user with write access. The label was removed and nothing else changed.`,
      );
      break;
    case "head_moved":
      lines.push(
        audit.rerun
          ? `The re-run check was on \`${shortSha(audit.pinned_sha) ?? "?"}\`, but the PR's head is now \`${shortSha(notice.head_sha) ?? "?"}\`. A re-run judges the commit its check was on, and that is no longer what this PR would merge; nothing changed. Once the eval has run on the new head, apply ${label}.`
          : `${label} was applied at \`${shortSha(audit.pinned_sha) ?? "?"}\`, but the PR's head is now \`${shortSha(notice.head_sha) ?? "?"}\`. A label vouches for the commit its author saw, so it does not carry over to new commits. The label was removed; once the eval has run on the new head, apply it again.`,
      );
      break;
    case "fork":
      lines.push(
        `modelgate commits the new share to the PR's branch, and this PR's branch lives in a fork. Open the rollout PR from a branch of this repository. The label was removed.`,
      );
      break;
    case "closed":
      lines.push(`The PR is closed, so there is nothing to promote. The label was removed.`);
      break;
    case "invalid_label":
      lines.push(`${label}: ${escapeUntrusted(notice.message ?? "")}. The label was removed.`);
      break;
    case "invalid_config":
      lines.push(
        "The policy is read from the base branch, and it does not validate, so no rollout decision can be made. The label was removed.",
        "",
        codeFence(notice.message ?? ""),
      );
      break;
    case "error":
      lines.push(
        `modelgate failed while evaluating ${label}, so the decision is incomplete and the \`modelgate/rollout\` check fails (fail closed). The label was removed; apply it again to retry (a share modelgate already committed is found and not committed twice).`,
        "",
        codeFence(notice.message ?? ""),
      );
      break;
  }
  lines.push("", ...auditLines(audit));
  return lines.join("\n");
}

function codeFence(text: string): string {
  return inlineCode(text.replace(/\s+/g, " "), { max: 2000 });
}

export interface RollbackPlan {
  edits: KeyEdit[];
  llm_file: string;
  candidate: string | undefined;
  rollback: string;
  base_ref: string;
  base_sha: string;
}

export function rollbackTitle(plan: RollbackPlan): string {
  return plan.candidate
    ? `Roll back ${plan.candidate} → ${plan.rollback} (modelgate)`
    : `Roll back the candidate to ${plan.rollback} (modelgate)`;
}

/** Why the rollback was asked for, in words, for its PR body and comment. */
export type RollbackCause =
  | { kind: "label"; source_number: number; audit: Audit }
  | { kind: "breach"; source_number: number; audit: Audit; gates: string[] }
  | { kind: "watch"; watch: WatchAudit; gates: string[] };

/** What a watch (an alert, `modelgate watch`, the Action's watch mode) judged, for the record. */
export interface WatchAudit {
  /** Who asked, in words: `Alertmanager alert ModelgateRollbackRule (fingerprint …)`, `modelgate watch`. */
  trigger: string;
  base_ref: string;
  base_sha: string;
  llm_file: string;
  share_key: string;
  share: number;
  metrics_source: string;
  /** When the judgement was made (ISO 8601). */
  judged_at: string;
}

/** Why a rollback was asked for, as one sentence (PR body, commit message). */
export function rollbackReason(cause: RollbackCause): string {
  switch (cause.kind) {
    case "breach":
      return `A production gate failed beyond noise while #${cause.source_number} was evaluated: ${cause.gates.join("; ")}.`;
    case "label":
      return `${login(cause.audit.actor)} asked for a rollback with ${inlineCode(cause.audit.label, { max: 60 })} on #${cause.source_number}.`;
    case "watch":
      return `A production gate failed beyond noise at ${cause.watch.share} % (${escapeUntrusted(cause.watch.trigger)}, re-judged by modelgate): ${cause.gates.join("; ")}.`;
  }
}

/** The watch's record, in the place label-driven rollbacks show their audit. */
export function watchAuditLines(watch: WatchAudit): string[] {
  return [
    "<details><summary>Watch record</summary>",
    "",
    `- trigger: ${escapeUntrusted(watch.trigger)}`,
    `- judged at: ${escapeUntrusted(watch.judged_at)}`,
    `- base: ${inlineCode(watch.base_ref, { max: 80 })} at \`${shortSha(watch.base_sha) ?? "?"}\``,
    `- share: ${inlineCode(watch.share_key, { max: 120 })} = ${watch.share} % in ${inlineCode(watch.llm_file, { max: 120 })}`,
    `- metrics: ${escapeUntrusted(watch.metrics_source)}`,
    "",
    "</details>",
  ];
}

export function rollbackBody(plan: RollbackPlan, cause: RollbackCause): string {
  const lines = [
    COMMENT_MARKERS.rollbackPr,
    `### Rollback: candidate share to 0 %${plan.candidate ? `, ${inlineCode(plan.candidate)} routes back to ${inlineCode(plan.rollback)}` : ""}`,
    "",
    rollbackReason(cause),
    "",
    `This PR changes ${inlineCode(plan.llm_file, { max: 120 })} on ${inlineCode(plan.base_ref, { max: 80 })} (from \`${shortSha(plan.base_sha) ?? "?"}\`):`,
    "",
    "| key | from | to |",
    "|---|---|---|",
    ...plan.edits.map(
      (e) =>
        `| ${inlineCode(e.key, { max: 120, table: true })} | ${inlineCode(JSON.stringify(e.from) ?? "(unset)", { max: 80, table: true })} | ${inlineCode(String(e.to), { max: 80, table: true })} |`,
    ),
    "",
    "It is the same change the Action's rollback rehearsal evaluates. modelgate does not merge it: review and merge it to roll back.",
    "",
    ...(cause.kind === "watch" ? watchAuditLines(cause.watch) : auditLines(cause.audit)),
  ];
  return lines.join("\n");
}

/** The watch's one comment on the rollback PR: what the latest judgement saw, updated in place. */
export function renderWatchUpdate(judgement: ProductionJudgement, watch: WatchAudit): string {
  return [
    COMMENT_MARKERS.watch,
    "### modelgate watch: the breach is still there",
    "",
    `Latest judgement (${escapeUntrusted(watch.judged_at)}): ${judgement.detail}`,
    "",
    "This comment is updated each time the watch sees the breach again; no second rollback PR is opened.",
    "",
    ...watchAuditLines(watch),
  ].join("\n");
}

/** The comment on the PR or issue that asked for a rollback with the label. */
export function renderRollbackNotice(link: RollbackLink, audit: Audit, marker?: string): string {
  const lines: string[] = [];
  if (marker) lines.push(marker);
  const label = inlineCode(audit.label, { max: 60 });
  switch (link.kind) {
    case "opened":
    case "existing": {
      // A bare #N: GitHub links it and shows the cross-reference on the rollback PR.
      const pr = `#${link.number}`;
      lines.push(
        "### modelgate rollout: rollback PR",
        "",
        `${label} by ${login(audit.actor)}: ${link.kind === "opened" ? "opened" : "the open"} rollback PR ${pr} (share → 0 %, routes on the candidate back to the rollback model). Review and merge it to roll back.`,
      );
      break;
    }
    case "nothing":
      lines.push(
        "### modelgate rollout: nothing to roll back",
        "",
        `${label}: ${escapeUntrusted(link.reason)}.`,
      );
      break;
    case "failed":
      lines.push(
        "### modelgate rollout: rollback PR failed",
        "",
        `${label}: opening the rollback PR failed: ${escapeUntrusted(link.reason)}. Roll back by hand, or apply the label again.`,
      );
      break;
  }
  lines.push("", ...auditLines(audit));
  return lines.join("\n");
}

function plainLabel(label: string): string {
  return label.replace(/[\r\n]+/g, " ").slice(0, 60);
}

function cell(markdown: string): string {
  return markdown.replace(/\n+/g, " ").replace(/(?<!\\)\|/g, "\\|");
}
