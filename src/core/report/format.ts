/**
 * Number formatting for the PR comment. Plain text out: callers that place a value in
 * markdown pass it through `markdownSafe` (escape.ts) because `$` can start GitHub math.
 */

import type { KpiName } from "../result.ts";

export const NA = "n/a";

/**
 * - `percent`: a rate 0..1 shown as "12.3 %"
 * - `pp`: a difference of rates shown in percentage points, "5.0 pp"
 * - `relative`: a fraction of change shown as "25.0 %"
 * - `usd`, `int` (thousands separators), `ms`, `decimal` (two decimals)
 */
export type Unit = "percent" | "pp" | "relative" | "usd" | "int" | "ms" | "decimal";

export const KPI_UNITS: Record<KpiName, Unit> = {
  completion_rate: "percent",
  retry_count: "decimal",
  tokens_per_completed_task: "int",
  cost_per_completed_task: "usd",
  human_takeover_rate: "percent",
  error_rate: "percent",
  latency_p50_ms: "ms",
  latency_p95_ms: "ms",
  tool_calls_per_task: "decimal",
};

export const KPI_LABELS: Record<KpiName, string> = {
  completion_rate: "Completion rate",
  retry_count: "Retries per case",
  tokens_per_completed_task: "Tokens / completed task",
  cost_per_completed_task: "Cost / completed task",
  human_takeover_rate: "Human takeover rate",
  error_rate: "Error rate",
  latency_p50_ms: "Latency p50",
  latency_p95_ms: "Latency p95",
  tool_calls_per_task: "Tool calls per task",
};

/** The unit a difference of values in `unit` is shown in (rates move in points). */
export function deltaUnit(unit: Unit): Unit {
  return unit === "percent" ? "pp" : unit;
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** "1234567" → "1,234,567" (digits only). */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function fixed(abs: number, decimals: number): string {
  const [whole = "0", fraction] = abs.toFixed(decimals).split(".");
  return fraction === undefined ? groupThousands(whole) : `${groupThousands(whole)}.${fraction}`;
}

/** Dollars: cents from $1 up, else two significant digits (at most 6 decimals): $0.0031, $0.022, $0.50. */
function dollars(abs: number): string {
  if (abs === 0 || abs >= 1) return fixed(abs, 2);
  const decimals = Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(abs))));
  return fixed(abs, decimals);
}

function magnitude(abs: number, unit: Unit): string {
  switch (unit) {
    case "percent":
    case "relative":
      return `${fixed(abs * 100, 1)} %`;
    case "pp":
      return `${fixed(abs * 100, 1)} pp`;
    case "usd":
      return `$${dollars(abs)}`;
    case "int":
      return fixed(abs, 0);
    case "ms":
      return `${fixed(abs, 0)} ms`;
    case "decimal":
      return fixed(abs, 2);
  }
}

/** True when the shown text rounds to zero, so it gets no sign ("-0.0 %" never shows). */
function showsZero(text: string): boolean {
  return !/[1-9]/.test(text);
}

/** A value in its unit; `null`, `undefined` and non-finite numbers are "n/a". */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (!isFiniteNumber(value)) return NA;
  const text = magnitude(Math.abs(value), unit);
  return value < 0 && !showsZero(text) ? `-${text}` : text;
}

/** A change, always signed unless it rounds to zero: "+1.2 pp", "-$0.0031". */
export function formatSigned(value: number | null | undefined, unit: Unit): string {
  if (!isFiniteNumber(value)) return NA;
  const text = magnitude(Math.abs(value), unit);
  if (showsZero(text)) return text;
  return `${value < 0 ? "-" : "+"}${text}`;
}

/** A 95 % interval, "[-10.0 pp, +0.0 pp]"; `signed` for intervals of a change. */
export function formatInterval(
  ci: readonly [number, number] | null | undefined,
  unit: Unit,
  signed: boolean,
): string {
  if (!ci || !isFiniteNumber(ci[0]) || !isFiniteNumber(ci[1])) return NA;
  const format = signed ? formatSigned : formatValue;
  return `[${format(ci[0], unit)}, ${format(ci[1], unit)}]`;
}

/** Relative change head vs base, "+25.0 %"; `null` when base is not a positive number. */
export function formatRelative(
  base: number | null | undefined,
  head: number | null | undefined,
): string | null {
  if (!isFiniteNumber(base) || !isFiniteNumber(head) || base <= 0) return null;
  return formatSigned((head - base) / base, "relative");
}

export function formatCount(value: number): string {
  return formatValue(value, "int");
}

/** "1 case", "2 cases". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : pluralForm}`;
}

/** The 7-character form of a hex commit SHA, or `null` when `sha` is not one. */
export function shortSha(sha: string | undefined): string | null {
  const trimmed = sha?.trim() ?? "";
  return /^[0-9a-f]{7,64}$/i.test(trimmed) ? trimmed.slice(0, 7).toLowerCase() : null;
}
