/**
 * Rollout labels (issue 6): `rollout:<N>` asks to promote the candidate to N % of traffic,
 * `rollout:rollback` asks for a rollback PR. The prefix comes from `rollout.label_prefix`.
 */

export type RolloutLabel =
  | { kind: "promote"; label: string; share: number }
  | { kind: "rollback"; label: string }
  /** Carries the prefix but names nothing we know: refused with an explanation. */
  | { kind: "invalid"; label: string; reason: string };

export const ROLLBACK_SUFFIX = "rollback";

/** The label put on the rollback PRs the App opens (not a trigger: the App ignores its own labels). */
export const ROLLBACK_PR_LABEL = "modelgate:rollback";

/** What a label asks for, or undefined when it is not a rollout label at all. */
export function parseRolloutLabel(name: string, prefix: string): RolloutLabel | undefined {
  if (!name.toLowerCase().startsWith(prefix.toLowerCase())) return undefined;
  const rest = name.slice(prefix.length).trim();
  if (rest.toLowerCase() === ROLLBACK_SUFFIX) return { kind: "rollback", label: name };
  // "30" and "30%" both read as 30 %.
  const match = /^(\d{1,3})\s*%?$/.exec(rest);
  const share = match ? Number(match[1]) : Number.NaN;
  if (!Number.isInteger(share) || share < 1 || share > 100) {
    return {
      kind: "invalid",
      label: name,
      reason: `expected ${prefix}<percent> (e.g. ${prefix}30) or ${prefix}${ROLLBACK_SUFFIX}`,
    };
  }
  return { kind: "promote", label: name, share };
}

export function rollbackLabel(prefix: string): string {
  return `${prefix}${ROLLBACK_SUFFIX}`;
}
