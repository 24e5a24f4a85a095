import { computeKpis } from "./kpis.ts";
import { ownRecord } from "./own.ts";
import { type GateEvaluation, outcomePairs, type PairedCase, pairedCases, pairsInOrder } from "./pairs.ts";
import type { Unit } from "./report/format.ts";
import type { CaseResult, CaseSideResult, Delta, GateName, GatesConfig, KpiName, Kpis } from "./result.ts";
import { GateMonitor } from "./sequential/monitor.ts";
import {
  ascending,
  type BootstrapOptions,
  bootstrapRatioDelta,
  DEFAULT_BOOTSTRAP_ITERATIONS,
  DEFAULT_BOOTSTRAP_SEED,
  MIN_DEFINED_RESAMPLE_SHARE,
  pairedMeanDelta,
  pairedRateDelta,
  quantileSorted,
  type RatioPair,
  seededRandom,
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
 * `GateMonitor`, sequentially unless the gates were configured fixed-N (`sequential: false`) or
 * the caller asks for one judgement at the end (`mode: "fixed"`).
 */
export function evaluateGates(
  cases: readonly CaseResult[],
  config: GatesConfig,
  options: { intervals?: boolean; mode?: "sequential" | "fixed" } = {},
): GateEvaluation {
  const monitor = new GateMonitor(config, {
    ...options,
    mode: options.mode ?? (config.sequential === false ? "fixed" : "sequential"),
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
  return { delta, ci95: latencyBootstrapInterval(pairs, q, options) };
}

/**
 * Every latency of one side, ascending, with the index of the case it belongs to: sorted once,
 * so a resample's quantile is one walk weighted by how often each case was drawn, not a sort
 * of the pooled latencies per resample (a 2,000-case run spent seconds re-sorting them).
 */
function sortedLatencies(sides: readonly CaseSideResult[]): { values: Float64Array; owners: Int32Array } {
  const entries: Array<[number, number]> = [];
  sides.forEach((side, owner) => {
    for (const value of side.latencies_ms) entries.push([value, owner]);
  });
  entries.sort((a, b) => a[0] - b[0]);
  return {
    values: Float64Array.from(entries, (e) => e[0]),
    owners: Int32Array.from(entries, (e) => e[1]),
  };
}

/** The type-7 q-quantile of the multiset where the latencies of case i appear `draws[i]` times. */
function weightedQuantile(
  sorted: { values: Float64Array; owners: Int32Array },
  draws: Int32Array,
  perCase: Int32Array,
  q: number,
): number | null {
  let total = 0;
  for (let i = 0; i < draws.length; i++) total += (draws[i] ?? 0) * (perCase[i] ?? 0);
  if (total === 0) return null;
  const position = (total - 1) * q;
  const below = Math.floor(position);
  let seen = 0;
  let lower: number | undefined;
  for (let j = 0; j < sorted.values.length; j++) {
    seen += draws[sorted.owners[j] ?? 0] ?? 0;
    const value = sorted.values[j] ?? 0;
    if (lower === undefined && seen > below) lower = value;
    if (lower !== undefined && (seen > below + 1 || seen >= total)) {
      return lower + (position - below) * (value - lower);
    }
  }
  return lower ?? null;
}

/**
 * Paired percentile bootstrap of the quantile difference: the same draws as
 * `pairedBootstrapInterval` (cases with replacement, both sides together), so the interval is
 * the one it would give, computed in O(latencies) per resample.
 */
function latencyBootstrapInterval(
  pairs: readonly PairedCase[],
  q: number,
  options: BootstrapOptions,
): [number, number] | null {
  const n = pairs.length;
  const iterations = options.iterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  if (n === 0 || iterations < 1) return null;
  const base = sortedLatencies(pairs.map((p) => p.base));
  const head = sortedLatencies(pairs.map((p) => p.head));
  const basePerCase = Int32Array.from(pairs, (p) => p.base.latencies_ms.length);
  const headPerCase = Int32Array.from(pairs, (p) => p.head.latencies_ms.length);
  const random = seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const draws = new Int32Array(n);
  const replicates: number[] = [];
  for (let i = 0; i < iterations; i++) {
    draws.fill(0);
    for (let j = 0; j < n; j++) {
      const drawn = Math.floor(random() * n);
      draws[drawn] = (draws[drawn] ?? 0) + 1;
    }
    const b = weightedQuantile(base, draws, basePerCase, q);
    const h = weightedQuantile(head, draws, headPerCase, q);
    if (b !== null && h !== null && Number.isFinite(h - b)) replicates.push(h - b);
  }
  if (replicates.length < MIN_DEFINED_RESAMPLE_SHARE * iterations) return null;
  const sorted = ascending(replicates);
  return [quantileSorted(sorted, 0.025) ?? 0, quantileSorted(sorted, 0.975) ?? 0];
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
