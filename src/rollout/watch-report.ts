import { GATES } from "../core/gates.ts";
import { escapeUntrusted, stripInvisible } from "../core/report/escape.ts";
import { formatInterval, formatSigned, formatValue } from "../core/report/format.ts";
import type { RollbackLink, WatchAudit } from "../core/rollout/render.ts";
import { gateSentence } from "../core/rollout/steps.ts";
import type { WatchOutcome } from "./watch.ts";

/**
 * What a scheduled watch (`modelgate watch`, the Action's `mode: watch`) says about one
 * `watchRollout` outcome: its state, whether it fails the run, one plain line, a text report, a
 * markdown summary and a JSON view. Pure; both doors print what this returns.
 *
 * A hold is two different things to a schedule: the gates could not decide yet (few requests,
 * an interval that still holds the limit: the next run may decide, so the run passes), or the
 * metrics could not be read at all (the watch is blind: a breach would go unseen, so the run
 * fails, closed, naming the source).
 */
export type WatchState = "idle" | "healthy" | "undecided" | "blind" | "breach";

export function watchState(outcome: WatchOutcome): WatchState {
  switch (outcome.kind) {
    case "idle":
      return "idle";
    case "healthy":
      return "healthy";
    case "breach":
      return "breach";
    case "hold":
      return outcome.judgement.reading.kind === "missing" ? "blind" : "undecided";
  }
}

/** A breach, or metrics the watch cannot read: the run fails (exit 1, a failed step). */
export function watchFails(state: WatchState): boolean {
  return state === "breach" || state === "blind";
}

/** One line for a terminal or a log: what was judged and what happened. */
export function watchHeadline(outcome: WatchOutcome): string {
  const { audit } = outcome;
  const where = `${audit.base_ref} at ${audit.share} %`;
  switch (outcome.kind) {
    case "idle":
      return `idle: ${plain(outcome.reason)}`;
    case "healthy":
      return `healthy: the production gates pass on ${where}`;
    case "hold": {
      const { reading, gates } = outcome.judgement;
      if (reading.kind === "missing")
        return `blind: no production numbers on ${where} from ${plain(reading.source)}: ${plain(reading.reason)}`;
      const reason = gates.find((g) => g.status === "inconclusive")?.reason ?? "the gates cannot decide yet";
      return `undecided: ${plain(reason)} (${where}); the next run judges again`;
    }
    case "breach":
      return `breach on ${where}: ${outcome.dry_run ? "dry run, no rollback PR opened" : rollbackLine(outcome.rollback)}`;
  }
}

function rollbackLine(link: RollbackLink): string {
  switch (link.kind) {
    case "opened":
      return `opened the rollback PR #${link.number}${link.url ? ` ${link.url}` : ""}`;
    case "existing":
      return `the rollback PR #${link.number} is already open${link.url ? ` ${link.url}` : ""}`;
    case "nothing":
      return `no rollback PR: ${plain(link.reason)}`;
    case "failed":
      return `opening the rollback PR failed: ${plain(link.reason)}; roll back by hand`;
  }
}

/** The text report: the headline, each gate with its numbers, the arms, the record. */
export function renderWatchText(outcome: WatchOutcome): string {
  const lines = [`modelgate watch: ${watchHeadline(outcome)}`];
  if (outcome.kind !== "idle") {
    const { reading, gates } = outcome.judgement;
    for (const gate of gates) {
      lines.push(`  ${gateSentence(gate)}${gate.reason ? `: ${plain(gate.reason)}` : ""}`);
    }
    if (reading.kind === "counts") {
      const { control, candidate } = reading.arms;
      lines.push(`  control:   ${armLine(control)}`, `  candidate: ${armLine(candidate)}`);
    }
    for (const query of reading.queries?.filter((q) => q.value === null) ?? []) {
      lines.push(`  no data: ${query.arm} ${query.count}: ${plain(query.query)}`);
    }
  }
  lines.push(...auditLines(outcome.audit).map((line) => `  ${line}`));
  return `${lines.join("\n")}\n`;
}

function armLine(arm: { requests: number; errors: number; tasks: number; completed: number }): string {
  const rate = (k: number, of: number) => (of > 0 ? formatValue(k / of, "percent") : "n/a");
  return `${arm.requests} requests, ${arm.errors} errors (${rate(arm.errors, arm.requests)}), ${arm.tasks} tasks, ${arm.completed} completed (${rate(arm.completed, arm.tasks)})`;
}

function auditLines(audit: WatchAudit): string[] {
  return [
    `base: ${plain(audit.base_ref)} at ${audit.base_sha.slice(0, 7)}; ${plain(audit.share_key)} = ${audit.share} % in ${plain(audit.llm_file)}`,
    `metrics: ${plain(audit.metrics_source)}; judged at ${audit.judged_at}`,
  ];
}

/** The job summary (markdown): repo text escaped, numbers in a table. */
export function renderWatchSummary(outcome: WatchOutcome): string {
  const state = watchState(outcome);
  const lines = [`## modelgate watch: ${state}`, "", escapeUntrusted(watchHeadline(outcome))];
  if (outcome.kind !== "idle") {
    lines.push("", outcome.judgement.detail);
    if (outcome.judgement.gates.length > 0) {
      lines.push(
        "",
        "| gate | status | value | always-valid interval | limit | p breach | p within |",
        "|---|---|---|---|---|---|---|",
      );
      for (const gate of outcome.judgement.gates) {
        const { unit, signed } = GATES[gate.name];
        const value = signed ? formatSigned(gate.value, unit) : formatValue(gate.value, unit);
        const p = (x: number | null) => (x === null ? "n/a" : x.toPrecision(2));
        lines.push(
          `| ${gate.name} | ${gate.status} | ${value} | ${formatInterval(gate.ci95, unit, signed)} | ${formatValue(gate.threshold, unit)} | ${p(gate.p_breach)} | ${p(gate.p_within)} |`,
        );
      }
    }
  }
  lines.push("", ...auditLines(outcome.audit).map((line) => `- ${escapeUntrusted(line)}`), "");
  return lines.join("\n");
}

/** The outcome as data (`--format json`): everything the text says, with the raw numbers. */
export function watchJson(outcome: WatchOutcome) {
  const state = watchState(outcome);
  const judgement = outcome.kind === "idle" ? undefined : outcome.judgement;
  return {
    outcome: state,
    fails: watchFails(state),
    kind: outcome.kind,
    summary: watchHeadline(outcome),
    share: outcome.audit.share,
    ...(outcome.kind === "idle" ? { reason: outcome.reason } : {}),
    gates:
      judgement?.gates.map((gate) => ({
        name: gate.name,
        status: gate.status,
        value: gate.value,
        ci95: gate.ci95 ?? null,
        threshold: gate.threshold,
        p_breach: gate.p_breach,
        p_within: gate.p_within,
        ...(gate.reason ? { reason: gate.reason } : {}),
      })) ?? [],
    metrics: judgement
      ? {
          source: judgement.reading.source,
          ...(judgement.reading.kind === "counts"
            ? { arms: judgement.reading.arms }
            : { missing: judgement.reading.reason }),
          ...(judgement.reading.queries ? { queries: judgement.reading.queries } : {}),
        }
      : null,
    rollback: outcome.kind === "breach" ? outcome.rollback : null,
    dry_run: outcome.kind === "breach" && outcome.dry_run === true,
    audit: outcome.audit,
  };
}

/** Repo and provider text on a terminal: no escape sequences or line breaks of its own. */
function plain(text: string): string {
  return stripInvisible(text).replace(/\s*\n\s*/g, " ");
}
