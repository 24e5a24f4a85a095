import { evaluateGates, type GateEvaluation, type PairedCase } from "../gates.ts";
import type { GatesConfig } from "../result.ts";

/**
 * Judges the eval gates pair by pair, in the order of the sequence (docs/gates.md).
 *
 * INTERFACE FIRST: the anytime-valid implementation replaces this body; callers rely only on
 * `push`, `settled`, `pairs` and `evaluate`.
 */
export interface MonitorOptions {
  /** `sequential` judges after every pair and may settle early; `fixed` judges once, at the end. */
  mode: "sequential" | "fixed";
}

export class GateMonitor {
  readonly #config: GatesConfig;
  readonly #mode: MonitorOptions["mode"];
  readonly #pairs: PairedCase[] = [];
  #settled = false;

  constructor(config: GatesConfig, options: MonitorOptions) {
    this.#config = config;
    this.#mode = options.mode;
  }

  /** Feed the next pair of the sequence (pairs must arrive in sequence order). */
  push(pair: PairedCase): void {
    this.#pairs.push(pair);
    if (this.#mode === "sequential" && !this.#settled) {
      this.#settled = evaluateGates(this.#pairs, { ...this.#config }).verdict !== "inconclusive";
    }
  }

  /** Pairs judged so far. */
  get pairs(): number {
    return this.#pairs.length;
  }

  /** True once the verdict can no longer change (a gate failed, or every gate passed). Never in fixed mode. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The gates and verdict as of the pairs pushed. */
  evaluate(): GateEvaluation {
    return evaluateGates(this.#pairs, { ...this.#config });
  }
}
