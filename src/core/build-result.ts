import { coverageFails } from "./coverage.ts";
import {
  computeDeltas,
  computeRouteKpis,
  evaluateGates,
  type GateEvaluation,
  outcomePairs,
  pairedCases,
} from "./gates.ts";
import { computeKpis } from "./kpis.ts";
import type {
  CaseResult,
  Coverage,
  EvalResult,
  GatesConfig,
  Selection,
  SideSummary,
  Verdict,
  Warning,
} from "./result.ts";
import { minDetectableEffect } from "./stats.ts";

/** How far the pair sequence ran (result field `sequential`). */
export type SequenceSummary = NonNullable<EvalResult["sequential"]>;

export interface ResultParts {
  selection: Selection;
  warnings: readonly Warning[];
  cases: readonly CaseResult[];
  gates: GatesConfig;
  /**
   * The gates as the run's `GateMonitor` judged them over the pairs of the sequence. Absent:
   * the paired cases are replayed, in the order given, through a fixed-N monitor.
   */
  judged?: GateEvaluation | undefined;
  /** The sequence's summary: mode, seed, planned and judged pairs, early stop, calls saved. */
  sequence?: SequenceSummary | undefined;
  /**
   * A checkpoint of a run in progress: the bootstrap deltas are skipped (they cost every pair
   * times thousands of resamples, at every checkpoint), so a checkpoint costs O(pairs) and
   * the final result computes them once.
   */
  checkpoint?: boolean;
  /** Set when the run stopped before every case finished. */
  stopped?: { reason: string; cap?: string } | undefined;
  /** A verdict decided before any gate (e.g. `fail` for an unknown head model). */
  forcedVerdict?: Verdict | undefined;
  simulated?: boolean | undefined;
  shard?: string | undefined;
  /** What the change touched that no case covers; an uncovered model change fails when required. */
  coverage?: Coverage | undefined;
  /** Batch mode: the rounds and batches sent (an interactive run records nothing). */
  batch?: EvalResult["batch"] | undefined;
}

/** Everything in the result file that follows from the cases: KPIs, deltas, gates, verdict. */
export function buildResult(parts: ResultParts): EvalResult {
  const cases = [...parts.cases];
  const warnings = [...parts.warnings];
  const { stopped } = parts;
  if (stopped && !warnings.some((w) => w.code === "partial")) {
    warnings.push({ code: "partial", reason: stopped.reason, ...(stopped.cap ? { cap: stopped.cap } : {}) });
  }
  const config = gatesConfigOf(parts.gates);
  const ran = cases.some((c) => c.base || c.head);
  const gates = ran
    ? (parts.judged ?? evaluateGates(cases, config, { mode: "fixed" }))
    : { gates: [], verdict: "inconclusive" as const };
  let verdict: Verdict = parts.forcedVerdict ?? (ran || stopped ? gates.verdict : "skipped");
  // A partial run can fail, but it cannot pass: the cases it did not run might have failed.
  // (Pairs a sequence did not start because its verdict had settled are not a partial run.)
  if (stopped && verdict === "pass") verdict = "inconclusive";
  // A model change nothing evaluated is not a pass, nor a skip: it ships unmeasured.
  if (coverageFails(parts.coverage)) verdict = "fail";
  return {
    schema_version: 1,
    verdict,
    partial: Boolean(stopped),
    ...(stopped
      ? { partial_reason: stopped.cap ? `${stopped.reason} (${stopped.cap})` : stopped.reason }
      : {}),
    base: sideSummary(cases, "base"),
    head: sideSummary(cases, "head"),
    routes: computeRouteKpis(cases),
    deltas: parts.checkpoint ? {} : computeDeltas(cases),
    min_detectable_effect: ran ? minDetectableEffect(outcomePairs(pairedCases(cases), "pass")) : null,
    gates: gates.gates,
    warnings,
    selection: parts.selection,
    cases,
    ...(parts.simulated ? { simulated: true } : {}),
    gates_config: config,
    ...(parts.sequence ? { sequential: parts.sequence } : {}),
    ...(parts.coverage ? { coverage: parts.coverage } : {}),
    ...(parts.batch ? { mode: "batch" as const, batch: parts.batch } : {}),
    ...(parts.shard ? { shard: parts.shard } : {}),
  };
}

function sideSummary(cases: readonly CaseResult[], side: "base" | "head"): SideSummary {
  const ran = cases.flatMap((c) => (c[side] ? [c[side]] : []));
  return {
    kpis: computeKpis(ran),
    cases: ran.length,
    requests: ran.filter((r) => !r.cached).reduce((n, r) => n + r.attempts, 0),
    cache_hits: ran.filter((r) => r.cached).reduce((n, r) => n + r.attempts, 0),
  };
}

/**
 * Exactly the eval's thresholds: callers may pass the whole `gates` policy (it also holds
 * production settings), and the result file's schema admits only what merge re-judges with
 * and what the doors publish by (`on_inconclusive`, already resolved for this change).
 */
export function gatesConfigOf(gates: GatesConfig): GatesConfig {
  return {
    max_error_rate: gates.max_error_rate,
    max_completion_rate_drop: gates.max_completion_rate_drop,
    ...(gates.max_cost_increase !== undefined ? { max_cost_increase: gates.max_cost_increase } : {}),
    min_cases: gates.min_cases,
    ...(gates.eval_max_error_rate !== undefined ? { eval_max_error_rate: gates.eval_max_error_rate } : {}),
    ...(gates.sequential !== undefined ? { sequential: gates.sequential } : {}),
    ...(gates.on_inconclusive !== undefined ? { on_inconclusive: gates.on_inconclusive } : {}),
  };
}
