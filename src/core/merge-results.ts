import { buildResult, type SequenceSummary } from "./build-result.ts";
import { UserError } from "./errors.ts";
import { mergeProviders } from "./providers.ts";
import {
  type CaseResult,
  type EvalResult,
  parseResultText,
  type Selection,
  type Verdict,
  type Warning,
} from "./result.ts";
import { sequenceOrder } from "./selection.ts";
import { GateMonitor } from "./sequential/monitor.ts";

/** One shard result and where it came from (a file name, for error messages). */
export interface ShardInput {
  label: string;
  result: EvalResult;
}

/**
 * docs/action.md#sharding: the results of `shard: i/n` runs as one result. Cases are concatenated
 * (deduplicated by id: the same shard given twice counts once), then KPIs, deltas and gates are
 * computed again over all cases with the thresholds the shards were judged by: the merged pairs
 * are replayed through one monitor in the order of the shared sequence. Shards must
 * agree on `schema_version` and `gates_config`; a missing shard makes the result partial.
 */
export function mergeResults(shards: readonly ShardInput[]): EvalResult {
  const first = shards[0];
  if (!first) throw new UserError("merge: no result files given");
  const gates = first.result.gates_config;
  if (!gates) throw new UserError(`merge: ${first.label}: no gates_config (written by an older modelgate?)`);
  for (const shard of shards.slice(1)) {
    if (canonical(shard.result.gates_config) !== canonical(gates)) {
      throw new UserError(
        `merge: ${shard.label} was judged with other gates than ${first.label}:\n  ${first.label}: ${canonical(gates)}\n  ${shard.label}: ${canonical(shard.result.gates_config)}\nRun every shard with the same base policy.`,
      );
    }
  }

  const cases = new Map<string, CaseResult>();
  for (const { result } of shards) for (const c of result.cases) if (!cases.has(c.id)) cases.set(c.id, c);

  const warnings = new Map<string, Warning>();
  for (const { result } of shards) {
    for (const warning of result.warnings) {
      if (warning.code === "partial") continue;
      warnings.set(canonical(warning), warning);
    }
  }

  const stops: string[] = [];
  for (const { label, result } of shards) {
    if (result.partial) stops.push(`${result.shard ?? label}: ${result.partial_reason ?? "partial"}`);
  }
  stops.push(...missingShards(shards));

  const forcedVerdict: Verdict | undefined = shards.some((s) =>
    s.result.warnings.some((w) => w.code === "unknown_model" && w.side === "head"),
  )
    ? "fail"
    : undefined;

  const sorted = [...cases.values()].sort((a, b) => compare(a.id, b.id));
  const sequence = replaySequence(shards, sorted, gates);
  const merged = buildResult({
    selection: mergeSelections(shards.map((s) => s.result.selection)),
    warnings: [...warnings.values()],
    // Shards slice a sorted list of ids; sorted is also the one order every merge agrees on.
    cases: sorted,
    gates,
    ...sequence,
    stopped: stops.length ? { reason: stops.join("; ") } : undefined,
    forcedVerdict,
    simulated: shards.some((s) => s.result.simulated === true),
    // Every shard computed the same coverage before slicing the cases.
    coverage: first.result.coverage,
    batch: mergeBatches(shards.map((s) => s.result.batch)),
  });
  const baseRef = agreed(shards.map((s) => s.result.base_ref));
  const headRef = agreed(shards.map((s) => s.result.head_ref));
  const providers = mergeProviders(shards.map((s) => s.result.providers));
  return {
    ...merged,
    ...(providers ? { providers } : {}),
    ...(baseRef ? { base_ref: baseRef } : {}),
    ...(headRef ? { head_ref: headRef } : {}),
  };
}

/**
 * The merged pairs through one monitor, in the order of the sequence the shards share (their
 * seed). Shards never stop early (they cannot see each other), so every pair they ran is
 * judged; older files without a seed replay in ID order.
 */
function replaySequence(
  shards: readonly ShardInput[],
  cases: readonly CaseResult[],
  gates: NonNullable<EvalResult["gates_config"]>,
): { judged: ReturnType<GateMonitor["evaluate"]>; sequence?: SequenceSummary } {
  const summaries = shards.flatMap((s) => (s.result.sequential ? [s.result.sequential] : []));
  const seed = agreed(summaries.map((s) => s.seed));
  const mode = gates.sequential === false ? "fixed" : gates.sequential ? "sequential" : undefined;
  const byId = new Map(cases.map((c) => [c.id, c]));
  const order = seed === undefined ? cases.map((c) => c.id) : sequenceOrder([...byId.keys()], seed);
  const monitor = new GateMonitor(gates, { mode: mode ?? "fixed" });
  for (const id of order) {
    const c = byId.get(id);
    if (c?.base && c.head) monitor.push({ id: c.id, route: c.route, base: c.base, head: c.head });
  }
  const judged = monitor.evaluate();
  if (seed === undefined || mode === undefined) return { judged };
  return {
    judged,
    sequence: {
      mode,
      seed,
      planned_pairs: summaries.reduce((n, s) => n + s.planned_pairs, 0),
      pairs: monitor.pairs,
      stopped_early: false,
      calls_saved: 0,
    },
  };
}

/** Shards of an `i/n` run that are not among the inputs. */
function missingShards(shards: readonly ShardInput[]): string[] {
  const counts = new Set<number>();
  const seen = new Set<number>();
  for (const { label, result } of shards) {
    if (!result.shard) continue;
    const match = /^(\d+)\/(\d+)$/.exec(result.shard);
    if (!match) throw new UserError(`merge: ${label}: shard '${result.shard}' is not of the form i/n`);
    seen.add(Number(match[1]));
    counts.add(Number(match[2]));
  }
  if (counts.size > 1) {
    throw new UserError(
      `merge: the results come from runs with different shard counts (${[...counts].join(", ")})`,
    );
  }
  const [count] = counts;
  if (count === undefined) return [];
  const missing: string[] = [];
  for (let i = 1; i <= count; i++) if (!seen.has(i)) missing.push(`shard ${i}/${count} missing`);
  return missing;
}

function mergeSelections(selections: readonly Selection[]): Selection {
  const ids = new Set<string>();
  const reasons = new Map<string, Selection["reasons"][number]>();
  for (const selection of selections) {
    for (const id of selection.case_ids) ids.add(id);
    for (const reason of selection.reasons) reasons.set(`${reason.route}\u0000${reason.reason}`, reason);
  }
  const seed = selections.find((s) => s.sample_seed !== undefined)?.sample_seed;
  return {
    case_ids: [...ids].sort(compare),
    reasons: [...reasons.values()],
    // Every shard saw the whole selection before taking its slice.
    selected: Math.max(0, ...selections.map((s) => s.selected)),
    ...(seed !== undefined ? { sample_seed: seed } : {}),
    all: selections.some((s) => s.all),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A result file's text as a shard input; errors name the file and the key path that is wrong. */
export function parseResultFile(text: string, label: string): ShardInput {
  try {
    return { label, result: parseResultText(text, label) };
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`merge: ${error.message}`);
    throw error;
  }
}

/** Every shard's batches, in one record; rounds are each shard's own, so the most any shard took. */
function mergeBatches(batches: ReadonlyArray<EvalResult["batch"]>): EvalResult["batch"] {
  const sent = batches.filter((b): b is NonNullable<EvalResult["batch"]> => b !== undefined);
  if (sent.length === 0) return undefined;
  return { rounds: Math.max(...sent.map((b) => b.rounds)), batches: sent.flatMap((b) => b.batches) };
}

function agreed(values: ReadonlyArray<string | undefined>): string | undefined {
  const distinct = new Set(values.filter((v): v is string => v !== undefined));
  return distinct.size === 1 ? [...distinct][0] : undefined;
}

/** JSON with sorted keys, so two equal objects compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
