import { escapeUntrusted, stripInvisible, truncate } from "../report/escape.ts";
import type { CheckStatus, DoctorReport } from "./types.ts";

const TEXT_MARK: Record<CheckStatus, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };
const MD_MARK: Record<CheckStatus, string> = { pass: "✅", warn: "⚠️", fail: "❌" };

function headline(report: DoctorReport): string {
  const { pass, warn, fail } = report.summary;
  const counts = `${fail} fail, ${warn} warn, ${pass} pass`;
  return report.ready
    ? `READY to migrate (${counts})${warn ? ": read the warnings" : ""}`
    : `NOT READY to migrate (${counts}): fix the failing lines first`;
}

/** `modelgate doctor --format text`: one line a check, its fix indented under it. */
export function renderDoctorText(report: DoctorReport): string {
  const lines = [headline(report), ""];
  for (const check of report.checks) {
    const subject = check.subject ? ` [${plain(check.subject)}]` : "";
    lines.push(`${TEXT_MARK[check.status]}  ${check.id}${subject}: ${plain(check.message)}`);
    if (check.fix) lines.push(`      fix: ${plain(check.fix)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Repo text on a terminal: no escape sequences or line breaks of its own. */
function plain(text: string): string {
  return stripInvisible(text).replace(/\s*\n\s*/g, " ");
}

/** Messages quote repo text (routes, model IDs, case IDs): cut, then escaped, for the PR comment. */
const MAX_LINE = 600;

/**
 * The readiness report as a collapsed `<details>` section for the PR comment. Every message
 * and fix holds repo text, so each is escaped as untrusted markdown.
 */
export function renderDoctorSection(report: DoctorReport): string {
  const { fail, warn } = report.summary;
  const summary = report.ready
    ? `Readiness (modelgate doctor): ready${warn ? `, ${warn} warning${warn === 1 ? "" : "s"}` : ""}`
    : `Readiness (modelgate doctor): not ready, ${fail} failing check${fail === 1 ? "" : "s"}`;
  const lines = ["<details>", `<summary>${summary}</summary>`, ""];
  for (const check of report.checks) {
    const subject = check.subject ? ` (${escapeUntrusted(truncate(check.subject, 80))})` : "";
    lines.push(
      `- ${MD_MARK[check.status]} **${check.id}**${subject}: ${escapeUntrusted(truncate(check.message, MAX_LINE))}`,
    );
    if (check.fix) lines.push(`  - fix: ${escapeUntrusted(truncate(check.fix, MAX_LINE))}`);
  }
  lines.push("", "</details>");
  return lines.join("\n");
}
