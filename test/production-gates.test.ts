import { describe, expect, it } from "vitest";
import { decide } from "../src/core/rollout/decide.ts";
import { alwaysValidP, mixtureLogRatio, normalLogCdf } from "../src/core/rollout/msprt.ts";
import {
  ALPHA_BREACH,
  ALPHA_WITHIN,
  type ArmCounts,
  evaluateProductionGates,
  type ProductionArms,
} from "../src/core/rollout/production-gates.ts";
import {
  judgePhase,
  judgeProduction,
  notRequired,
  type ProductionReading,
  type Step,
} from "../src/core/rollout/steps.ts";
import { seededRandom } from "../src/core/stats.ts";
import { readMetricsFile } from "../src/metrics/file.ts";

const config = { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 };

const counts = (arms: ProductionArms): ProductionReading => ({ kind: "counts", source: "test", arms });

describe("completion counts tasks, never requests", () => {
  it("two arms completing 90 % of tasks at 1.2 vs 1.6 requests per task show no drop and open no rollback", () => {
    // Per request this was 9,000/12,000 = 75 % vs 900/1,600 = 56.25 %: an 18.75-point "drop".
    const arms = {
      control: { requests: 12_000, errors: 24, tasks: 10_000, completed: 9_000 },
      candidate: { requests: 1_600, errors: 3, tasks: 1_000, completed: 900 },
    };
    const gates = evaluateProductionGates(arms, config);
    const completion = gates.find((g) => g.name === "max_completion_rate_drop");
    expect(completion?.value).toBe(0);
    expect(completion?.status).toBe("pass");
    const step = judgeProduction(counts(arms), config, 10);
    expect(step).toMatchObject({ status: "pass", breach: false });
    expect(step.detail).toContain("1,000 tasks, 90.0 % completed");
  });

  it("a metrics file without tasks holds and names the field", () => {
    const file = JSON.stringify({
      phase: 10,
      control: { requests: 9000, errors: 40, completed: 7650 },
      candidate: { requests: 1000, errors: 5, tasks: 900, completed: 860 },
    });
    const reading = readMetricsFile(file, "m.json", 10);
    expect(reading).toMatchObject({
      kind: "missing",
      reason:
        "m.json control.tasks is missing: the completion rate is completed tasks / tasks, never / requests",
    });
    expect(judgeProduction(reading, config, 10)).toMatchObject({ status: "hold", breach: false });
  });

  it("more completed than tasks holds", () => {
    const file = JSON.stringify({
      control: { requests: 9000, errors: 40, tasks: 7000, completed: 7650 },
      candidate: { requests: 1000, errors: 5, tasks: 900, completed: 860 },
    });
    const reading = readMetricsFile(file, "m.json", 10);
    expect(reading.kind === "missing" && reading.reason).toContain("7650 completed out of 7000 tasks");
  });

  it("an arm without tasks holds the completion gate", () => {
    const gates = evaluateProductionGates(
      {
        control: { requests: 5000, errors: 10, tasks: 0, completed: 0 },
        candidate: { requests: 5000, errors: 10, tasks: 4000, completed: 3600 },
      },
      config,
    );
    expect(gates[1]).toMatchObject({
      status: "inconclusive",
      value: null,
      reason: "hold: no tasks on the control arm",
    });
  });
});

describe("the normal-mixture SPRT", () => {
  it("log Φ is accurate in the centre and does not underflow in the tail", () => {
    expect(Math.exp(normalLogCdf(-1.959963985))).toBeCloseTo(0.025, 6);
    expect(Math.exp(normalLogCdf(1.959963985))).toBeCloseTo(0.975, 6);
    // log Φ(−40) = −804.608 (Mills ratio: −x²/2 − log(−x) − ½ log 2π).
    expect(normalLogCdf(-40)).toBeCloseTo(-800 - Math.log(40) - 0.5 * Math.log(2 * Math.PI), 2);
  });

  it("matches the half-normal mixture of likelihood ratios integrated numerically", () => {
    const input = { estimate: 0.031, theta0: 0.02, information: 40_000, tau: 0.01, side: "above" as const };
    const s = input.information * (input.estimate - input.theta0);
    let integral = 0;
    const step = input.tau / 2000;
    for (let delta = step / 2; delta < input.tau * 12; delta += step) {
      const density =
        (2 / (input.tau * Math.sqrt(2 * Math.PI))) * Math.exp(-(delta ** 2) / (2 * input.tau ** 2));
      integral += Math.exp(delta * s - (delta ** 2 * input.information) / 2) * density * step;
    }
    expect(mixtureLogRatio(input)).toBeCloseTo(Math.log(integral), 4);
    // At θ̂ = θ₀ the ratio is below 1: no evidence either way.
    expect(alwaysValidP({ ...input, estimate: 0.02 })).toBe(1);
  });
});

describe("the 2 % error ceiling is proven in production", () => {
  const healthyControl: ArmCounts = { requests: 9000, errors: 45, tasks: 7500, completed: 6750 };

  it("1,000 candidate requests at 0.5 % errors show the rate below 2 %; 200 error-free ones do not yet", () => {
    const proven = evaluateProductionGates(
      { control: healthyControl, candidate: { requests: 1000, errors: 5, tasks: 830, completed: 747 } },
      config,
    );
    expect(proven[0]).toMatchObject({ name: "max_error_rate", status: "pass", value: 0.005 });
    expect(proven[0]?.p_within).toBeLessThanOrEqual(ALPHA_WITHIN);
    expect(proven[0]?.ci95?.[1]).toBeLessThan(0.02);
    const early = evaluateProductionGates(
      { control: healthyControl, candidate: { requests: 200, errors: 0, tasks: 170, completed: 153 } },
      config,
    );
    expect(early[0]?.status).toBe("inconclusive");
    expect(early[0]?.reason).toMatch(
      /always-valid interval includes the limit \(p breach 1\.00, p within 0\.\d+\)/,
    );
  });

  it("a clear breach fails with an always-valid p-value under the split α", () => {
    const gates = evaluateProductionGates(
      {
        control: { requests: 1000, errors: 5, tasks: 1000, completed: 950 },
        candidate: { requests: 1000, errors: 40, tasks: 1000, completed: 850 },
      },
      config,
    );
    expect(gates.map((g) => g.status)).toEqual(["fail", "fail"]);
    for (const gate of gates) expect(gate.p_breach).toBeLessThanOrEqual(ALPHA_BREACH);
  });

  it("an arm under min_requests holds every gate, whatever the numbers", () => {
    const gates = evaluateProductionGates(
      {
        control: { requests: 5000, errors: 0, tasks: 5000, completed: 4900 },
        candidate: { requests: 150, errors: 30, tasks: 150, completed: 50 },
      },
      config,
    );
    for (const g of gates) {
      expect(g.status).toBe("inconclusive");
      expect(g.reason).toBe("hold: only 150 requests on the candidate arm; at least 200 per arm needed");
    }
  });

  const gatedSteps = (production: Step): Step[] => [
    judgePhase({ current: 10, target: 30, phases: [10, 30, 50, 100], allow_skip: false }),
    { name: "attribution", status: "pass", detail: "ok" },
    { name: "eval", status: "pass", detail: "ok" },
    production,
    { name: "rehearsal", status: "pass", detail: "ok" },
  ];

  it("promotion to phase 2 needs the error gate's pass; the first phase starts without it", () => {
    const proven = judgeProduction(
      counts({
        control: healthyControl,
        candidate: { requests: 1000, errors: 5, tasks: 830, completed: 747 },
      }),
      config,
      10,
    );
    expect(decide(gatedSteps(proven), false).outcome).toBe("promote");

    // Completion proven, error rate not yet: hold, and the comment says why.
    const unproven = judgeProduction(
      counts({
        control: healthyControl,
        candidate: { requests: 2000, errors: 30, tasks: 1660, completed: 1494 },
      }),
      config,
      10,
    );
    expect(unproven.gates.map((g) => g.status)).toEqual(["inconclusive", "pass"]);
    const held = decide(gatedSteps(unproven), false);
    expect(held).toMatchObject({ outcome: "hold", blocking: { name: "production" } });
    expect(held.blocking?.detail).toContain(
      "Promotion past the first phase needs the candidate's error rate shown below 2.0 % on this phase's traffic.",
    );

    // A production step that passes without a passing error gate cannot promote past phase 1.
    const forged: Step = { name: "production", status: "pass", detail: "looks fine" };
    expect(decide(gatedSteps(forged), false)).toMatchObject({
      outcome: "hold",
      blocking: { name: "production" },
    });
    // Nor can a gated phase whose production check was skipped.
    expect(decide(gatedSteps(notRequired("production", 30, 10)), false)).toMatchObject({
      outcome: "refuse",
      blocking: { name: "production" },
    });

    const first = [
      judgePhase({ current: 0, target: 10, phases: [10, 30, 50, 100], allow_skip: false }),
      { name: "eval", status: "pass", detail: "ok" } as Step,
      notRequired("production", 10, 10),
    ];
    expect(decide(first, false).outcome).toBe("promote");
    expect(first[2]?.detail).toContain("before the second phase, this phase's traffic must show");
  });
});

// ---------------------------------------------------------------------------------------------
// Operating characteristics: a look after every batch of traffic, at each gate's limit.

/** Binomial(n, p) by geometric gaps between the rarer outcome: O(n·min(p, 1 − p)) draws. */
function binomial(n: number, p: number, random: () => number): number {
  const flip = p > 0.5;
  const q = flip ? 1 - p : p;
  let hits = 0;
  if (q > 0) {
    const logMiss = Math.log(1 - q);
    for (let i = Math.floor(Math.log(1 - random()) / logMiss) + 1; i <= n; hits++) {
      i += Math.floor(Math.log(1 - random()) / logMiss) + 1;
    }
  }
  return flip ? n - hits : hits;
}

interface Scenario {
  seed: string;
  candidateErrorRate: number;
  controlCompletion: number;
  candidateCompletion: number;
}

/**
 * Runs of one phase: per batch the candidate gets `batch` requests (10 % of traffic, at 1.6
 * requests per task) and the control nine times as many (at 1.2), and the gates are judged after
 * every batch. Returns the share of runs that ever failed a gate and that ever passed all gates.
 */
function simulate(scenario: Scenario, runs: number, looks: number, batch: number) {
  const random = seededRandom(scenario.seed);
  let rolledBack = 0;
  let promoted = 0;
  for (let run = 0; run < runs; run++) {
    const control: ArmCounts = { requests: 0, errors: 0, tasks: 0, completed: 0 };
    const candidate: ArmCounts = { requests: 0, errors: 0, tasks: 0, completed: 0 };
    let fail = false;
    let pass = false;
    for (let look = 0; look < looks; look++) {
      const controlTasks = Math.round((9 * batch) / 1.2);
      control.requests += 9 * batch;
      control.errors += binomial(9 * batch, 0.005, random);
      control.tasks += controlTasks;
      control.completed += binomial(controlTasks, scenario.controlCompletion, random);
      const candidateTasks = Math.round(batch / 1.6);
      candidate.requests += batch;
      candidate.errors += binomial(batch, scenario.candidateErrorRate, random);
      candidate.tasks += candidateTasks;
      candidate.completed += binomial(candidateTasks, scenario.candidateCompletion, random);
      const gates = evaluateProductionGates({ control, candidate }, config);
      fail ||= gates.some((g) => g.status === "fail");
      pass ||= gates.every((g) => g.status === "pass");
    }
    if (fail) rolledBack++;
    if (pass) promoted++;
  }
  return { rollback: rolledBack / runs, promotion: promoted / runs };
}

describe("always-valid: checking every hour keeps both error rates", () => {
  const RUNS = 600;
  const LOOKS = 24;
  const BATCH = 100;

  it("at both limits at once, false rollbacks over 24 looks stay ≤ 2.5 %", () => {
    const atLimits = { candidateErrorRate: 0.02, controlCompletion: 0.9, candidateCompletion: 0.85 };
    const { rollback } = simulate({ seed: "rollback@limits", ...atLimits }, RUNS, LOOKS, BATCH);
    expect(rollback).toBeLessThanOrEqual(0.025);
  });

  it("with the error rate at its limit, false promotions over 24 looks stay ≤ 2.5 %", () => {
    const scenario = { candidateErrorRate: 0.02, controlCompletion: 0.9, candidateCompletion: 0.9 };
    const { promotion } = simulate({ seed: "promote@error-limit", ...scenario }, RUNS, LOOKS, BATCH);
    expect(promotion).toBeLessThanOrEqual(0.025);
  });

  it("with the completion drop at its limit, false promotions over 24 looks stay ≤ 2.5 %", () => {
    const scenario = { candidateErrorRate: 0.005, controlCompletion: 0.9, candidateCompletion: 0.85 };
    const { promotion } = simulate({ seed: "promote@drop-limit", ...scenario }, RUNS, LOOKS, BATCH);
    expect(promotion).toBeLessThanOrEqual(0.025);
  });

  it("a healthy candidate is still promoted, and a clearly broken one rolled back", () => {
    const healthy = simulate(
      { seed: "healthy", candidateErrorRate: 0.005, controlCompletion: 0.9, candidateCompletion: 0.9 },
      200,
      LOOKS,
      BATCH,
    );
    expect(healthy.promotion).toBeGreaterThan(0.9);
    expect(healthy.rollback).toBe(0);
    const broken = simulate(
      { seed: "broken", candidateErrorRate: 0.06, controlCompletion: 0.9, candidateCompletion: 0.75 },
      200,
      LOOKS,
      BATCH,
    );
    expect(broken.rollback).toBeGreaterThan(0.9);
    expect(broken.promotion).toBe(0);
  });

  it("the old fixed-sample intervals looked at 24 times would not have held the limit (why this exists)", () => {
    // A fixed one-sided z test at 2.5 % on the candidate's error rate, checked after each batch.
    const random = seededRandom("fixed-n");
    let falseRollbacks = 0;
    for (let run = 0; run < RUNS; run++) {
      let n = 0;
      let k = 0;
      let fired = false;
      for (let look = 0; look < LOOKS; look++) {
        n += BATCH;
        k += binomial(BATCH, 0.02, random);
        const z = (k / n - 0.02) / Math.sqrt((0.02 * 0.98) / n);
        fired ||= n >= 200 && z > 1.959964;
      }
      if (fired) falseRollbacks++;
    }
    expect(falseRollbacks / RUNS).toBeGreaterThan(0.05);
  });
});
