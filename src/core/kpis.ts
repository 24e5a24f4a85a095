import type { CaseSideResult, Kpis } from "./result.ts";
import { ascending, quantileSorted } from "./stats.ts";

/**
 * The KPIs of one side (docs/cases.md): outcome economics per case and per *completed*
 * case, so a model that is cheaper per call but needs more retries to finish is not
 * mistaken for cheaper.
 */
export function computeKpis(sides: readonly CaseSideResult[]): Kpis {
  const cases = sides.length;
  if (cases === 0) return emptyKpis();
  const completed = countOutcome(sides, "pass");
  const latencies = ascending(sides.flatMap((side) => side.latencies_ms));
  return {
    completion_rate: completed / cases,
    retry_count: sum(sides, (side) => Math.max(0, side.attempts - 1)) / cases,
    tokens_per_completed_task: perCompletedTask(sides, completed, (side) => side.tokens),
    cost_per_completed_task: costPerCompletedTask(sides, completed),
    human_takeover_rate: countOutcome(sides, "takeover") / cases,
    error_rate: countOutcome(sides, "error") / cases,
    // Latency over every attempt that got an answer (errors have none), linear interpolation.
    latency_p50_ms: quantileSorted(latencies, 0.5),
    latency_p95_ms: quantileSorted(latencies, 0.95),
    tool_calls_per_task: sum(sides, (side) => side.tool_calls) / cases,
  };
}

function emptyKpis(): Kpis {
  return {
    completion_rate: null,
    retry_count: null,
    tokens_per_completed_task: null,
    cost_per_completed_task: null,
    human_takeover_rate: null,
    error_rate: null,
    latency_p50_ms: null,
    latency_p95_ms: null,
    tool_calls_per_task: null,
  };
}

function costPerCompletedTask(sides: readonly CaseSideResult[], completed: number): number | null {
  return perCompletedTask(sides, completed, (side) => side.cost);
}

/**
 * Unknown on any case makes the total unknown: a missing price or a missing `usage` is never
 * counted as 0.
 */
function perCompletedTask(
  sides: readonly CaseSideResult[],
  completed: number,
  value: (side: CaseSideResult) => number | null,
): number | null {
  if (completed === 0) return null;
  let total = 0;
  for (const side of sides) {
    const amount = value(side);
    if (amount === null) return null;
    total += amount;
  }
  return total / completed;
}

function countOutcome(sides: readonly CaseSideResult[], outcome: CaseSideResult["outcome"]): number {
  return sides.filter((side) => side.outcome === outcome).length;
}

function sum(sides: readonly CaseSideResult[], value: (side: CaseSideResult) => number): number {
  return sides.reduce((total, side) => total + value(side), 0);
}
