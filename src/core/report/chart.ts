/**
 * A mermaid `xychart-beta` bar chart GitHub renders in the comment: completion rate per
 * route, base and head side by side (or the three rates of the whole run when no route has
 * both). Labels keep letters, digits and a few separators only, so untrusted route names
 * cannot break the chart or the fence.
 */

import type { EvalResult } from "../result.ts";
import { isFiniteNumber } from "./format.ts";

interface Bar {
  label: string;
  percent: number;
}

const MAX_ROUTES = 10;
const MAX_LABEL = 24;

/** A label safe inside a quoted mermaid string. */
export function chartLabel(text: string): string {
  const cleaned = String(text)
    .replace(/[^\p{L}\p{N} _./-]+/gu, "_")
    .trim();
  const points = Array.from(cleaned);
  const short = points.length > MAX_LABEL ? `${points.slice(0, MAX_LABEL - 1).join("")}…` : cleaned;
  return short === "" ? "_" : short;
}

function toPercent(rate: number): number {
  return Math.round(Math.min(1, Math.max(0, rate)) * 1000) / 10;
}

function pairBars(label: string, base: number | null, head: number | null): Bar[] {
  if (!isFiniteNumber(base) || !isFiniteNumber(head)) return [];
  return [
    { label: `${label} base`, percent: toPercent(base) },
    { label: `${label} head`, percent: toPercent(head) },
  ];
}

function routeBars(result: EvalResult): Bar[] {
  return Object.keys(result.routes)
    .sort()
    .flatMap((route) => {
      const sides = result.routes[route];
      return pairBars(
        chartLabel(route),
        sides?.base.kpis.completion_rate ?? null,
        sides?.head.kpis.completion_rate ?? null,
      );
    })
    .slice(0, MAX_ROUTES * 2);
}

function rateBars(result: EvalResult): Bar[] {
  const { base, head } = result;
  return [
    ...pairBars("completion", base.kpis.completion_rate, head.kpis.completion_rate),
    ...pairBars("takeover", base.kpis.human_takeover_rate, head.kpis.human_takeover_rate),
    ...pairBars("error", base.kpis.error_rate, head.kpis.error_rate),
  ];
}

function xyChart(title: string, bars: readonly Bar[]): string {
  const labels = bars.map((bar) => `"${bar.label}"`).join(", ");
  const values = bars.map((bar) => String(bar.percent)).join(", ");
  const source = [
    "xychart-beta",
    `  title "${title}"`,
    `  x-axis [${labels}]`,
    `  y-axis "%" 0 --> 100`,
    `  bar [${values}]`,
  ].join("\n");
  // Our own text with allow-listed labels: no backticks inside, so a plain fence holds.
  return `\`\`\`mermaid\n${source}\n\`\`\``;
}

/** The chart as a fenced mermaid block, or "" when no rate is known on both sides. */
export function renderChart(result: EvalResult): string {
  const routes = routeBars(result);
  if (routes.length > 0) return xyChart("Completion rate per route, base vs head", routes);
  const rates = rateBars(result);
  if (rates.length > 0) return xyChart("Rates, base vs head", rates);
  return "";
}
