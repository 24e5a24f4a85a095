/**
 * The result file contract (PRODUCT.md §8, `schema_version: 1`).
 * Every door reads and writes this shape; the PR comment is rendered from it.
 */

export const KPI_NAMES = [
  "completion_rate",
  "retry_count",
  "tokens_per_completed_task",
  "cost_per_completed_task",
  "human_takeover_rate",
  "error_rate",
  "latency_p50_ms",
  "latency_p95_ms",
  "tool_calls_per_task",
] as const;

export type KpiName = (typeof KPI_NAMES)[number];

/** A KPI is `null` when it is undefined for the run (nothing completed, no answer, unknown cost). */
export type Kpis = Record<KpiName, number | null>;

export type Outcome = "pass" | "fail" | "takeover" | "error";

export type Verdict = "pass" | "fail" | "inconclusive" | "skipped";

export type GateStatus = "pass" | "fail" | "inconclusive";

/** One side's view of one case after all its attempts. */
export interface CaseSideResult {
  outcome: Outcome;
  attempts: number;
  /** prompt + completion tokens over all attempts; `null` when any answer came without usage. */
  tokens: number | null;
  /** USD over all attempts; `null` when any attempt's cost is unknown (no usage, or no price). */
  cost: number | null;
  /** The `model` field of the last answer, or the requested ID when there was no answer. */
  model: string;
  tool_calls: number;
  /** Latency of each attempt that got an answer, in ms. */
  latencies_ms: number[];
  /** Why the last attempt failed, for people reading the report (assert message, HTTP status…). */
  detail?: string;
  /** True when this side's answer came from the attempt cache. */
  cached?: boolean;
}

export interface CaseResult {
  id: string;
  route: string;
  /** Absent when the side did not run this case (stopped by pre-flight, budget, or case only on one side). */
  base?: CaseSideResult;
  head?: CaseSideResult;
}

export interface SideSummary {
  kpis: Kpis;
  cases: number;
  /** Attempts sent to the provider (an attempt is one or more requests: tool loops take several). */
  requests: number;
  /** Attempts served from the attempt cache. */
  cache_hits: number;
}

export interface Delta {
  delta: number | null;
  ci95: [number, number] | null;
}

export interface GateResult {
  name: string;
  status: GateStatus;
  /** The observed value the gate judged (e.g. head error rate, or completion drop). */
  value: number | null;
  threshold: number;
  /** The 95 % interval behind the decision. */
  ci95?: [number, number] | null;
  /** Why it was not decided, in plain words, when inconclusive. */
  reason?: string;
}

export type Warning =
  | { code: "model_mismatch"; route: string; requested: string; returned: string }
  | { code: "unknown_model"; route: string; model: string; side: "base" | "head" }
  | { code: "missing_price"; model: string }
  | { code: "missing_usage"; route: string; model: string }
  | { code: "partial"; reason: string; cap?: string }
  | { code: "endpoint_in_repo"; file: string; key: string }
  | { code: "cases_changed"; added: string[]; removed: string[]; modified: string[] }
  | { code: "case_one_side"; id: string; side: "base" | "head" }
  | { code: "truncated_file_list"; files: number }
  | { code: "too_small"; message: string }
  /** Attempt-cache entries that failed validation on read: each was a miss and ran again. */
  | { code: "cache_entry_invalid"; count: number; example: string }
  | { code: "config"; message: string };

export interface Selection {
  /** Case IDs that ran, after sampling. */
  case_ids: string[];
  /** Why each route was selected, e.g. "route model changed (llm.routes.agentic_coding)". */
  reasons: Array<{ route: string; reason: string }>;
  /** Size of the selection before `max_cases` sampling. */
  selected: number;
  /** Seed used when sampling below the selection. */
  sample_seed?: string;
  all: boolean;
}

export interface EvalResult {
  schema_version: 1;
  verdict: Verdict;
  /** True when budget caps, a kill or provider failure stopped the run before all cases finished. */
  partial: boolean;
  partial_reason?: string;
  base_ref?: string;
  head_ref?: string;
  base: SideSummary;
  head: SideSummary;
  routes: Record<string, { base: { kpis: Kpis }; head: { kpis: Kpis } }>;
  deltas: Partial<Record<KpiName, Delta>>;
  /** Smallest completion-rate change this run could detect at 80 % power (absolute, 0..1). */
  min_detectable_effect: number | null;
  gates: GateResult[];
  warnings: Warning[];
  selection: Selection;
  cases: CaseResult[];
  /** Human-facing labels for providers that are simulated, so numbers are never mistaken for real ones. */
  simulated?: boolean;
  /** The gate thresholds this result was judged by, so shard results can be merged and re-judged. */
  gates_config?: GatesConfig;
  /** `i/n` when this result is one shard of a run. */
  shard?: string;
}

export interface GatesConfig {
  max_error_rate: number;
  max_completion_rate_drop: number;
  max_cost_increase?: number | undefined;
  min_cases: number;
}
