/**
 * The Action ↔ App protocol: the names and markers by which one side finds what the other
 * wrote on GitHub. The Action publishes eval and rehearsal evidence under these names; the App
 * looks for exactly these names. One module, imported by both, so the two cannot drift apart.
 */

/** Check runs. */
export const CHECK_NAMES = {
  /** The Action's eval: its summary carries the evidence block. */
  eval: "modelgate/eval",
  /** The Action's rollback rehearsal on a rollout PR: evidence the App needs before promoting. */
  rehearsal: "modelgate/rollback-rehearsal",
  /** The App's (or its workflow adapter's) mixed-change attribution. */
  attribution: "modelgate/attribution",
  /** The App's rollout decision. */
  rollout: "modelgate/rollout",
} as const;

export type CheckName = (typeof CHECK_NAMES)[keyof typeof CHECK_NAMES];

/** Hidden HTML comments that mark whose sticky comment a comment is. */
export const COMMENT_MARKERS = {
  /** The Action's sticky eval comment. */
  eval: "<!-- modelgate:eval -->",
  /** The Action's rollback rehearsal comment: its own marker, never the eval marker. */
  rehearsal: "<!-- modelgate:rollback-rehearsal -->",
  /** The App's attribution comment. */
  attribution: "<!-- modelgate:attribution -->",
  /** The body of a rollback PR the App opened. */
  rollbackPr: "<!-- modelgate:rollback-pr -->",
  /** The production watch's latest judgement, one comment on the rollback PR it opened. */
  watch: "<!-- modelgate:watch -->",
} as const;

/** Every rollout decision comment starts with this, followed by the delivery that caused it. */
export const DECISION_MARKER_PREFIX = "<!-- modelgate:rollout ";

/** The rollout decision marker for one delivery key (characters outside `[\w.:-]` become `_`). */
export function decisionMarker(key: string): string {
  return `${DECISION_MARKER_PREFIX}${key.replace(/[^\w.:-]/g, "_").slice(0, 100)} -->`;
}

/** The machine-readable evidence block: `<!-- modelgate:evidence {json} -->`. */
export const EVIDENCE_OPEN = "<!-- modelgate:evidence ";
export const EVIDENCE_CLOSE = " -->";

/** Trailers of the commit the App makes to promote a rollout. */
export const COMMIT_TRAILERS = {
  rollout: "Modelgate-Rollout",
  pinnedHead: "Modelgate-Pinned-Head",
} as const;

/** The trailer lines of a promotion commit to `target` % for the head pinned at `pinnedSha`. */
export function promotionTrailers(target: number, pinnedSha: string): string[] {
  return [`${COMMIT_TRAILERS.rollout}: ${target}`, `${COMMIT_TRAILERS.pinnedHead}: ${pinnedSha}`];
}

/** Whether a commit message carries the trailers `promotionTrailers(target, pinnedSha)` writes. */
export function hasPromotionTrailers(message: string, target: number, pinnedSha: string): boolean {
  const lines = message.split("\n");
  return promotionTrailers(target, pinnedSha).every((trailer) => lines.includes(trailer));
}
