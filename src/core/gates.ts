import type { Config } from "./config/schema.ts";
import { computeKpis } from "./kpis.ts";
import { ownRecord } from "./own.ts";
import type { Unit } from "./report/format.ts";
import type {
  CaseResult,
  CaseSideResult,
  Delta,
  GateName,
  GateResult,
  GateStatus,
  KpiName,
  Kpis,
  Outcome,
} from "./result.ts";
import {
  type BootstrapOptions,
  bootstrapRatioDelta,
  type OutcomePair,
  pairedBootstrapInterval,
  pairedMeanDelta,
  pairedRateDelta,
  quantileSorted,
  type RatioPair,
  wilson,
  Z_975,
} from "./stats.ts";

/**
 * Gates and deltas (docs/results.md). A gate fails only when its whole 95 % interval lies past
 * the threshold, passes only when the whole interval lies inside it, and otherwise says it
 * cannot tell yet: noise neither blocks nor lets through a migration.
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

export type PairGatesConfig = Pick<
  Config["gates"],
  "max_error_rate" | "max_completion_rate_drop" | "max_cost_increase" | "min_cases"
>;

export interface GateEvaluation {
  gates: GateResult[];
  verdict: GateStatus;
}

/** A case both sides ran: the only kind a paired comparison can use. */
export interface PairedCase {
  id: string;
  route: string;
  base: CaseSideResult;
  head: CaseSideResult;
}

/** Cases with both sides, sorted by ID so bootstrap resamples do not depend on input order. */
export function pairedCases(cases: readonly CaseResult[]): PairedCase[] {
  const pairs: PairedCase[] = [];
  for (const { id, route, base, head } of cases) {
    if (base && head) pairs.push({ id, route, base, head });
  }
  return pairs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `[base, head]` indicators of one final outcome on every paired case. */
export function outcomePairs(pairs: readonly PairedCase[], outcome: Outcome): OutcomePair[] {
  return pairs.map((p) => [p.base.outcome === outcome, p.head.outcome === outcome] as const);
}

/** fail if any gate fails, else inconclusive if any is, else pass. */
export function combineVerdict(statuses: readonly GateStatus[]): GateStatus {
  if (statuses.includes("fail")) return "fail";
  if (statuses.includes("inconclusive")) return "inconclusive";
  return "pass";
}

/** Decide an upper limit ("at most threshold") from the interval around the observed value. */
function judgeCeiling(ci95: [number, number] | null, threshold: number): GateStatus {
  if (!ci95) return "inconclusive";
  if (ci95[0] > threshold) return "fail";
  if (ci95[1] <= threshold) return "pass";
  return "inconclusive";
}

export interface GateOptions {
  /** Bootstrap settings for the cost gate (seed and resample count). */
  bootstrap?: BootstrapOptions;
}

/** Judge the configured gates on the paired cases of an eval. */
export function evaluateGates(
  cases: readonly CaseResult[],
  config: PairGatesConfig,
  options: GateOptions = {},
): GateEvaluation {
  const pairs = pairedCases(cases);
  let gates = [errorRateGate(pairs, config.max_error_rate), completionDropGate(pairs, config)];
  if (config.max_cost_increase !== undefined) {
    gates.push(costIncreaseGate(pairs, config.max_cost_increase, options.bootstrap));
  }
  if (pairs.length < config.min_cases) {
    // Too little evidence holds: the observed values stay visible, but nothing is decided.
    const reason = `only ${plural(pairs.length, "paired case")}; at least ${config.min_cases} needed`;
    gates = gates.map((gate) => ({ ...gate, status: "inconclusive", reason }));
  }
  return { gates, verdict: combineVerdict(gates.map((gate) => gate.status)) };
}

function errorRateGate(pairs: readonly PairedCase[], threshold: number): GateResult {
  const n = pairs.length;
  const errors = pairs.filter((p) => p.head.outcome === "error").length;
  const ci95 = wilson(errors, n);
  const value = n === 0 ? null : errors / n;
  const gate: GateResult = {
    name: "max_error_rate",
    status: judgeCeiling(ci95, threshold),
    value,
    threshold,
    ci95,
  };
  if (gate.status !== "inconclusive") return gate;
  return { ...gate, reason: errorRateUndecided(errors, n, ci95, threshold) };
}

function errorRateUndecided(errors: number, n: number, ci95: [number, number] | null, limit: number): string {
  if (!ci95) return "no paired cases, so no head error rate";
  const observed = `head error rate ${percent(errors / n)} (95 % interval ${percent(ci95[0])}–${percent(ci95[1])})`;
  if (errors === 0 && limit > 0) {
    // Wilson's upper bound at 0 errors is z²/(n + z²); it drops to the limit at n = z²(1 − t)/t.
    const needed = Math.ceil((Z_975 * Z_975 * (1 - limit)) / limit);
    return `${observed}: 0 errors in ${n} cases cannot yet show the rate is at most ${percent(limit)}; about ${needed} error-free cases needed`;
  }
  return `${observed} includes the ${percent(limit)} limit; more cases needed to decide`;
}

function completionDropGate(pairs: readonly PairedCase[], config: PairGatesConfig): GateResult {
  const threshold = config.max_completion_rate_drop;
  const change = pairedRateDelta(outcomePairs(pairs, "pass"));
  // The drop is base − head: the head − base interval, negated and flipped.
  const value = change.delta === null ? null : negate(change.delta);
  const ci95: [number, number] | null = change.ci95 ? [negate(change.ci95[1]), negate(change.ci95[0])] : null;
  const status = judgeCeiling(ci95, threshold);
  const gate: GateResult = { name: "max_completion_rate_drop", status, value, threshold, ci95 };
  if (status !== "inconclusive") return gate;
  const reason = ci95
    ? `completion drop ${points(value ?? 0)} (95 % interval ${points(ci95[0])} to ${points(ci95[1])}) includes the ${points(threshold)} limit; more paired cases needed to decide`
    : "no paired cases, so no completion-rate change";
  return { ...gate, reason };
}

/** −x without the −0 that would otherwise show up in results as "-0". */
function negate(x: number): number {
  return x === 0 ? 0 : -x;
}

function costIncreaseGate(
  pairs: readonly PairedCase[],
  threshold: number,
  bootstrap: BootstrapOptions | undefined,
): GateResult {
  const change = costRatioDelta(
    pairs,
    "relative",
    bootstrap?.seed ?? "modelgate:max_cost_increase",
    bootstrap,
  );
  const status = judgeCeiling(change.ci95, threshold);
  const gate: GateResult = {
    name: "max_cost_increase",
    status,
    value: change.delta,
    threshold,
    ci95: change.ci95,
  };
  if (status !== "inconclusive") return gate;
  let reason: string;
  if (change.delta === null) {
    reason =
      "cost per completed task is unknown: a side completed nothing, or an answer had no usage or price";
  } else if (!change.ci95) {
    reason = "too few completed cases on a side to bound the cost change";
  } else {
    reason = `cost per completed task ${signedPercent(change.delta)} (95 % interval ${signedPercent(change.ci95[0])} to ${signedPercent(change.ci95[1])}) includes the +${percent(threshold)} limit; more cases needed to decide`;
  }
  return { ...gate, reason };
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

// ---------------------------------------------------------------------------------------
// Wording

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function signedPercent(rate: number): string {
  return `${rate >= 0 ? "+" : ""}${percent(rate)}`;
}

/** An absolute change of a rate, in percentage points. */
function points(change: number): string {
  return `${(change * 100).toFixed(1)} points`;
}
