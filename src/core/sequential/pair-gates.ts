import { negateZero, pct, points, signedPct } from "../gate-wording.ts";
import type { PairedCase } from "../gates.ts";
import type { GateName, GateResult, GateStatus } from "../result.ts";
import { BettingConfidenceSequence, BettingTest, RunningMoments } from "./betting.ts";
import { RatioSequence } from "./ratio-sequence.ts";

/**
 * The eval gates as anytime-valid sequential tests, one pair at a time (docs/gates.md).
 *
 * Each gate runs two one-sided tests: a *fail* test ("the limit is breached") and a *pass* test
 * ("the value is inside the limit"). The verdict fails when ANY gate fails, so the fail tests
 * share the family's error (α/k each, Bonferroni); it passes only when EVERY gate passes, an
 * intersection–union test, so each pass test may use the whole α. Both sides of the family are
 * then at most α = 2.5 %, at every look.
 */
export const FAMILY_ALPHA = 0.025;

/** The least evidence each gate decides on, whatever its tests say (docs/gates.md). */
export const GATE_MIN_PAIRS: Readonly<Record<GateName, number>> = {
  max_error_rate: 20,
  max_completion_rate_drop: 20,
  // The cost sequence is asymptotic: it waits for this many completed cases on each side too.
  max_cost_increase: 30,
};

export interface SequentialGateOptions {
  /** Fewer pairs than this decide nothing (the policy's `min_cases`). */
  minPairs: number;
  alphaFail: number;
  alphaPass: number;
  /** Keep the grid confidence sequence for the reported interval (off in Monte Carlo runs). */
  intervals: boolean;
}

export interface SequentialGate {
  readonly name: GateName;
  /** Pairs this gate needs before it may decide. */
  readonly minPairs: number;
  push(pair: PairedCase): void;
  /** pass / fail once decided (sticky), undefined while open. */
  readonly decision: "pass" | "fail" | undefined;
  readonly decidedAt: number | undefined;
  result(): GateResult;
  /** About how many more pairs would likely decide; null when unlikely at the current estimate. */
  pairsToDecide(): number | null;
}

/** The first of the two tests shown at or after the gate's minimum, as pass or fail. */
class Decision {
  status: "pass" | "fail" | undefined;
  at: number | undefined;

  settle(n: number, minPairs: number, failShown: boolean, passShown: boolean): void {
    if (this.status || n < minPairs) return;
    // Both at once (possible only by a fluke): the breach wins, fail closed.
    if (failShown) this.status = "fail";
    else if (passShown) this.status = "pass";
    if (this.status) this.at = n;
  }
}

function statusOf(decision: Decision): GateStatus {
  return decision.status ?? "inconclusive";
}

function remaining(n: number, minPairs: number, ...estimates: Array<number | null>): number | null {
  const known = estimates.filter((e): e is number => e !== null);
  if (known.length === 0) return null;
  return Math.max(Math.min(...known), minPairs - n, 1);
}

/**
 * What the two betting gates share: observations in [0, 1], a fail test and a pass test against
 * their boundaries, the optional grid sequence for the reported interval, and the decision.
 */
class BettingGate {
  readonly moments = new RunningMoments();
  readonly #fail: BettingTest;
  readonly #pass: BettingTest;
  readonly #sequence: BettingConfidenceSequence | undefined;
  readonly #decision = new Decision();
  readonly #minPairs: number;

  constructor(
    fail: BettingTest,
    pass: BettingTest,
    sequence: BettingConfidenceSequence | undefined,
    minPairs: number,
  ) {
    this.#fail = fail;
    this.#pass = pass;
    this.#sequence = sequence;
    this.#minPairs = minPairs;
  }

  /** One observation; `passAllowed` false keeps the gate from passing whatever its test shows. */
  observe(y: number, passAllowed = true): void {
    this.#fail.observe(y, this.moments);
    this.#pass.observe(y, this.moments);
    this.#sequence?.observe(y, this.moments);
    this.moments.add(y);
    this.#decision.settle(this.moments.n, this.#minPairs, this.#fail.shown, this.#pass.shown && passAllowed);
  }

  get decision() {
    return this.#decision.status;
  }
  get decidedAt() {
    return this.#decision.at;
  }

  failLikelyIn(): number | null {
    return this.#fail.observationsToShow(this.moments);
  }

  pairsToDecide(): number | null {
    if (this.decision) return 0;
    return remaining(
      this.moments.n,
      this.#minPairs,
      this.#fail.observationsToShow(this.moments),
      this.#pass.observationsToShow(this.moments),
    );
  }

  /** The interval on the observation scale, null before any observation or without intervals. */
  interval(): [number, number] | null {
    return this.#sequence && this.moments.n > 0 ? this.#sequence.interval() : null;
  }

  result(name: GateName, value: number | null, threshold: number, ci95: [number, number] | null): GateResult {
    return {
      name,
      status: statusOf(this.#decision),
      value,
      threshold,
      ci95,
      min_pairs: this.#minPairs,
      ...(this.#decision.at !== undefined ? { decided_at: this.#decision.at } : {}),
    };
  }
}

/**
 * Head error rate. Fails when shown above `max_error_rate` (a breach beyond noise); passes when
 * shown below the coarse eval ceiling `eval_max_error_rate`. The fine 2 % is proven in production.
 */
export class ErrorRateGate implements SequentialGate {
  readonly name = "max_error_rate" as const;
  readonly minPairs: number;
  readonly limit: number;
  readonly ceiling: number;
  readonly #gate: BettingGate;
  #errors = 0;

  constructor(limit: number, ceiling: number, options: SequentialGateOptions) {
    this.limit = limit;
    this.ceiling = ceiling;
    this.minPairs = Math.max(options.minPairs, GATE_MIN_PAIRS.max_error_rate);
    this.#gate = new BettingGate(
      new BettingTest(limit, "above", options.alphaFail),
      new BettingTest(ceiling, "below", options.alphaPass),
      options.intervals
        ? new BettingConfidenceSequence(options.alphaFail, options.alphaPass, [limit, ceiling], 0.001)
        : undefined,
      this.minPairs,
    );
  }

  push(pair: PairedCase): void {
    const y = pair.head.outcome === "error" ? 1 : 0;
    this.#errors += y;
    this.#gate.observe(y);
  }

  get decision() {
    return this.#gate.decision;
  }
  get decidedAt() {
    return this.#gate.decidedAt;
  }

  pairsToDecide(): number | null {
    return this.#gate.pairsToDecide();
  }

  result(): GateResult {
    const n = this.#gate.moments.n;
    return this.#gate.result(this.name, n === 0 ? null : this.#errors / n, this.limit, this.#gate.interval());
  }

  /** Plain words for an open gate. */
  openReason(): string {
    const n = this.#gate.moments.n;
    if (n === 0) return "no judged pairs, so no head error rate";
    if (n < this.minPairs) return `only ${n} judged pairs; this gate decides from ${this.minPairs}`;
    return `head error rate ${pct(this.#errors / n)} over ${n} pairs: not yet shown above the ${pct(this.limit)} limit, nor below the eval's ${pct(this.ceiling)} ceiling`;
  }
}

/**
 * Paired completion non-inferiority: head − base ≥ −max_completion_rate_drop. Observations are
 * per-pair differences in {−1, 0, 1}, mapped to [0, 1] for the betting tests.
 */
export class CompletionDropGate implements SequentialGate {
  readonly name = "max_completion_rate_drop" as const;
  readonly minPairs: number;
  readonly limit: number;
  readonly #gate: BettingGate;
  #baseCompleted = 0;
  #headCompleted = 0;

  constructor(limit: number, options: SequentialGateOptions) {
    this.limit = limit;
    this.minPairs = Math.max(options.minPairs, GATE_MIN_PAIRS.max_completion_rate_drop);
    // head − base ≥ −limit  ⇔  (head − base + 1)/2 ≥ (1 − limit)/2
    const boundary = (1 - limit) / 2;
    this.#gate = new BettingGate(
      new BettingTest(boundary, "below", options.alphaFail),
      new BettingTest(boundary, "above", options.alphaPass),
      options.intervals
        ? new BettingConfidenceSequence(options.alphaPass, options.alphaFail, [boundary])
        : undefined,
      this.minPairs,
    );
  }

  push(pair: PairedCase): void {
    const base = pair.base.outcome === "pass" ? 1 : 0;
    const head = pair.head.outcome === "pass" ? 1 : 0;
    this.#baseCompleted += base;
    this.#headCompleted += head;
    // A head that completed nothing cannot pass, even against a base that completed nothing:
    // "as good as a suite nobody completes" says nothing about the migration.
    this.#gate.observe((head - base + 1) / 2, this.#headCompleted > 0);
  }

  get decision() {
    return this.#gate.decision;
  }
  get decidedAt() {
    return this.#gate.decidedAt;
  }

  pairsToDecide(): number | null {
    if (this.#gate.moments.n > 0 && this.#headCompleted === 0 && this.#gate.failLikelyIn() === null)
      return null;
    return this.#gate.pairsToDecide();
  }

  result(): GateResult {
    const n = this.#gate.moments.n;
    // drop = base − head = 1 − 2y
    const interval = this.#gate.interval();
    return this.#gate.result(
      this.name,
      n === 0 ? null : negateZero((this.#baseCompleted - this.#headCompleted) / n),
      this.limit,
      interval ? [negateZero(1 - 2 * interval[1]), negateZero(1 - 2 * interval[0])] : null,
    );
  }

  openReason(): string {
    const n = this.#gate.moments.n;
    if (n === 0) return "no judged pairs, so no completion-rate change";
    if (n < this.minPairs) return `only ${n} judged pairs; this gate decides from ${this.minPairs}`;
    if (this.#headCompleted === 0) {
      return `the head completed none of the ${n} pairs: a completion gate cannot pass on a suite the head never completes`;
    }
    const drop = (this.#baseCompleted - this.#headCompleted) / n;
    return `completion drop ${points(drop)} over ${n} pairs: not yet shown beyond the ${points(this.limit)} limit, nor within it`;
  }
}

/** Cost per completed task, head / base − 1 ≤ max_cost_increase (asymptotic sequence, log scale). */
export class CostIncreaseGate implements SequentialGate {
  readonly name = "max_cost_increase" as const;
  readonly minPairs: number;
  readonly #sequence: RatioSequence;
  readonly #decision = new Decision();
  readonly #logLimit: number;
  /** Pairs judged, including those with unknown cost. */
  #pairs = 0;
  #unknown = false;

  readonly limit: number;

  constructor(limit: number, options: SequentialGateOptions) {
    this.limit = limit;
    this.minPairs = Math.max(options.minPairs, GATE_MIN_PAIRS.max_cost_increase);
    this.#sequence = new RatioSequence(
      options.alphaFail,
      options.alphaPass,
      GATE_MIN_PAIRS.max_cost_increase,
    );
    this.#logLimit = Math.log1p(limit);
  }

  push(pair: PairedCase): void {
    this.#pairs++;
    if (pair.base.cost === null || pair.head.cost === null) this.#unknown = true;
    if (this.#unknown) return;
    this.#sequence.observe({
      headCost: pair.head.cost ?? 0,
      headCompleted: pair.head.outcome === "pass" ? 1 : 0,
      baseCost: pair.base.cost ?? 0,
      baseCompleted: pair.base.outcome === "pass" ? 1 : 0,
    });
    const interval = this.#sequence.logInterval();
    const enough = this.#sequence.fewestCompleted >= GATE_MIN_PAIRS.max_cost_increase;
    if (!interval || !enough) return;
    this.#decision.settle(
      this.#pairs,
      this.minPairs,
      interval[0] > this.#logLimit,
      interval[1] < this.#logLimit,
    );
  }

  get decision() {
    return this.#decision.status;
  }
  get decidedAt() {
    return this.#decision.at;
  }

  pairsToDecide(): number | null {
    if (this.decision) return 0;
    if (this.#unknown) return null;
    return remaining(this.#pairs, this.minPairs, this.#sequence.pairsToSeparate(this.#logLimit));
  }

  result(): GateResult {
    const log = this.#unknown ? null : this.#sequence.logRatio();
    const interval = this.#unknown ? null : this.#sequence.logInterval();
    return {
      name: this.name,
      status: statusOf(this.#decision),
      value: log === null ? null : Math.expm1(log),
      threshold: this.limit,
      ci95: interval ? [Math.expm1(interval[0]), Math.expm1(interval[1])] : null,
      min_pairs: this.minPairs,
      ...(this.#decision.at !== undefined ? { decided_at: this.#decision.at } : {}),
    };
  }

  openReason(): string {
    if (this.#unknown) {
      return "cost per completed task is unknown: an answer had no usage or its model no price";
    }
    if (this.#sequence.logRatio() === null)
      return "cost per completed task is undefined: a side completed nothing";
    const fewest = this.#sequence.fewestCompleted;
    if (this.#pairs < this.minPairs || fewest < GATE_MIN_PAIRS.max_cost_increase) {
      return `this gate decides from ${this.minPairs} pairs with ${GATE_MIN_PAIRS.max_cost_increase} completed cases on each side (now ${this.#pairs} pairs, ${fewest} completed on the less-completed side)`;
    }
    return `cost per completed task ${signedPct(Math.expm1(this.#sequence.logRatio() ?? 0))}: not yet shown beyond the +${pct(this.limit)} limit, nor within it`;
  }
}
