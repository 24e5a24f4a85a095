import type { Step, StepName } from "./steps.ts";

/**
 * One decision from the checks of a promotion label (issue 6, points 2, 4 and 5): any failing
 * check refuses (the first one in order is the reason), else any holding check holds, else the
 * candidate is promoted. A breach (a production gate failed beyond noise) also asks for a
 * rollback PR, whatever else the checks said.
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
  const ordered = [...steps].sort((a, b) => STEP_ORDER.indexOf(a.name) - STEP_ORDER.indexOf(b.name));
  const failed = ordered.find((s) => s.status === "fail");
  if (failed) return { outcome: "refuse", steps: ordered, blocking: failed, breach };
  const held = ordered.find((s) => s.status === "hold");
  if (held) return { outcome: "hold", steps: ordered, blocking: held, breach };
  return { outcome: "promote", steps: ordered, blocking: undefined, breach };
}
