/**
 * The result file contract (docs/results.md, `schema_version: 1`).
 * Every door reads and writes this shape; the PR comment is rendered from it.
 *
 * The zod schema below is the one definition: the TypeScript types are inferred from it, the
 * writer checks what it writes against it, and every reader (merge, the Action's merge mode,
 * the evidence block, the App) parses with it. Objects are strict: a file with a key this
 * version does not know, or a value of the wrong shape, is rejected as a whole, never partly
 * trusted.
 */

import { z } from "zod";
import { UserError } from "./errors.ts";
import { describeValue, valueAt } from "./text/found-value.ts";

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

/**
 * The gates a result can carry: a closed set. Their unit and sign live in one table
 * (`GATES` in gates.ts), so nothing guesses them from the name.
 */
export const GATE_NAMES = ["max_error_rate", "max_completion_rate_drop", "max_cost_increase"] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** zod's `number` rejects NaN and ±Infinity, which JSON cannot carry anyway. */
const finite = z.number();
const count = z.number().int().nonnegative();
const interval = z.tuple([finite, finite]);

/** A KPI is `null` when it is undefined for the run (nothing completed, no answer, unknown cost). */
export const kpisSchema = z.record(z.enum(KPI_NAMES), finite.nullable());
export type Kpis = z.infer<typeof kpisSchema>;

export const outcomeSchema = z.enum(["pass", "fail", "takeover", "error"]);
export type Outcome = z.infer<typeof outcomeSchema>;

export const verdictSchema = z.enum(["pass", "fail", "inconclusive", "skipped"]);
export type Verdict = z.infer<typeof verdictSchema>;

export const gateStatusSchema = z.enum(["pass", "fail", "inconclusive"]);
export type GateStatus = z.infer<typeof gateStatusSchema>;

/** One side's view of one case after all its attempts. */
export const caseSideResultSchema = z.strictObject({
  outcome: outcomeSchema,
  attempts: count,
  /** prompt + completion tokens over all attempts; `null` when any answer came without usage. */
  tokens: count.nullable(),
  /** USD over all attempts; `null` when any attempt's cost is unknown (no usage, or no price). */
  cost: finite.nonnegative().nullable(),
  /** The `model` field of the last answer, or the requested ID when there was no answer. */
  model: z.string(),
  tool_calls: count,
  /** Latency of each attempt that got an answer, in ms. */
  latencies_ms: z.array(finite.nonnegative()),
  /** Why the last attempt failed, for people reading the report (assert message, HTTP status…). */
  detail: z.string().optional(),
  /** True when this side's answer came from the attempt cache. */
  cached: z.boolean().optional(),
});
export type CaseSideResult = z.infer<typeof caseSideResultSchema>;

export const caseResultSchema = z.strictObject({
  id: z.string(),
  route: z.string(),
  /** Absent when the side did not run this case (stopped by pre-flight, budget, or case only on one side). */
  base: caseSideResultSchema.optional(),
  head: caseSideResultSchema.optional(),
});
export type CaseResult = z.infer<typeof caseResultSchema>;

export const sideSummarySchema = z.strictObject({
  kpis: kpisSchema,
  cases: count,
  /** Attempts sent to the provider (an attempt is one or more requests: tool loops take several). */
  requests: count,
  /** Attempts served from the attempt cache. */
  cache_hits: count,
});
export type SideSummary = z.infer<typeof sideSummarySchema>;

export const deltaSchema = z.strictObject({
  delta: finite.nullable(),
  ci95: interval.nullable(),
});
export type Delta = z.infer<typeof deltaSchema>;

export const deltasSchema = z.partialRecord(z.enum(KPI_NAMES), deltaSchema);

export const gateResultSchema = z.strictObject({
  name: z.enum(GATE_NAMES),
  status: gateStatusSchema,
  /** The observed value the gate judged (e.g. head error rate, or completion drop). */
  value: finite.nullable(),
  threshold: finite,
  /**
   * The interval behind the decision. Sequential mode: the always-valid confidence sequence as of
   * the last judged pair (each side at the level its decision uses); fixed-N mode: the fixed-N
   * interval (Clopper–Pearson, Tango, bootstrap-t).
   */
  ci95: interval.nullable().optional(),
  /** Why it was not decided, in plain words, when inconclusive. */
  reason: z.string().optional(),
  /** Fewer judged pairs than this never decide this gate (docs/gates.md lists each gate's minimum). */
  min_pairs: count.optional(),
  /** The pair of the sequence at which the gate was decided (sequential mode). */
  decided_at: count.optional(),
  /** Undecided gates: about how many more pairs would likely decide, from the sequence so far; null when unlikely. */
  pairs_to_decide: count.nullable().optional(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

const side = z.enum(["base", "head"]);

export const warningSchema = z.discriminatedUnion("code", [
  z.strictObject({
    code: z.literal("model_mismatch"),
    route: z.string(),
    requested: z.string(),
    returned: z.string(),
  }),
  z.strictObject({
    code: z.literal("unknown_model"),
    route: z.string(),
    model: z.string(),
    side,
    /** The provider whose model list lacks it, when the run used a provider map. */
    provider: z.string().optional(),
  }),
  z.strictObject({ code: z.literal("missing_price"), model: z.string() }),
  z.strictObject({ code: z.literal("missing_usage"), route: z.string(), model: z.string() }),
  z.strictObject({ code: z.literal("partial"), reason: z.string(), cap: z.string().optional() }),
  z.strictObject({ code: z.literal("endpoint_in_repo"), file: z.string(), key: z.string() }),
  z.strictObject({
    code: z.literal("cases_changed"),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    modified: z.array(z.string()),
  }),
  z.strictObject({ code: z.literal("case_one_side"), id: z.string(), side }),
  z.strictObject({ code: z.literal("truncated_file_list"), files: count }),
  z.strictObject({ code: z.literal("too_small"), message: z.string() }),
  /** Attempt-cache entries that failed validation on read: each was a miss and ran again. */
  z.strictObject({ code: z.literal("cache_entry_invalid"), count, example: z.string() }),
  z.strictObject({ code: z.literal("config"), message: z.string() }),
  /** A changed route (model, settings or rollout share) that no case runs on: see `coverage`. */
  z.strictObject({
    code: z.literal("uncovered_route"),
    route: z.string(),
    reason: z.string(),
    model_change: z.boolean(),
  }),
  /** `evals.cases` matched no file at the head, so nothing the change touched could be evaluated. */
  z.strictObject({ code: z.literal("no_case_files"), globs: z.array(z.string()) }),
  /** The default model changed and no case runs on a route that uses it: see `coverage`. */
  z.strictObject({
    code: z.literal("uncovered_default_model"),
    file: z.string(),
    key: z.string(),
    from: z.string().nullable(),
    to: z.string(),
  }),
  /** A model change in a file other than `llm.config`: the eval reads routes from that file only. */
  z.strictObject({
    code: z.literal("model_change_outside_llm_config"),
    file: z.string(),
    llm_config: z.string(),
    keys: z.array(z.string()),
  }),
  /** A structured file was read, tolerating something its runtime tolerates (a duplicate YAML key, a custom tag). */
  z.strictObject({
    code: z.literal("format"),
    file: z.string(),
    line: count.optional(),
    message: z.string(),
  }),
]);
export type Warning = z.infer<typeof warningSchema>;

export const selectionSchema = z.strictObject({
  /** Case IDs that ran, after sampling. */
  case_ids: z.array(z.string()),
  /** Why each route was selected, e.g. "route model changed (llm.routes.agentic_coding)". */
  reasons: z.array(z.strictObject({ route: z.string(), reason: z.string() })),
  /** Size of the selection before `max_cases` sampling. */
  selected: count,
  /** Seed used when sampling below the selection. */
  sample_seed: z.string().optional(),
  all: z.boolean(),
});
export type Selection = z.infer<typeof selectionSchema>;

/** One change the eval could not cover (docs/results.md#coverage). */
export const uncoveredChangeSchema = z.strictObject({
  /**
   * `route`: a changed route no case runs on; `file`: a model change outside `llm.config`;
   * `default_model`: the default model changed and no case runs on a route that uses it.
   */
  kind: z.enum(["route", "file", "default_model"]),
  route: z.string().optional(),
  file: z.string().optional(),
  /** The model keys that changed in `file` (at most 10; the reason counts the rest). */
  keys: z.array(z.string()).optional(),
  /** The route's resolved model on each side, when it changed (`from` is null for a new route). */
  model: z.strictObject({ from: z.string().nullable(), to: z.string() }).optional(),
  /** True when a model changed: uncovered, it fails the verdict while `required`. */
  model_change: z.boolean(),
  /** One line for people: what changed, and why no case covers it. */
  reason: z.string(),
});
export type UncoveredChange = z.infer<typeof uncoveredChangeSchema>;

/** What the eval covered of the change, and what it could not. */
export const coverageSchema = z.strictObject({
  /** `evals.require_coverage`: an uncovered model change fails the verdict. */
  required: z.boolean(),
  /** `llm.config`, the file routes were read from. */
  llm_config: z.string(),
  /** `evals.cases`, where case files were looked for, and how many matched at the head. */
  case_globs: z.array(z.string()),
  case_files: count,
  uncovered: z.array(uncoveredChangeSchema),
});
export type Coverage = z.infer<typeof coverageSchema>;

/** The gate thresholds a result was judged by, so shard results can be merged and re-judged. */
export const gatesConfigSchema = z.strictObject({
  max_error_rate: finite,
  max_completion_rate_drop: finite,
  max_cost_increase: finite.optional(),
  min_cases: count,
  /** The eval's coarse error ceiling: the error gate passes when the head's rate is shown below it. */
  eval_max_error_rate: finite.optional(),
  /** Sequential (anytime-valid, stops early) or fixed-N judgement. Absent in older files: fixed-N. */
  sequential: z.boolean().optional(),
  /** The check conclusion an inconclusive verdict got, resolved from the policy and the change. */
  on_inconclusive: z.enum(["fail", "neutral"]).optional(),
});
export type GatesConfig = z.infer<typeof gatesConfigSchema>;

const routeKpisSchema = z.strictObject({
  base: z.strictObject({ kpis: kpisSchema }),
  head: z.strictObject({ kpis: kpisSchema }),
});

const estimateSourceSchema = z.enum(["cache", "baseline", "similar", "prompt_size"]);
const costFiguresSchema = z.strictObject({
  tokens: count.nullable(),
  cost_usd: finite.nullable(),
});
const sideEstimateSchema = costFiguresSchema.extend({
  spend_usd: finite.nullable(),
  source: z.enum(["cache", "baseline", "similar", "prompt_size", "mixed", "none"]),
  sources: z.partialRecord(estimateSourceSchema, count),
  approximate: z.boolean(),
  reason: z.string().optional(),
});
const costTotalsSchema = costFiguresSchema.extend({ spend_usd: finite.nullable() });

/** The pre-run estimate (every selected pair; a sequential stop spends less) and what the run actually used. */
export const costEstimateSchema = z.strictObject({
  estimate: z.strictObject({
    base: sideEstimateSchema,
    head: sideEstimateSchema,
    total: costTotalsSchema,
    source: z.string(),
  }),
  /** Absent while the run has not finished (a refused run, a checkpoint). */
  actual: z
    .strictObject({ base: costFiguresSchema, head: costFiguresSchema, total: costTotalsSchema })
    .optional(),
});
export type CostEstimateRecord = z.infer<typeof costEstimateSchema>;

/** One batch of a batch-mode run (docs/batch.md). */
export const batchRecordSchema = z.strictObject({
  id: z.string(),
  /** The round it belongs to: round 1 holds every first request, later rounds tool-loop steps, retries and judge calls. */
  round: z.int().positive(),
  /** Its last status read: `completed`, or why the run is partial (`expired`, `cancelled`, `failed`, …). */
  status: z.string(),
  requests: count,
  completed: count.optional(),
  failed: count.optional(),
});
export type BatchRecord = z.infer<typeof batchRecordSchema>;

export const evalResultSchema = z.strictObject({
  schema_version: z.literal(1),
  verdict: verdictSchema,
  /** True when budget caps, a kill or provider failure stopped the run before all cases finished. */
  partial: z.boolean(),
  partial_reason: z.string().optional(),
  base_ref: z.string().optional(),
  head_ref: z.string().optional(),
  base: sideSummarySchema,
  head: sideSummarySchema,
  routes: z.record(z.string(), routeKpisSchema),
  deltas: deltasSchema,
  /** Smallest completion-rate change this run could detect at 80 % power (absolute, 0..1). */
  min_detectable_effect: finite.nullable(),
  gates: z.array(gateResultSchema),
  warnings: z.array(warningSchema),
  selection: selectionSchema,
  cases: z.array(caseResultSchema),
  /** Human-facing labels for providers that are simulated, so numbers are never mistaken for real ones. */
  simulated: z.boolean().optional(),
  gates_config: gatesConfigSchema.optional(),
  /** How the pairs were judged: the sequence, how far it ran and what stopping early saved. */
  sequential: z
    .strictObject({
      mode: z.enum(["sequential", "fixed"]),
      /** Seed of the pair order (the same seed and case IDs give the same sequence). */
      seed: z.string(),
      /** Pairs selected for the run: the most the sequence could use. */
      planned_pairs: count,
      /** Pairs judged: the contiguous prefix of the sequence that completed on both sides. */
      pairs: count,
      /** True when the verdict was settled before the planned pairs ran. */
      stopped_early: z.boolean(),
      /** Requests not sent because the run stopped early (at least one per side of every pair not started). */
      calls_saved: count,
    })
    .optional(),
  /** What the change touched that no case covers; absent in results of older versions. */
  coverage: coverageSchema.optional(),
  /** The pre-run cost estimate and the actual figures (docs/results.md#cost-estimate). */
  cost_estimate: costEstimateSchema.optional(),
  /**
   * Which providers answered each side (names from the provider map; `default` is
   * OPENAI_BASE_URL or the built-in simulator), and per route where a side's model went.
   * Present when the policy maps models to providers (`evals.providers`).
   */
  providers: z
    .strictObject({
      base: z.array(z.string()),
      head: z.array(z.string()),
      routes: z.record(
        z.string(),
        z.strictObject({ base: z.string().optional(), head: z.string().optional() }),
      ),
    })
    .optional(),
  /** How requests were sent; absent in results of older versions (interactive). */
  mode: z.enum(["interactive", "batch"]).optional(),
  /** Batch mode: the rounds and every batch sent, with its last status. */
  batch: z.strictObject({ rounds: count, batches: z.array(batchRecordSchema) }).optional(),
  /** `i/n` when this result is one shard of a run. */
  shard: z
    .string()
    .regex(/^\d+\/\d+$/, "expected the form i/n")
    .optional(),
});
export type EvalResult = z.infer<typeof evalResultSchema>;

/**
 * The first problem of a value that does not match a schema, as one line naming the key path,
 * e.g. `cases.3.head.tokens: expected number, found string "12"`.
 */
export function schemaProblem(error: z.ZodError, raw: unknown): string {
  const issue = error.issues[0];
  if (!issue) return "does not match the schema";
  const path = issue.path.map(String).join(".");
  const at = path === "" ? "(top level)" : path;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => (path === "" ? key : `${path}.${key}`));
    return `${keys.join(", ")}: unknown key${keys.length > 1 ? "s" : ""}${more}`;
  }
  const message = issue.message.replace(/^Invalid input: /, "").replace(/, received \w+$/, "");
  return `${at}: ${message}, found ${describeValue(valueAt(raw, issue.path), "an object")}${more}`;
}

/**
 * A result file's text, checked against the schema. Errors are one line naming the file and
 * the key path; nothing of a file that fails is used.
 */
export function parseResultText(text: string, file: string): EvalResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new UserError(`${file} is not JSON (${reason})`);
  }
  // Another version is named as such, not as a list of keys that do not match this one.
  const versioned = z.looseObject({ schema_version: z.unknown() }).safeParse(raw);
  if (versioned.success) {
    const version = versioned.data.schema_version;
    if (version !== 1) {
      throw new UserError(`${file}: schema_version ${JSON.stringify(version)} is not supported (expected 1)`);
    }
  }
  const parsed = evalResultSchema.safeParse(raw);
  if (!parsed.success)
    throw new UserError(`${file}: not a valid result file: ${schemaProblem(parsed.error, raw)}`);
  return parsed.data;
}

/**
 * The result file's text. What is written is checked with the same schema readers use, so a
 * file modelgate writes is one modelgate can read back; a mismatch is a bug, not a user error.
 */
export function serializeResult(result: EvalResult): string {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const raw: unknown = JSON.parse(text);
  const checked = evalResultSchema.safeParse(raw);
  if (!checked.success)
    throw new Error(`result does not match its schema: ${schemaProblem(checked.error, raw)}`);
  return text;
}
