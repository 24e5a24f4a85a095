import type { PhaseJudgement, ProductionJudgement, Step, StepName } from "./steps.ts";

/**
 * One decision from the checks of a promotion label (issue 6, points 2, 4 and 5): any failing
 * check refuses (the first one in order is the reason), else any holding check holds, else the
 * candidate is promoted. A breach (a production gate failed beyond noise) also asks for a
 * rollback PR, whatever else the checks said.
 *
 * The eval proves only a coarse error ceiling; `max_error_rate` itself is proven on the first
 * phase's traffic (docs/rollout.md, "Production gates"). So a promotion to the second phase or later needs the
 * production step to carry a passing `max_error_rate` gate, whatever the step's own status says.
 */

export type Outcome = "promote" | "refuse" | "hold";

export interface Decision {
  outcome: Outcome;
  steps: Step[];
  /** The step that refused or held, the first in order. */
  blocking: Step | undefined;
  breach: boolean;
}

export const STEP_ORDER: readonly StepName[] = ["phase", "attribution", "eval", "production", "rehearsal"];

export function decide(steps: readonly Step[], breach: boolean): Decision {
  const gated = isGated(steps);
  const counted = steps.map((step) =>
    gated && step.name === "production" ? requireErrorCeiling(step) : step,
  );
  if (gated && !counted.some((s) => s.name === "production")) counted.push(missingProduction());
  const ordered = counted.sort((a, b) => STEP_ORDER.indexOf(a.name) - STEP_ORDER.indexOf(b.name));
  const failed = ordered.find((s) => s.status === "fail");
  if (failed) return { outcome: "refuse", steps: ordered, blocking: failed, breach };
  const held = ordered.find((s) => s.status === "hold");
  if (held) return { outcome: "hold", steps: ordered, blocking: held, breach };
  return { outcome: "promote", steps: ordered, blocking: undefined, breach };
}

function isGated(steps: readonly Step[]): boolean {
  const phase = steps.find((s): s is PhaseJudgement => s.name === "phase" && "gated" in s);
  return phase?.gated === true;
}

/**
 * The production step as a promotion past the first phase may count it: one that did not
 * prove the error ceiling cannot pass (a hold), and a missing one refuses (fail closed: the
 * caller skipped a check the phase needs).
 */
function requireErrorCeiling(step: Step): Step {
  if (step.status === "not_required") return missingProduction();
  if (step.status !== "pass") return step;
  const gates = "gates" in step ? (step as ProductionJudgement).gates : [];
  const error = gates.find((g) => g.name === "max_error_rate");
  if (error?.status === "pass") return step;
  return {
    ...step,
    status: "hold",
    detail: `${step.detail} Hold: promotion past the first phase needs the candidate's error rate shown below \`gates.max_error_rate\` on production traffic, and this step has no passing \`max_error_rate\` gate.`,
  };
}

function missingProduction(): Step {
  return {
    name: "production",
    status: "fail",
    detail:
      "Production metrics were not checked, and a promotion past the first phase needs them: the candidate's error rate must be shown below `gates.max_error_rate` on the current phase's traffic.",
  };
}
