/**
 * The sticky PR comment, rendered from an EvalResult (README.md, docs/results.md, docs/action.md#security). Sections in
 * order: headline, KPIs, gates, per route, selection, flipped cases, warnings, chart, the
 * readiness section (when given), and the hidden evidence block. The body stays under
 * `maxChars` by cutting lists (the readiness section, then flipped cases, then routes, then
 * warnings, then selection reasons, then the chart), never the headline, KPI table, gates or
 * evidence.
 */

import { COMMENT_MARKERS } from "../protocol.ts";
import type { EvalResult } from "../result.ts";
import { utf8Length } from "../text/utf8.ts";
import { type Cuttable, fitParts, type Part } from "./budget.ts";
import { renderChart } from "./chart.ts";
import { safeLink } from "./escape.ts";
import { embedEvidence, parseEvidence } from "./evidence.ts";
import { flippedSection } from "./flipped.ts";
import {
  coverageSection,
  headLabel,
  renderGatesTable,
  renderHeadline,
  renderKpiTable,
  routesSection,
  selectionSection,
} from "./sections.ts";
import { warningsSection } from "./warnings.ts";

export { escapeUntrusted } from "./escape.ts";
export { type Evidence, type EvidenceGate, embedEvidence, parseEvidence } from "./evidence.ts";

/** GitHub rejects an issue comment body over 65,536 characters with 422. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface RenderOptions {
  /** Default 65,536 (GitHub's limit). */
  maxChars?: number;
  /**
   * A limit in UTF-8 bytes instead (a check run's summary: 65,535 bytes); wins over `maxChars`.
   * CJK text is 3 bytes a character, so a character budget would overshoot it 3×.
   */
  maxBytes?: number;
  /** The commit the eval ran on; shown short and written into the evidence block. */
  headSha?: string;
  /** Link to the workflow run (http or https only). */
  runUrl?: string;
  /** A heading above the verdict line. */
  title?: string;
  /**
   * The readiness section (`renderDoctorSection`), placed before the evidence block. It is
   * cut first when the comment is too long: the eval's own results come before it.
   */
  doctor?: string;
}

/** A single-item list, so the chart can go last when even a bare comment is too long. */
function chartPart(result: EvalResult): Cuttable {
  const chart = renderChart(result);
  return { items: chart === "" ? [] : [chart], render: (shown) => shown.join("") };
}

export function renderComment(result: EvalResult, opts: RenderOptions = {}): string {
  const limit = opts.maxBytes ?? opts.maxChars ?? GITHUB_COMMENT_LIMIT;
  const measure = opts.maxBytes === undefined ? undefined : utf8Length;
  const routes = routesSection(result);
  const selection = selectionSection(result);
  const flipped = flippedSection(result.cases);
  const warnings = warningsSection(result.warnings);
  const chart = chartPart(result);
  const doctor: Cuttable = {
    items: opts.doctor ? [opts.doctor] : [],
    render: (shown, hidden) =>
      hidden > 0
        ? "_Readiness (modelgate doctor) not shown (comment size limit): run `modelgate doctor`._"
        : shown.join(""),
  };
  const parts: Part[] = [
    renderHeadline(result, COMMENT_MARKERS.eval, opts),
    coverageSection(result),
    renderKpiTable(result),
    renderGatesTable(result),
    routes,
    selection,
    flipped,
    warnings,
    chart,
    doctor,
    embedEvidence(result, opts.headSha ?? ""),
  ];
  return fitParts(parts, [doctor, flipped, routes, warnings, selection, chart], limit, measure);
}

export interface RunningOptions {
  headSha?: string;
  runUrl?: string;
  /** The comment body this replaces; only its validated evidence is summarized. */
  previous?: string;
}

/**
 * The comment while an eval runs. It keeps the marker (so it stays the sticky comment) and
 * carries no evidence block, so nothing can act on a result that is being replaced.
 */
export function renderRunningComment(opts: RunningOptions): string {
  const head = headLabel(opts.headSha);
  const link = safeLink("workflow run", opts.runUrl);
  const headline = ["**modelgate: RUNNING**", head, link].filter((part) => part !== null).join(" · ");
  const blocks = [
    `${COMMENT_MARKERS.eval}\n${headline}`,
    "The eval is running; this comment shows the result when it finishes.",
  ];
  const previous = opts.previous ? parseEvidence(opts.previous) : null;
  if (previous) {
    const previousHead = headLabel(previous.head_sha) ?? "an earlier commit";
    blocks.push(`Previous result, for ${previousHead}: **${previous.verdict.toUpperCase()}**.`);
  }
  return `${blocks.join("\n\n")}\n`;
}
