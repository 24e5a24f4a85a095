/**
 * Cases whose final outcome differs between base and head: one table row each, regressions
 * first, inside a collapsed `<details>` block. Details are model-written: code spans, cut short.
 */

import type { CaseResult, CaseSideResult } from "../result.ts";
import type { Cuttable } from "./budget.ts";
import { moreNotShown } from "./budget.ts";
import { escapeUntrusted, inlineCode } from "./escape.ts";
import { formatCount } from "./format.ts";
import { tableHeader, tableRow } from "./table.ts";

type Flip = CaseResult & { base: CaseSideResult; head: CaseSideResult };

const DETAIL_MAX = 200;
const ID_MAX = 80;
const ROUTE_MAX = 60;

/** 0: got worse (was pass), 1: changed between non-pass outcomes, 2: got better (now pass). */
function direction(flip: Flip): number {
  if (flip.base.outcome === "pass") return 0;
  return flip.head.outcome === "pass" ? 2 : 1;
}

export function flippedCases(cases: readonly CaseResult[]): Flip[] {
  return cases
    .filter(
      (c): c is Flip => c.base !== undefined && c.head !== undefined && c.base.outcome !== c.head.outcome,
    )
    .sort((a, b) => direction(a) - direction(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The detail that explains the flip: the side that did not pass, head first. */
function flipDetail(flip: Flip): string {
  const side =
    flip.head.outcome !== "pass" && flip.head.detail ? "head" : flip.base.detail ? "base" : undefined;
  const detail = side === "head" ? flip.head.detail : side === "base" ? flip.base.detail : undefined;
  if (!side || !detail) return "";
  return `${side}: ${inlineCode(detail, { max: DETAIL_MAX, table: true })}`;
}

function flipRow(flip: Flip): string {
  const headOutcome = escapeUntrusted(flip.head.outcome);
  const cells = [
    inlineCode(flip.id, { max: ID_MAX, table: true }),
    inlineCode(flip.route, { max: ROUTE_MAX, table: true }),
    `${escapeUntrusted(flip.base.outcome)} → ${direction(flip) === 0 ? `**${headOutcome}**` : headOutcome}`,
    `${formatCount(flip.base.attempts)} → ${formatCount(flip.head.attempts)}`,
    flipDetail(flip),
  ];
  return tableRow(cells);
}

function summary(flips: readonly Flip[]): string {
  const counts = [0, 0, 0];
  for (const flip of flips) counts[direction(flip)] = (counts[direction(flip)] ?? 0) + 1;
  const [worse = 0, changed = 0, better = 0] = counts;
  const parts = [`${formatCount(worse)} got worse`, `${formatCount(better)} got better`];
  if (changed > 0) parts.push(`${formatCount(changed)} changed failure kind`);
  return `Cases that flipped: ${formatCount(flips.length)} (${parts.join(", ")})`;
}

/** The flipped-cases section as a list the size budget can cut. */
export function flippedSection(cases: readonly CaseResult[]): Cuttable {
  const flips = flippedCases(cases);
  return {
    items: flips.map(flipRow),
    render(shown, hidden) {
      if (flips.length === 0) return "No case changed its outcome between base and head.";
      const lines = [`<details>`, `<summary>${summary(flips)}</summary>`, ""];
      if (shown.length > 0) {
        lines.push(tableHeader(["case", "route", "base → head", "attempts", "detail"]), ...shown);
      }
      if (hidden > 0)
        lines.push("", moreNotShown(hidden, shown.length > 0 ? "more flipped cases" : "flipped cases"));
      lines.push("", "</details>");
      return lines.join("\n");
    },
  };
}
