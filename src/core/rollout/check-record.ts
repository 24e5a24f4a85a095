import { z } from "zod";

/**
 * What a `modelgate/rollout` check judged, in a hidden line at the top of its summary, so a
 * re-run of the check (`check_run.rerequested`) knows what to judge again: the hand-edit rule,
 * or a promotion to the same target share. The App reads it only from check runs its own app
 * created (looked up by app slug), so nothing a PR can write reaches it.
 */

const PREFIX = "<!-- modelgate:rollout-check ";
const SUFFIX = " -->";

const record = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("hand_edit") }),
  z.object({ kind: z.literal("promotion"), target: z.number().int().min(1).max(100) }),
]);

export type CheckRecord = z.infer<typeof record>;

/** The summary with the record line first (the top survives when a long summary is cut). */
export function withCheckRecord(summary: string, value: CheckRecord): string {
  return `${PREFIX}${JSON.stringify(value)}${SUFFIX}\n${summary}`;
}

/** The record of a summary, or undefined when it has none (or a malformed one). */
export function readCheckRecord(summary: string | null | undefined): CheckRecord | undefined {
  const first = (summary ?? "").split("\n", 1)[0] ?? "";
  if (!first.startsWith(PREFIX) || !first.endsWith(SUFFIX)) return undefined;
  try {
    const parsed = record.safeParse(JSON.parse(first.slice(PREFIX.length, -SUFFIX.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The target of a promotion check written before the record existed, from its title (the
 * titles `checkTitle` and `noticeTitle` in render.ts write): `Promoted to 30 % (phase 2 of 4)`,
 * `Hold at 10 %: not enough production evidence for 30 %`, `rollout:30 refused: …`,
 * `rollout:30 could not be evaluated`. Undefined for anything else.
 */
export function targetFromTitle(title: string | null | undefined): number | undefined {
  const text = title ?? "";
  const match =
    /^Promoted to (\d{1,3}) % \(phase \d+ of \d+\)$/.exec(text) ??
    /^Hold at \d{1,3} %: not enough production evidence for (\d{1,3}) %$/.exec(text) ??
    /^\S*?(\d{1,3})\s*%? (?:refused: |could not be evaluated$)/.exec(text);
  const target = match ? Number(match[1]) : Number.NaN;
  return Number.isInteger(target) && target >= 1 && target <= 100 ? target : undefined;
}
