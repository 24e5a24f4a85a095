import { computeKpis } from "./kpis.ts";
import { ownRecord } from "./own.ts";
import { type GateEvaluation, outcomePairs, type PairedCase, pairedCases, pairsInOrder } from "./pairs.ts";
import type { Unit } from "./report/format.ts";
import type { CaseResult, CaseSideResult, Delta, GateName, GatesConfig, KpiName, Kpis } from "./result.ts";
import { GateMonitor } from "./sequential/monitor.ts";
import {
  type BootstrapOptions,
  bootstrapRatioDelta,
  pairedBootstrapInterval,
  pairedMeanDelta,
  pairedRateDelta,
  quantileSorted,
  type RatioPair,
} from "./stats.ts";

export { combineVerdict, type GateEvaluation, outcomePairs, type PairedCase, pairedCases } from "./pairs.ts";

/**
 * Gates and deltas (docs/gates.md, docs/results.md). The eval gates are judged by
 * `sequential/` (anytime-valid, the default) or `fixed-gates.ts`; this module names them and
 * computes the report's deltas. A gate fails only when the breach is shown beyond noise, passes
 * only when the value is shown inside its limit, and otherwise says it cannot tell yet.
 */

/**
 * What each gate's value and threshold mean, so reports never guess from the name:
 * - `unit`: how value, threshold and interval are shown (see `Unit`);
 * - `signed`: the value is a change that can go either way, shown with its sign;
 * - `completion`: the gate judges the completion rate, so the run's minimum detectable
 *   effect says whether it can decide at all.
 */
export const GATES: Readonly<Record<GateName, { unit: Unit; signed: boolean; completion: boolean }>> = {
  max_error_rate: { unit: "percent", signed: false, completion: false },
  max_completion_rate_drop: { unit: "pp", signed: true, completion: true },
  max_cost_increase: { unit: "relative", signed: false, completion: false },
};

/**
 * Judge the eval gates on cases given in sequence order (docs/gates.md): replays them through a
 * `GateMonitor`, sequentially unless the gates were configured fixed-N (`sequential: false`).
 */
export function evaluateGates(
  cases: readonly CaseResult[],
  config: GatesConfig,
  options: { intervals?: boolean } = {},
): GateEvaluation {
  const monitor = new GateMonitor(config, {
    mode: config.sequential === false ? "fixed" : "sequential",
    ...options,
  });
  for (const pair of pairsInOrder(cases)) monitor.push(pair);
  return monitor.evaluate();
}

// ---------------------------------------------------------------------------------------
// Deltas for the report

/**
 * head − base of every KPI on the paired cases, with a 95 % interval:
 * - rates (completion, takeover, error): Newcombe's paired hybrid score interval;
 * - per-completed-task ratios (tokens, cost): paired percentile bootstrap over case IDs;
 * - retry_count, tool_calls_per_task: mean of per-case differences, Student t interval;
 * - latency p50/p95: paired bootstrap of the percentile difference (resampling cases, both
 *   sides' attempt latencies together). A bootstrap p95 of a small run is rough: treat its
 *   interval as indicative; no gate uses it.
 * Only cases both sides ran count, so a delta can differ slightly from the difference of the
 * two sides' KPIs when some cases ran on one side only.
 */
export function computeDeltas(
  cases: readonly CaseResult[],
  options: BootstrapOptions = {},
): Partial<Record<KpiName, Delta>> {
  const pairs = pairedCases(cases);
  const seed = options.seed ?? "modelgate";
  const resample = (kpi: KpiName): BootstrapOptions => ({ ...options, seed: `${seed}:${kpi}` });
  return {
    completion_rate: pairedRateDelta(outcomePairs(pairs, "pass")),
    retry_count: pairedMeanDelta(pairs.map((p) => retries(p.head) - retries(p.base))),
    tokens_per_completed_task: tokenRatioDelta(pairs, resample("tokens_per_completed_task")),
    cost_per_completed_task: costRatioDelta(pairs, "difference", `${seed}:cost_per_completed_task`, options),
    human_takeover_rate: pairedRateDelta(outcomePairs(pairs, "takeover")),
    error_rate: pairedRateDelta(outcomePairs(pairs, "error")),
    latency_p50_ms: latencyQuantileDelta(pairs, 0.5, resample("latency_p50_ms")),
    latency_p95_ms: latencyQuantileDelta(pairs, 0.95, resample("latency_p95_ms")),
    tool_calls_per_task: pairedMeanDelta(pairs.map((p) => p.head.tool_calls - p.base.tool_calls)),
  };
}

function retries(side: CaseSideResult): number {
  return Math.max(0, side.attempts - 1);
}

function completedTerm(side: CaseSideResult, numerator: number): { numerator: number; denominator: number } {
  return { numerator, denominator: side.outcome === "pass" ? 1 : 0 };
}

/** Unknown (null) as soon as one paired answer came without usage, as for cost. */
function tokenRatioDelta(pairs: readonly PairedCase[], options: BootstrapOptions): Delta {
  const tokenPairs: RatioPair[] = [];
  for (const p of pairs) {
    if (p.base.tokens === null || p.head.tokens === null) return { delta: null, ci95: null };
    tokenPairs.push({
      base: completedTerm(p.base, p.base.tokens),
      head: completedTerm(p.head, p.head.tokens),
    });
  }
  return bootstrapRatioDelta(tokenPairs, options);
}

/** Cost per completed task; unknown (null) as soon as one paired answer's cost is unknown. */
function costRatioDelta(
  pairs: readonly PairedCase[],
  contrast: "difference" | "relative",
  seed: string,
  options: BootstrapOptions | undefined,
): Delta {
  const costPairs: RatioPair[] = [];
  for (const p of pairs) {
    if (p.base.cost === null || p.head.cost === null) return { delta: null, ci95: null };
    costPairs.push({ base: completedTerm(p.base, p.base.cost), head: completedTerm(p.head, p.head.cost) });
  }
  return bootstrapRatioDelta(costPairs, { ...options, seed, contrast });
}

function latencyQuantile(sides: readonly CaseSideResult[], q: number): number | null {
  let count = 0;
  for (const side of sides) count += side.latencies_ms.length;
  const values = new Float64Array(count);
  let offset = 0;
  for (const side of sides) {
    values.set(side.latencies_ms, offset);
    offset += side.latencies_ms.length;
  }
  return quantileSorted(values.sort(), q);
}

function latencyQuantileDifference(pairs: readonly PairedCase[], q: number): number | null {
  const base = latencyQuantile(
    pairs.map((p) => p.base),
    q,
  );
  const head = latencyQuantile(
    pairs.map((p) => p.head),
    q,
  );
  return base === null || head === null ? null : head - base;
}

function latencyQuantileDelta(pairs: readonly PairedCase[], q: number, options: BootstrapOptions): Delta {
  const delta = latencyQuantileDifference(pairs, q);
  if (delta === null) return { delta: null, ci95: null };
  return {
    delta,
    ci95: pairedBootstrapInterval(pairs, (sample) => latencyQuantileDifference(sample, q), options),
  };
}

// ---------------------------------------------------------------------------------------
// Per-route KPIs

/** KPIs of each route on each side, over every case that side ran (routes sorted by name). */
export function computeRouteKpis(
  cases: readonly CaseResult[],
): Record<string, { base: { kpis: Kpis }; head: { kpis: Kpis } }> {
  const byRoute = new Map<string, { base: CaseSideResult[]; head: CaseSideResult[] }>();
  for (const c of cases) {
    const sides = byRoute.get(c.route) ?? { base: [], head: [] };
    if (c.base) sides.base.push(c.base);
    if (c.head) sides.head.push(c.head);
    byRoute.set(c.route, sides);
  }
  const routes = ownRecord<{ base: { kpis: Kpis }; head: { kpis: Kpis } }>();
  for (const route of [...byRoute.keys()].sort()) {
    const sides = byRoute.get(route) ?? { base: [], head: [] };
    routes[route] = { base: { kpis: computeKpis(sides.base) }, head: { kpis: computeKpis(sides.head) } };
  }
  return routes;
}
