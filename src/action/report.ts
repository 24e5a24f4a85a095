import { COMMENT_MARKERS } from "../core/protocol.ts";
import { safeLink } from "../core/report/escape.ts";
import { escapeUntrusted } from "../core/report/markdown.ts";
import { headLabel } from "../core/report/sections.ts";
import type { EvalResult } from "../core/result.ts";

/**
 * The sticky comment when the run broke before any case finished. It keeps the marker (it is
 * still our comment) and carries no evidence block: there is nothing the App could act on.
 */
export function errorComment(message: string, options: { headSha: string; runUrl?: string }): string {
  const headline = [
    "**modelgate: ERROR**",
    headLabel(options.headSha),
    safeLink("workflow run", options.runUrl),
  ]
    .filter((part) => part !== null)
    .join(" · ");
  return `${COMMENT_MARKERS.eval}\n${headline}\n\nThe eval did not finish: ${escapeUntrusted(message)}\n`;
}

/** The job summary of a run that had nothing to do. */
export function skippedSummary(message: string): string {
  return `**modelgate: SKIPPED**\n\n${escapeUntrusted(message)}\n`;
}

/** The step's failure line: which gates failed, with the value and the threshold. */
export function gateFailureMessage(result: EvalResult): string {
  if (result.verdict === "inconclusive") {
    const undecided = result.gates.filter((gate) => gate.status === "inconclusive").map((gate) => gate.name);
    return `modelgate: INCONCLUSIVE, which fails this change (gates.on_inconclusive: fail, the default for a model change): ${undecided.length ? `gate${undecided.length > 1 ? "s" : ""} ${undecided.join(", ")} undecided` : "nothing could be judged"}; see the PR comment or the job summary.`;
  }
  const failed = result.gates.filter((gate) => gate.status === "fail");
  if (failed.length === 0) {
    const unknown = result.warnings.find((w) => w.code === "unknown_model" && w.side === "head");
    if (unknown && unknown.code === "unknown_model")
      return `modelgate: FAIL: the provider does not offer model '${unknown.model}' (route ${unknown.route}).`;
    return "modelgate: FAIL";
  }
  const gates = failed.map(
    (gate) => `${gate.name} (observed ${format(gate.value)}, threshold ${format(gate.threshold)})`,
  );
  return `modelgate: FAIL: gate${failed.length > 1 ? "s" : ""} ${gates.join(", ")} beyond noise; see the PR comment or the job summary.`;
}

function format(value: number | null): string {
  return value === null ? "n/a" : String(Math.round(value * 10_000) / 10_000);
}
