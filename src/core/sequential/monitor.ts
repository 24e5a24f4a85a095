import { judgeFixed } from "../fixed-gates.ts";
import { combineVerdict, type GateEvaluation, type PairedCase } from "../gates.ts";
import type { GateResult, GatesConfig } from "../result.ts";
import {
  CompletionDropGate,
  CostIncreaseGate,
  ErrorRateGate,
  FAMILY_ALPHA,
  type SequentialGateOptions,
} from "./pair-gates.ts";

/**
 * Judges the eval gates pair by pair, in the order of the sequence (docs/gates.md). Pushing a
 * pair costs O(1) per gate (plus the interval grid), so a checkpoint never re-judges the past.
 */
export interface MonitorOptions {
  /** `sequential` judges after every pair and may settle early; `fixed` judges once, at the end. */
  mode: "sequential" | "fixed";
  /** Keep the reported intervals (default true; Monte Carlo runs switch them off for speed). */
  intervals?: boolean;
}

type Gate = ErrorRateGate | CompletionDropGate | CostIncreaseGate;

export class GateMonitor {
  readonly #config: GatesConfig;
  readonly #mode: MonitorOptions["mode"];
  readonly #gates: Gate[];
  /** Fixed mode judges all pairs at once, so it keeps them. */
  readonly #pairs: PairedCase[] = [];
  #count = 0;

  constructor(config: GatesConfig, options: MonitorOptions) {
    this.#config = config;
    this.#mode = options.mode;
    const gateCount = config.max_cost_increase === undefined ? 2 : 3;
    const gateOptions: SequentialGateOptions = {
      minPairs: config.min_cases,
      alphaFail: FAMILY_ALPHA / gateCount,
      alphaPass: FAMILY_ALPHA,
      intervals: options.intervals ?? true,
    };
    this.#gates = [
      new ErrorRateGate(
        config.max_error_rate,
        Math.max(config.eval_max_error_rate ?? config.max_error_rate, config.max_error_rate),
        gateOptions,
      ),
      new CompletionDropGate(config.max_completion_rate_drop, gateOptions),
    ];
    if (config.max_cost_increase !== undefined) {
      this.#gates.push(new CostIncreaseGate(config.max_cost_increase, gateOptions));
    }
  }

  /** Feed the next pair of the sequence (pairs must arrive in sequence order). */
  push(pair: PairedCase): void {
    this.#count++;
    if (this.#mode === "fixed") {
      this.#pairs.push(pair);
      return;
    }
    if (this.settled) return;
    for (const gate of this.#gates) gate.push(pair);
  }

  /** Pairs judged so far. */
  get pairs(): number {
    return this.#count;
  }

  /** True once the verdict can no longer change (a gate failed, or every gate passed). Never in fixed mode. */
  get settled(): boolean {
    if (this.#mode === "fixed") return false;
    const decisions = this.#gates.map((gate) => gate.decision);
    return decisions.includes("fail") || decisions.every((d) => d === "pass");
  }

  /** The gates and verdict as of the pairs pushed. */
  evaluate(): GateEvaluation {
    if (this.#mode === "fixed") return judgeFixed(this.#pairs, this.#config);
    const failedBy = this.#gates.find((gate) => gate.decision === "fail");
    const gates: GateResult[] = this.#gates.map((gate) => {
      const result = gate.result();
      if (result.status !== "inconclusive") return result;
      if (failedBy) {
        return {
          ...result,
          reason: `not needed: the verdict was settled by ${failedBy.name}`,
          pairs_to_decide: null,
        };
      }
      return { ...result, reason: gate.openReason(), pairs_to_decide: gate.pairsToDecide() };
    });
    return { gates, verdict: combineVerdict(gates.map((gate) => gate.status)) };
  }
}
