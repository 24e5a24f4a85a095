import type { ChangeCategory, Classification } from "../../core/classify/classify.ts";
import type { CheckConclusion } from "../../github/check-runs.ts";

/** Who applied the override label and when (from the PR's event log). */
export interface LabelActor {
  actor: string;
  at: string;
}

/** What became of the override label on this run. */
export type OverrideStatus =
  | { kind: "none" }
  /** It counts: the mixed (or truncated) verdict passes and says so. */
  | { kind: "applied"; label: string; by: LabelActor; categories: ChangeCategory[] }
  /** Present but does not count, and why. */
  | {
      kind: "refused";
      label: string;
      by: LabelActor | undefined;
      reason: "author" | "permission" | "unknown";
    }
  /** A push came after it: the App took it off, and it must be applied again for the new head. */
  | { kind: "cleared"; label: string; by: LabelActor | undefined; head_sha: string };

export type Judgement =
  | { kind: "invalid_config"; message: string }
  | { kind: "error"; message: string }
  | { kind: "classified"; classification: Classification; override: OverrideStatus };

export interface Verdict {
  conclusion: Extract<CheckConclusion, "success" | "neutral" | "failure">;
  /** The check run's title: plain text, one line. */
  title: string;
  /** Two or more of model/prompt/infra: the sticky comment is posted or kept up to date. */
  mixed: boolean;
}

export function verdictOf(judgement: Judgement): Verdict {
  switch (judgement.kind) {
    case "invalid_config":
      return { conclusion: "failure", title: "Invalid modelgate config on the base branch", mixed: false };
    case "error":
      return { conclusion: "failure", title: "modelgate could not judge this PR", mixed: false };
    case "classified":
      return classifiedVerdict(judgement.classification, judgement.override);
  }
}

function classifiedVerdict(classification: Classification, override: OverrideStatus): Verdict {
  const { categories, mixed } = classification;
  const truncated = classification.truncated === true;
  // A structured file that does not parse hides its keys: fail closed and name it first.
  const [unreadable] = classification.unreadable ?? [];
  if (mixed || truncated || unreadable) {
    const what = unreadable
      ? `Cannot read ${unreadable.path}${unreadable.line === null ? "" : `:${unreadable.line}`} (${unreadable.side})`
      : mixed
        ? `Mixed change: ${categories.join(" + ")}`
        : "File list truncated";
    if (override.kind === "applied") {
      return { conclusion: "success", title: `${what}, overridden by ${override.by.actor}`, mixed };
    }
    return {
      conclusion: "failure",
      title: mixed && truncated ? `${what} (file list truncated)` : what,
      mixed,
    };
  }
  if (categories.length === 0) {
    return { conclusion: "neutral", title: "No model, prompt or infra change", mixed: false };
  }
  return { conclusion: "success", title: `One kind of change: ${categories[0]}`, mixed: false };
}
