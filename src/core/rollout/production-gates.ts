import type { Config } from "../config/schema.ts";
import type { GateResult, GateStatus } from "../result.ts";
import { alwaysValidP, confidenceBound, type Side } from "./msprt.ts";

/**
 * Gates on the live traffic of a rollout phase (docs/rollout.md, "Production gates"). Two
 * independent arms: the candidate's error rate (errors / requests) against `max_error_rate`,
 * and the completion drop, control − candidate completion rate, where a completion rate is
 * completed tasks / tasks (never / requests: a model that needs more requests per task is not
 * completing fewer tasks), against `max_completion_rate_drop`.
 *
 * The App judges a phase every time a label asks, and teams check every hour, on counts that
 * keep growing. A fixed-sample interval looked at 24 times fails far more often than its 2.5 %,
 * so each gate is judged by always-valid p-values (the one-sided normal-mixture SPRT, msprt.ts),
 * one per direction:
 * - breach (H₀: within the limit): a small p fails the gate and opens the rollback;
 * - within (H₀: at or past the limit): a small p passes it and lets the phase be promoted.
 *
 * Error per side is 2.5 % family-wise over the gates: a rollback follows when *any* gate fails,
 * so each breach test gets 2.5 % / 2 (Bonferroni); a promotion needs *every* gate to pass (an
 * intersection–union test), so each within test may use the full 2.5 %.
 */

export interface ArmCounts {
  /** Model requests; the error rate's denominator. */
  requests: number;
  /** Requests that got no model answer. */
  errors: number;
  /** User tasks started; the completion rate's denominator. */
  tasks: number;
  /** Tasks completed. */
  completed: number;
}

export interface ProductionArms {
  control: ArmCounts;
  candidate: ArmCounts;
}

export type ProductionGatesConfig = Pick<
  Config["gates"],
  "max_error_rate" | "max_completion_rate_drop" | "min_requests"
>;

/**
 * A gate with its always-valid p-values (null when the counts give no estimate). `ci95` holds
 * the confidence sequence at this look: the lower bound at the breach test's α, the upper bound
 * at the within test's, so the gate fails exactly when the lower bound is past the limit and
 * passes exactly when the upper bound is inside it.
 */
export interface ProductionGate extends GateResult {
  p_breach: number | null;
  p_within: number | null;
}

const GATE_COUNT = 2;
/** Family-wise error per side. */
export const PRODUCTION_ALPHA = 0.025;
/** Per-gate α of the breach (rollback) test: any gate failing rolls back, so the 2.5 % is split. */
export const ALPHA_BREACH = PRODUCTION_ALPHA / GATE_COUNT;
/** Per-gate α of the within (promotion) test: promotion needs every gate, so each gets all of it. */
export const ALPHA_WITHIN = PRODUCTION_ALPHA;

/**
 * Mixing scales τ (in the gate's own units). The test is most powerful for true values about τ
 * away from the limit, so τ follows the limit:
 * - errors: τ = max_error_rate / 2 (floor 0.25 %): with a 2 % limit it is tuned for rates of
 *   0–4 %; 1,000 candidate requests at 0.5 % errors prove the rate below 2 % (p ≈ 0.01);
 * - completion: τ = max_completion_rate_drop (floor 1 point): the distance from the limit to
 *   "no change at all", the case a healthy rollout is in.
 */
export function mixingScales(config: ProductionGatesConfig): { errors: number; completion: number } {
  return {
    errors: Math.max(config.max_error_rate / 2, 0.0025),
    completion: Math.max(config.max_completion_rate_drop, 0.01),
  };
}

export function evaluateProductionGates(
  arms: ProductionArms,
  config: ProductionGatesConfig,
): ProductionGate[] {
  const tau = mixingScales(config);
  const gates = [
    errorGate(arms.candidate, config.max_error_rate, tau.errors),
    completionGate(arms, config.max_completion_rate_drop, tau.completion),
  ];
  const shortArm = arms.control.requests < arms.candidate.requests ? "control" : "candidate";
  const fewest = arms[shortArm].requests;
  if (fewest < config.min_requests) {
    // Too little traffic holds: the numbers stay visible, nothing is decided.
    const reason = `hold: only ${plural(fewest, "request")} on the ${shortArm} arm; at least ${config.min_requests} per arm needed`;
    return gates.map((gate) => ({ ...gate, status: "inconclusive", reason }));
  }
  return gates;
}

/** The candidate's error rate against the limit; the variance is the null's, θ₀(1 − θ₀)/n. */
function errorGate(candidate: ArmCounts, limit: number, tau: number): ProductionGate {
  const n = candidate.requests;
  if (n === 0) return undecided("max_error_rate", limit, "hold: no requests on the candidate arm");
  const estimate = candidate.errors / n;
  // A rate's variance vanishes at 0 and 1; half a request keeps the information finite there.
  const edge = 1 / (2 * n);
  const information = (theta0: number) => {
    const p = Math.min(Math.max(theta0, edge), 1 - edge);
    return n / (p * (1 - p));
  };
  return judged("max_error_rate", estimate, limit, [0, 1], information, tau);
}

/**
 * Control − candidate completion rate (tasks), two independent binomials. The variance is the
 * plug-in one with one success and one failure added per arm, so an arm at 0 % or 100 % does
 * not claim certainty.
 */
function completionGate(arms: ProductionArms, limit: number, tau: number): ProductionGate {
  const { control, candidate } = arms;
  const empty = control.tasks === 0 ? "control" : candidate.tasks === 0 ? "candidate" : undefined;
  if (empty) {
    return undecided("max_completion_rate_drop", limit, `hold: no tasks on the ${empty} arm`);
  }
  const estimate = control.completed / control.tasks - candidate.completed / candidate.tasks;
  const variance = (arm: ArmCounts) => {
    const p = (arm.completed + 1) / (arm.tasks + 2);
    return (p * (1 - p)) / arm.tasks;
  };
  const information = 1 / (variance(control) + variance(candidate));
  return judged("max_completion_rate_drop", estimate, limit, [-1, 1], () => information, tau);
}

function judged(
  name: ProductionGate["name"],
  estimate: number,
  limit: number,
  range: readonly [number, number],
  information: (theta0: number) => number,
  tau: number,
): ProductionGate {
  const test = (side: Side) =>
    alwaysValidP({ estimate, theta0: limit, information: information(limit), tau, side });
  const pBreach = test("above");
  const pWithin = test("below");
  const ci95: [number, number] = [
    confidenceBound(estimate, "above", ALPHA_BREACH, range, information, tau),
    confidenceBound(estimate, "below", ALPHA_WITHIN, range, information, tau),
  ];
  const status: GateStatus =
    pBreach <= ALPHA_BREACH ? "fail" : pWithin <= ALPHA_WITHIN ? "pass" : "inconclusive";
  const gate: ProductionGate = {
    name,
    status,
    value: estimate,
    threshold: limit,
    ci95,
    p_breach: pBreach,
    p_within: pWithin,
  };
  if (status === "inconclusive") {
    gate.reason = `the always-valid interval includes the limit (p breach ${formatP(pBreach)}, p within ${formatP(pWithin)}); more traffic needed to decide`;
  }
  return gate;
}

function undecided(name: ProductionGate["name"], limit: number, reason: string): ProductionGate {
  return {
    name,
    status: "inconclusive",
    value: null,
    threshold: limit,
    ci95: null,
    p_breach: null,
    p_within: null,
    reason,
  };
}

/** A p-value in words: two significant digits, "< 0.0001" below that. */
export function formatP(p: number): string {
  if (p < 0.0001) return "< 0.0001";
  return p >= 0.1 ? p.toFixed(2) : p.toPrecision(2);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
