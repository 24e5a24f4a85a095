import {
  clopperPearsonLower,
  clopperPearsonUpper,
  studentizedBootstrapRatio,
  studentizedRatioBlocker,
  tangoPairedInterval,
} from "./fixed-n.ts";
import { negateZero, pct, points } from "./gate-wording.ts";
import { combineVerdict, type GateEvaluation, outcomePairs, type PairedCase } from "./pairs.ts";
import type { GateResult, GateStatus, GatesConfig } from "./result.ts";
import { FAMILY_ALPHA, GATE_MIN_PAIRS } from "./sequential/pair-gates.ts";
import { pairedTable, type RatioPair } from "./stats.ts";

/**
 * Fixed-N mode (`evals.sequential: false`): every selected pair runs, and the gates are judged
 * once, at the end, with calibrated fixed-N intervals (`fixed-n.ts`): exact Clopper–Pearson for
 * the error rate, Tango's score interval for the paired completion difference, a studentized
 * bootstrap over case IDs for the cost ratio. The same error split as the sequential tests: fail
 * sides at α/k (any gate failing fails the verdict), pass sides at α (every gate must pass).
 * Judging a fixed-N run more than once (re-running "until decided") voids these levels; the
 * sequential mode is the one that allows it.
 */
export function judgeFixed(pairs: readonly PairedCase[], config: GatesConfig): GateEvaluation {
  const gateCount = config.max_cost_increase === undefined ? 2 : 3;
  const levels = { fail: FAMILY_ALPHA / gateCount, pass: FAMILY_ALPHA };
  const gates = [errorRateGate(pairs, config, levels), completionDropGate(pairs, config, levels)];
  if (config.max_cost_increase !== undefined) gates.push(costGate(pairs, config.max_cost_increase, levels));
  return { gates, verdict: combineVerdict(gates.map((g) => g.status)) };
}

interface Levels {
  /** One-sided level of the fail side (the breach shown). */
  fail: number;
  /** One-sided level of the pass side (inside the limit shown). */
  pass: number;
}

function minPairs(config: GatesConfig, gate: keyof typeof GATE_MIN_PAIRS): number {
  return Math.max(config.min_cases, GATE_MIN_PAIRS[gate]);
}

function tooFew(gate: GateResult, n: number, needed: number): GateResult {
  return {
    ...gate,
    status: "inconclusive",
    reason: `only ${n} judged pairs; this gate decides from ${needed}`,
  };
}

function errorRateGate(pairs: readonly PairedCase[], config: GatesConfig, levels: Levels): GateResult {
  const n = pairs.length;
  const errors = pairs.filter((p) => p.head.outcome === "error").length;
  const ceiling = Math.max(config.eval_max_error_rate ?? config.max_error_rate, config.max_error_rate);
  const lower = clopperPearsonLower(errors, n, levels.fail);
  const upper = clopperPearsonUpper(errors, n, levels.pass);
  let status: GateStatus = "inconclusive";
  if (lower !== null && lower > config.max_error_rate) status = "fail";
  else if (upper !== null && upper < ceiling) status = "pass";
  const needed = minPairs(config, "max_error_rate");
  const gate: GateResult = {
    name: "max_error_rate",
    status,
    value: n === 0 ? null : errors / n,
    threshold: config.max_error_rate,
    ci95: lower !== null && upper !== null ? [lower, upper] : null,
    min_pairs: needed,
  };
  if (n < needed) return tooFew(gate, n, needed);
  if (status !== "inconclusive") return gate;
  return {
    ...gate,
    reason: `head error rate over ${n} pairs: not shown above the ${pct(config.max_error_rate)} limit, nor below the eval's ${pct(ceiling)} ceiling`,
  };
}

function completionDropGate(pairs: readonly PairedCase[], config: GatesConfig, levels: Levels): GateResult {
  const limit = config.max_completion_rate_drop;
  const table = pairedTable(outcomePairs(pairs, "pass"));
  // A two-sided interval at 2α has α in each tail: the one-sided level each side needs.
  const forFail = tangoPairedInterval(table, 2 * levels.fail);
  const forPass = tangoPairedInterval(table, 2 * levels.pass);
  // The drop is base − head: the head − base interval, negated and flipped.
  const value = forPass.delta === null ? null : negateZero(-forPass.delta);
  const dropLower = forFail.ci95 ? negateZero(-forFail.ci95[1]) : null;
  const dropUpper = forPass.ci95 ? negateZero(-forPass.ci95[0]) : null;
  const headCompleted = table.both + table.headOnly;
  let status: GateStatus = "inconclusive";
  if (dropLower !== null && dropLower > limit) status = "fail";
  else if (dropUpper !== null && dropUpper < limit && headCompleted > 0) status = "pass";
  const needed = minPairs(config, "max_completion_rate_drop");
  const gate: GateResult = {
    name: "max_completion_rate_drop",
    status,
    value,
    threshold: limit,
    ci95: dropLower !== null && dropUpper !== null ? [dropLower, dropUpper] : null,
    min_pairs: needed,
  };
  if (pairs.length < needed) return tooFew(gate, pairs.length, needed);
  if (status !== "inconclusive") return gate;
  const reason =
    headCompleted === 0
      ? `the head completed none of the ${pairs.length} pairs: a completion gate cannot pass on a suite the head never completes`
      : `completion drop over ${pairs.length} pairs: not shown beyond the ${points(limit)} limit, nor within it`;
  return { ...gate, reason };
}

function costGate(pairs: readonly PairedCase[], limit: number, levels: Levels): GateResult {
  const ratioPairs: RatioPair[] = [];
  let unknown = false;
  for (const p of pairs) {
    if (p.base.cost === null || p.head.cost === null) unknown = true;
    ratioPairs.push({
      base: { numerator: p.base.cost ?? 0, denominator: p.base.outcome === "pass" ? 1 : 0 },
      head: { numerator: p.head.cost ?? 0, denominator: p.head.outcome === "pass" ? 1 : 0 },
    });
  }
  const needed = GATE_MIN_PAIRS.max_cost_increase;
  const interval = (alpha: number) =>
    studentizedBootstrapRatio(ratioPairs, {
      contrast: "relative",
      alpha,
      seed: "modelgate:max_cost_increase",
    });
  const forFail = unknown ? null : interval(2 * levels.fail);
  const forPass = unknown ? null : interval(2 * levels.pass);
  const lower = forFail?.ci95?.[0];
  const upper = forPass?.ci95?.[1];
  const change = {
    delta: forPass?.delta ?? null,
    ci95: lower !== undefined && upper !== undefined ? ([lower, upper] as [number, number]) : null,
  };
  let status: GateStatus = "inconclusive";
  if (change.ci95 && change.ci95[0] > limit) status = "fail";
  else if (change.ci95 && change.ci95[1] < limit) status = "pass";
  const gate: GateResult = {
    name: "max_cost_increase",
    status,
    value: change.delta,
    threshold: limit,
    ci95: change.ci95,
    min_pairs: needed,
  };
  const fewest = Math.min(
    ratioPairs.filter((p) => p.base.denominator).length,
    ratioPairs.filter((p) => p.head.denominator).length,
  );
  if (unknown) {
    return {
      ...gate,
      status: "inconclusive",
      reason: "cost per completed task is unknown: an answer had no usage or its model no price",
    };
  }
  if (pairs.length < needed || fewest < needed) {
    return {
      ...gate,
      status: "inconclusive",
      reason: `this gate decides from ${needed} pairs with ${needed} completed cases on each side (now ${pairs.length} pairs, ${fewest} completed on the less-completed side)`,
    };
  }
  if (status !== "inconclusive") return gate;
  const blocker = studentizedRatioBlocker(ratioPairs, "relative");
  if (blocker) return { ...gate, reason: `cost per completed task: ${blocker}` };
  return {
    ...gate,
    reason: `cost per completed task: not shown beyond the +${pct(limit)} limit, nor within it`,
  };
}
