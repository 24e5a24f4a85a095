import type { PairedCase } from "../../src/core/pairs.ts";
import type { CaseSideResult, Outcome } from "../../src/core/result.ts";
import { seededRandom } from "../../src/core/stats.ts";

/**
 * Simulated paired eval outcomes with known truth, for the operating-characteristics tests and
 * the gates bench: each pair's base and head completion are drawn from the 2×2 table with the
 * given rates and (phi) correlation; head errors replace the head's answer at `headErrorRate`;
 * costs are lognormal per case, the head's `costRatio` times the base's in expectation.
 */
export interface Scenario {
  baseCompletion: number;
  headCompletion: number;
  /** Phi correlation of the two sides' completion on the same case. */
  correlation: number;
  headErrorRate: number;
  /** Expected head cost per case over the base's (so the per-completed-task ratio when completion is equal). */
  costRatio?: number;
}

function side(outcome: Outcome, cost: number): CaseSideResult {
  return {
    outcome,
    attempts: 1,
    tokens: 1000,
    cost,
    model: "m",
    tool_calls: 0,
    latencies_ms: outcome === "error" ? [] : [1000],
  };
}

/** An endless generator of pairs for one seeded run of a scenario. */
export function pairSource(scenario: Scenario, seed: string): () => PairedCase {
  const random = seededRandom(seed);
  const { baseCompletion: pb, headCompletion: ph, correlation } = scenario;
  const both = pb * ph + correlation * Math.sqrt(pb * (1 - pb) * ph * (1 - ph));
  const baseOnly = pb - both;
  const headOnly = ph - both;
  if (both < 0 || baseOnly < 0 || headOnly < 0 || both + baseOnly + headOnly > 1) {
    throw new RangeError("pairSource: correlation impossible for these rates");
  }
  const gaussian = () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  // Lognormal with σ = 0.5, mean 1 (μ = −σ²/2); the case's difficulty is shared by both sides.
  const sigma = 0.5;
  let index = 0;
  return () => {
    const u = random();
    const basePass = u < both + baseOnly;
    const headPass = u < both || (u >= both + baseOnly && u < both + baseOnly + headOnly);
    const headError = random() < scenario.headErrorRate;
    const shared = gaussian();
    const costOf = (scale: number) =>
      scale * 0.01 * Math.exp(sigma * (0.7 * shared + 0.714 * gaussian()) - (sigma * sigma) / 2);
    const pair: PairedCase = {
      id: `case-${index++}`,
      route: "r",
      base: side(basePass ? "pass" : "fail", costOf(1)),
      head: side(headError ? "error" : headPass ? "pass" : "fail", costOf(scenario.costRatio ?? 1)),
    };
    return pair;
  };
}
