import { type SideEstimate, usd } from "../cost-estimate.ts";
import type { EvalResult } from "../result.ts";

const SOURCE_LABELS: Record<SideEstimate["source"], string> = {
  cache: "cached attempts",
  baseline: "the last result",
  similar: "similar cached cases, approximate",
  prompt_size: "prompt sizes and output caps, a worst case",
  mixed: "mixed sources",
  none: "no cases",
};

function money(value: number | null): string {
  return value === null ? "unknown" : `$${usd(value)}`;
}

/** The header's one line on cost: the pre-run estimate (every selected pair) and what the run used. */
export function costSentence(result: EvalResult): string {
  const recorded = result.cost_estimate;
  if (!recorded) return "";
  const { base, head, total } = recorded.estimate;
  const side = (name: string, s: SideEstimate) =>
    `${name} ${money(s.cost_usd)} from ${SOURCE_LABELS[s.source]}`;
  const actual = recorded.actual
    ? ` · actual ${money(recorded.actual.total.cost_usd)}, of which new spend ${money(recorded.actual.total.spend_usd)}`
    : "";
  return `**Cost:** estimated ${money(total.cost_usd)} if every selected pair runs (${side("base", base)}; ${side("head", head)})${actual}.`;
}
