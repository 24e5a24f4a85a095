/**
 * The sections of the PR comment, each a pure function of the result. The ones the size
 * budget may shorten return a `Cuttable`.
 */

import { GATES } from "../gates.ts";
import { type EvalResult, type GateResult, KPI_NAMES, type KpiName, type Kpis } from "../result.ts";
import type { Cuttable } from "./budget.ts";
import { moreNotShown } from "./budget.ts";
import { costSentence } from "./cost-line.ts";
import { escapeUntrusted, inlineCode, markdownSafe, safeLink, truncate } from "./escape.ts";
import {
  deltaUnit,
  formatCount,
  formatInterval,
  formatRelative,
  formatSigned,
  formatValue,
  isFiniteNumber,
  KPI_LABELS,
  KPI_UNITS,
  plural,
  shortSha,
} from "./format.ts";
import { providersSentence, routeProviders } from "./providers-line.ts";
import { tableHeader, tableRow } from "./table.ts";

export interface HeadlineOptions {
  headSha?: string;
  runUrl?: string;
  title?: string;
}

const REASON_MAX = 200;

function names(gates: readonly GateResult[]): string {
  return gates.map((gate) => inlineCode(gate.name, { max: 60 })).join(", ");
}

/** "head `abc1234`" (or the given text in code when it is not a hex SHA). */
export function headLabel(headSha: string | undefined): string | null {
  if (!headSha) return null;
  const short = shortSha(headSha);
  return `head ${short ? `\`${short}\`` : inlineCode(headSha, { max: 12 })}`;
}

/** The first line: the verdict in one bold word, the commit, the refs, the run link. */
function verdictLine(
  verdict: string,
  options: HeadlineOptions,
  refs?: { base?: string; head?: string },
): string {
  const parts = [`**modelgate: ${escapeUntrusted(verdict.toUpperCase())}**`];
  const head = headLabel(options.headSha);
  if (head) parts.push(head);
  if (refs?.base && refs.head)
    parts.push(`${inlineCode(refs.base, { max: 60 })} → ${inlineCode(refs.head, { max: 60 })}`);
  const link = safeLink("workflow run", options.runUrl);
  if (link) parts.push(link);
  return parts.join(" · ");
}

function skippedReason(result: EvalResult): string | undefined {
  if (result.partial_reason) return result.partial_reason;
  const [uncovered] = result.coverage?.uncovered ?? [];
  if (uncovered) return `no case covers the change (${uncovered.reason})`;
  for (const warning of result.warnings) {
    if (warning.code === "config" || warning.code === "too_small") return warning.message;
  }
  return undefined;
}

/** One sentence on what decided the verdict. */
export function verdictSentence(result: EvalResult): string {
  const total = result.gates.length;
  const failed = result.gates.filter((gate) => gate.status === "fail");
  const undecided = result.gates.filter((gate) => gate.status === "inconclusive");
  switch (result.verdict) {
    case "pass":
      return total === 0 ? "No gate was evaluated." : `All ${plural(total, "gate")} passed.`;
    case "fail":
      if (failed.length > 0)
        return `${formatCount(failed.length)} of ${plural(total, "gate")} failed: ${names(failed)}.`;
      return uncoveredModelChanges(result) > 0
        ? `${plural(uncoveredModelChanges(result), "model change")} no eval case covers, so it would ship unmeasured (set \`evals.require_coverage: false\` to only warn).`
        : "The eval failed.";
    case "inconclusive":
      return undecided.length > 0
        ? `No gate failed, but ${formatCount(undecided.length)} of ${plural(total, "gate")} could not be decided: ${names(undecided)}.`
        : "The result is inconclusive.";
    case "skipped": {
      const reason = skippedReason(result);
      return `The eval did not run${reason ? `: ${escapeUntrusted(truncate(reason, REASON_MAX))}` : "."}`;
    }
  }
}

/** Uncovered changes listed in the comment; the rest is a count. */
const COVERAGE_MAX = 20;

function uncoveredModelChanges(result: EvalResult): number {
  return result.coverage?.uncovered.filter((change) => change.model_change).length ?? 0;
}

/**
 * What the change touched that no case covers, and where cases were looked for; "" when
 * everything is covered. Never cut: it is why the verdict is what it is.
 */
export function coverageSection(result: EvalResult): string {
  const coverage = result.coverage;
  if (!coverage || coverage.uncovered.length === 0) return "";
  const shown = coverage.uncovered.slice(0, COVERAGE_MAX);
  const lines = [
    "#### Not covered by any case",
    "",
    ...shown.map(
      (change) =>
        `- ${change.model_change ? "**model change** " : ""}${escapeUntrusted(truncate(change.reason, REASON_MAX))}`,
    ),
  ];
  if (coverage.uncovered.length > shown.length) {
    lines.push(`- ${moreNotShown(coverage.uncovered.length - shown.length)}`);
  }
  const globs = coverage.case_globs.map((glob) => inlineCode(glob, { max: 120 })).join(", ");
  lines.push(
    "",
    `Cases were looked for in ${globs} (${plural(coverage.case_files, "file")} matched); routes are read from ${inlineCode(coverage.llm_config, { max: 120 })}.`,
  );
  return lines.join("\n");
}

function partialBanner(result: EvalResult): string {
  if (!result.partial) return "";
  const warning = result.warnings.find((w) => w.code === "partial");
  const reason = result.partial_reason ?? (warning?.code === "partial" ? warning.reason : undefined);
  const cap = warning?.code === "partial" ? warning.cap : undefined;
  const details = [
    reason ? escapeUntrusted(truncate(reason, REASON_MAX)) : "",
    cap ? `cap ${inlineCode(cap, { max: 60 })}` : "",
  ].filter((part) => part !== "");
  const why = details.length > 0 ? ` (${details.join("; ")})` : "";
  return [
    "> [!WARNING]",
    `> **Partial run:** the eval stopped before all cases finished${why}. The numbers cover only the cases that ran.`,
  ].join("\n");
}

function simulatedNotice(result: EvalResult): string {
  if (result.simulated !== true) return "";
  return [
    "> [!NOTE]",
    "> **Simulated provider:** these numbers come from a simulated model server. They are not real and say nothing about any real model.",
  ].join("\n");
}

/** Cases both sides ran: the n behind every paired comparison. */
export function pairedCases(result: EvalResult): number {
  if (result.cases.length === 0) return Math.min(result.base.cases, result.head.cases);
  return result.cases.filter((c) => c.base !== undefined && c.head !== undefined).length;
}

/**
 * Undecided completion gates whose threshold is smaller than the change this run can detect.
 * A gate that passed or failed was decided, whatever the MDE (a rough fixed-N figure) says.
 */
function gatesTooSmallToDecide(result: EvalResult): GateResult[] {
  const mde = result.min_detectable_effect;
  return result.gates.filter(
    (gate) =>
      gate.status === "inconclusive" &&
      GATES[gate.name].completion &&
      (!isFiniteNumber(mde) || mde > gate.threshold),
  );
}

/** Sample size and minimum detectable effect, saying plainly when the run cannot decide a gate. */
export function sampleSentence(result: EvalResult): string {
  const n = pairedCases(result);
  if (n === 0) return "**Sample:** no case ran on both sides, so this run cannot decide any gate.";
  const mde = result.min_detectable_effect;
  const detect = isFiniteNumber(mde)
    ? `at 80 % power it can detect a completion-rate change of ${formatValue(mde, "pp")} or more`
    : "the smallest completion-rate change it can detect could not be estimated";
  const sentence = `**Sample:** ${plural(n, "paired case")}; ${detect}.`;
  const small = gatesTooSmallToDecide(result);
  if (small.length > 0) {
    const thresholds = small.map(
      (gate) => `${inlineCode(gate.name, { max: 60 })} (threshold ${formatValue(gate.threshold, "pp")})`,
    );
    return `${sentence} **This run is too small to decide ${thresholds.join(", ")}**: such a gate stays inconclusive until more cases run.`;
  }
  const tooSmall = result.warnings.find((w) => w.code === "too_small");
  if (tooSmall?.code === "too_small" && result.gates.some((gate) => gate.status === "inconclusive")) {
    return `${sentence} **This run is too small to decide a gate:** ${escapeUntrusted(truncate(tooSmall.message, REASON_MAX))}`;
  }
  return sentence;
}

/**
 * How far the pair sequence ran: where it stopped and what that saved, or that every planned
 * pair was judged. Nothing for results written before the sequence existed.
 */
export function sequenceSentence(result: EvalResult): string {
  const sequence = result.sequential;
  if (!sequence) return "";
  const of = `${formatCount(sequence.pairs)} of ${plural(sequence.planned_pairs, "pair")}`;
  if (result.batch) {
    // A batch run sends every pair at once: saying the verdict "did not settle earlier" would be a guess.
    const { rounds, batches } = result.batch;
    return `**Sequence:** ${of} judged; batch mode (Batch API at batch prices, ${plural(rounds, "round")}, ${plural(batches.length, "batch", "batches")}) runs every pair: no early stop.`;
  }
  if (sequence.stopped_early) {
    return `**Sequence:** stopped after ${of}: verdict settled; ${plural(sequence.calls_saved, "request")} saved.`;
  }
  const how =
    sequence.mode === "fixed"
      ? "fixed-N mode (`evals.sequential: false`) judges once, after every pair"
      : "judged after every pair; the verdict did not settle earlier";
  return `**Sequence:** ${of} judged; ${how}.`;
}

/** What an inconclusive verdict means for the PR: the check conclusion and the policy behind it. */
export function inconclusiveSentence(result: EvalResult): string {
  if (result.verdict !== "inconclusive") return "";
  if (result.gates_config?.on_inconclusive === "fail") {
    return "An inconclusive verdict is a **failing** check here (`gates.on_inconclusive: fail`, the default when the change includes a model change): the eval could not show the change is safe.";
  }
  return "An inconclusive verdict is a neutral check here (`gates.on_inconclusive: neutral`, the default when the change includes no model change); branch protection does not block on it.";
}

/** Marker, optional title, verdict line, verdict sentence, banners and the sample sentence. */
export function renderHeadline(result: EvalResult, marker: string, options: HeadlineOptions): string {
  const title = options.title ? `### ${escapeUntrusted(truncate(options.title, REASON_MAX))}` : "";
  const refs = { base: result.base_ref, head: result.head_ref };
  const top = [marker, title, verdictLine(result.verdict, options, refs)]
    .filter((line) => line !== "")
    .join("\n");
  return [
    top,
    [verdictSentence(result), inconclusiveSentence(result)].filter((s) => s !== "").join(" "),
    partialBanner(result),
    simulatedNotice(result),
    providersSentence(result),
    sampleSentence(result),
    sequenceSentence(result),
    costSentence(result),
  ]
    .filter((block) => block !== "")
    .join("\n\n");
}

// ---- KPI table ----

function kpiDelta(
  result: EvalResult,
  name: KpiName,
): { delta: number | null; ci95: [number, number] | null } {
  const given = result.deltas[name];
  if (given) return { delta: given.delta, ci95: given.ci95 };
  const base = result.base.kpis[name];
  const head = result.head.kpis[name];
  return { delta: isFiniteNumber(base) && isFiniteNumber(head) ? head - base : null, ci95: null };
}

function kpiRow(result: EvalResult, name: KpiName): string {
  const unit = KPI_UNITS[name];
  const base = result.base.kpis[name];
  const head = result.head.kpis[name];
  const { delta, ci95 } = kpiDelta(result, name);
  const signed = formatSigned(delta, deltaUnit(unit));
  const moved = /^[+-]/.test(signed);
  const relative = unit === "percent" || !moved ? null : formatRelative(base, head);
  const deltaText = relative ? `${signed} (${relative})` : signed;
  return tableRow(
    [
      KPI_LABELS[name],
      formatValue(base, unit),
      formatValue(head, unit),
      deltaText,
      formatInterval(ci95, deltaUnit(unit), true),
    ].map(markdownSafe),
  );
}

export function renderKpiTable(result: EvalResult): string {
  const rows = KPI_NAMES.map((name) => kpiRow(result, name));
  return ["#### KPIs", "", tableHeader(["KPI", "base", "head", "Δ", "95 % CI"]), ...rows].join("\n");
}

// ---- gates ----

function statusWord(status: string): string {
  if (status === "fail") return "**FAIL**";
  if (status === "pass") return "pass";
  if (status === "inconclusive") return "inconclusive";
  return escapeUntrusted(status);
}

/** The reason, and for an undecided gate how many more pairs of the sequence would likely decide it. */
function gateNote(gate: GateResult): string {
  const parts = gate.reason ? [escapeUntrusted(truncate(gate.reason, REASON_MAX))] : [];
  if (gate.status === "inconclusive" && gate.pairs_to_decide !== undefined) {
    parts.push(
      gate.pairs_to_decide === null
        ? "more pairs are unlikely to decide it"
        : `about ${formatCount(gate.pairs_to_decide)} more pairs would likely decide it`,
    );
  }
  return parts.join("; ");
}

function gateRow(gate: GateResult): string {
  const { unit } = GATES[gate.name];
  return tableRow([
    inlineCode(gate.name, { max: 60, table: true }),
    statusWord(gate.status),
    markdownSafe(formatValue(gate.value, unit)),
    markdownSafe(formatValue(gate.threshold, unit)),
    markdownSafe(formatInterval(gate.ci95, unit, false)),
    gateNote(gate),
  ]);
}

export function renderGatesTable(result: EvalResult): string {
  // Gates are always configured (they have defaults); with no gate results, none could be judged.
  if (result.gates.length === 0) return "#### Gates\n\nNo gate was evaluated: no case ran on both sides.";
  const header = tableHeader(["gate", "status", "value", "threshold", "interval", "note"]);
  return ["#### Gates", "", header, ...result.gates.map(gateRow)].join("\n");
}

// ---- per route ----

function change(base: Kpis, head: Kpis, name: KpiName): string {
  const unit = KPI_UNITS[name];
  return markdownSafe(`${formatValue(base[name], unit)} → ${formatValue(head[name], unit)}`);
}

function completionChange(sides: { base: { kpis: Kpis }; head: { kpis: Kpis } }): number | null {
  const base = sides.base.kpis.completion_rate;
  const head = sides.head.kpis.completion_rate;
  return isFiniteNumber(base) && isFiniteNumber(head) ? head - base : null;
}

/** Routes, biggest completion drop first, so a cut keeps the ones that matter. */
function sortedRoutes(result: EvalResult): string[] {
  const key = (route: string): number => {
    const sides = result.routes[route];
    const delta = sides ? completionChange(sides) : null;
    return delta ?? Number.POSITIVE_INFINITY;
  };
  return Object.keys(result.routes).sort((a, b) => key(a) - key(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function routeRow(
  route: string,
  sides: { base: { kpis: Kpis }; head: { kpis: Kpis } },
  providers: string,
): string {
  const delta = completionChange(sides);
  const completion = change(sides.base.kpis, sides.head.kpis, "completion_rate");
  return tableRow([
    inlineCode(route, { max: 60, table: true }) + escapeUntrusted(providers),
    delta === null ? completion : `${completion} (${markdownSafe(formatSigned(delta, "pp"))})`,
    change(sides.base.kpis, sides.head.kpis, "cost_per_completed_task"),
    change(sides.base.kpis, sides.head.kpis, "error_rate"),
  ]);
}

export function routesSection(result: EvalResult): Cuttable {
  const routes = sortedRoutes(result);
  return {
    items: routes.flatMap((route) => {
      const sides = result.routes[route];
      return sides ? [routeRow(route, sides, routeProviders(result, route))] : [];
    }),
    render(shown, hidden) {
      if (shown.length === 0 && hidden === 0) return "";
      const lines = ["#### Per route (base → head)", ""];
      if (shown.length > 0) {
        lines.push(
          tableHeader(["route", "completion rate", "cost / completed task", "error rate"]),
          ...shown,
        );
      }
      if (hidden > 0) lines.push("", moreNotShown(hidden, shown.length > 0 ? "more routes" : "routes"));
      return lines.join("\n");
    },
  };
}

// ---- selection ----

function casesRunLine(result: EvalResult): string {
  const { selection } = result;
  const ran = selection.case_ids.length;
  const sampled = ran < selection.selected && selection.sample_seed;
  const seed = sampled ? `, sampled with seed ${inlineCode(selection.sample_seed ?? "", { max: 60 })}` : "";
  const scope = selection.all ? " (full suite requested)" : "";
  const stopped = result.sequential?.stopped_early
    ? `; ${formatCount(result.cases.filter((c) => c.base || c.head).length)} started before the verdict settled`
    : "";
  return `- **Cases run:** ${formatCount(ran)} of ${formatCount(selection.selected)} selected${seed}${scope}${stopped}.`;
}

function requestsLine(result: EvalResult): string {
  const side = (name: string, summary: EvalResult["base"]): string =>
    `${name} ${plural(summary.cases, "case")}, ${plural(summary.requests, "attempt")} sent to the provider, ${plural(summary.cache_hits, "attempt")} from the cache`;
  return `- **Attempts:** ${side("base", result.base)}; ${side("head", result.head)}.`;
}

export function selectionSection(result: EvalResult): Cuttable {
  const reasons = result.selection.reasons.map(
    (r) => `  - ${inlineCode(r.route, { max: 60 })}: ${escapeUntrusted(truncate(r.reason, REASON_MAX))}`,
  );
  return {
    items: reasons,
    render(shown, hidden) {
      const lines = ["#### Selection", "", casesRunLine(result), requestsLine(result)];
      if (shown.length > 0 || hidden > 0) lines.push("- **Why these cases:**", ...shown);
      if (hidden > 0)
        lines.push(`  - ${moreNotShown(hidden, shown.length > 0 ? "more reasons" : "reasons")}`);
      return lines.join("\n");
    },
  };
}
