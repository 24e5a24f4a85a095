import { UserError } from "../errors.ts";
import { parseLlmDocument } from "../llm-config.ts";
import { COMMIT_TRAILERS, hasPromotionTrailers } from "../protocol.ts";
import { escapeUntrusted, inlineCode } from "../report/escape.ts";
import { shortSha } from "../report/format.ts";
import { readShare } from "./llm-edit.ts";

/**
 * The hand-edit rule (issue 13): a PR that raises the candidate's share at `rollout.key` in the
 * LLM config without going through a `rollout:<N>` label skips every gate the label checks, so
 * the App flags it with a failing `modelgate/rollout` check. Lowering the share is a rollback
 * and always allowed: less traffic on the candidate is never what the gates guard against, and
 * an incident must not wait for a check. Pure: texts in, judgement and words out.
 */

export type HandEdit =
  /** The PR leaves the share as it is (or the file is absent on both sides). */
  | { kind: "unchanged"; share: number }
  /** The share goes down: a rollback, allowed. */
  | { kind: "decrease"; from: number; to: number }
  /** The share goes up outside the label flow: flagged unless the App vouched for the head. */
  | { kind: "increase"; from: number; to: number }
  /** Either side cannot be read: fail closed. */
  | { kind: "unreadable"; message: string };

export interface HandEditInput {
  file: string;
  key: string;
  /** The LLM config's text at the merge base and at the head; null when the file is absent. */
  base: string | null;
  head: string | null;
  base_sha: string;
  head_sha: string;
}

export function judgeHandEdit(input: HandEditInput): HandEdit {
  // The same text on both sides cannot change the share: nothing to parse, nothing to flag
  // (a broken config the PR does not touch is the attribution check's business, not this one's).
  if (input.base === input.head) return { kind: "unchanged", share: 0 };
  let from: number;
  let to: number;
  try {
    from = shareOf(input.base, input.file, `base ${shortSha(input.base_sha) ?? "?"}`, input.key);
    to = shareOf(input.head, input.file, `head ${shortSha(input.head_sha) ?? "?"}`, input.key);
  } catch (error) {
    if (error instanceof UserError) return { kind: "unreadable", message: error.message };
    throw error;
  }
  if (to === from) return { kind: "unchanged", share: to };
  return to < from ? { kind: "decrease", from, to } : { kind: "increase", from, to };
}

/** A missing file or key is 0 %, as everywhere in the rollout. */
function shareOf(text: string | null, path: string, side: string, key: string): number {
  if (text === null) return 0;
  return readShare(parseLlmDocument(text, path, `${path} (${side})`), key);
}

/** A commit as the git data API returns it. */
export interface CommitFacts {
  message: string;
  parents: readonly string[];
  author: { name: string; email: string };
  committer: { name: string; email: string };
}

/**
 * Whether a commit is the App's own promotion to `share`: the trailers the App writes, its only
 * parent the head the trailers pin, and authored and committed as the App's bot. Every part of
 * it can be written by anyone who can push, so the caller also needs GitHub's word that the App
 * pushed it (the signed `synchronize` event's sender).
 */
export function isAppPromotionCommit(commit: CommitFacts, share: number, botLogin: string): boolean {
  const parent = commit.parents.length === 1 ? commit.parents[0] : undefined;
  if (parent === undefined || !hasPromotionTrailers(commit.message, share, parent)) return false;
  const bot = botLogin.toLowerCase();
  const asBot = (p: { name: string; email: string }) =>
    p.name.toLowerCase() === bot && p.email.toLowerCase().endsWith(`+${bot}@users.noreply.github.com`);
  return asBot(commit.author) && asBot(commit.committer);
}

/** The pinned head a promotion commit's trailers name, if it carries them. */
export function pinnedHeadOf(message: string): string | undefined {
  const prefix = `${COMMIT_TRAILERS.pinnedHead}: `;
  const line = message.split("\n").find((l) => l.startsWith(prefix));
  const sha = line?.slice(prefix.length).trim();
  return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
}

export interface HandEditCheckInput {
  judgement: HandEdit;
  file: string;
  key: string;
  label_prefix: string;
  phases: readonly number[];
  base_ref: string;
  head_sha: string;
  /** Who asked for this judgement, in words: `pull_request.synchronize`, `re-run by @alice`. */
  reason: string;
}

export interface HandEditCheck {
  conclusion: "failure" | "neutral";
  title: string;
  summary: string;
}

/** The `modelgate/rollout` check for a hand-edit judgement. */
export function handEditCheck(input: HandEditCheckInput): HandEditCheck {
  const { judgement } = input;
  const file = inlineCode(input.file, { max: 120 });
  const key = inlineCode(input.key, { max: 120 });
  const footer = [
    "",
    `Judged at \`${shortSha(input.head_sha) ?? "?"}\` against the merge base with ${inlineCode(input.base_ref, { max: 80 })} (${escapeUntrusted(input.reason)}). A share may go up only through a \`modelgate/rollout\` success from modelgate itself; going down (a rollback) is always allowed.`,
  ];
  switch (judgement.kind) {
    case "increase": {
      const label = `${input.label_prefix}${judgement.to}`;
      const phase = input.phases.includes(judgement.to)
        ? ""
        : ` (${judgement.to} % is not a rollout phase: ${input.phases.map((p) => `${p} %`).join(", ")})`;
      return {
        conclusion: "failure",
        title: `Share changed by hand: ${judgement.from} % → ${judgement.to} %`,
        summary: [
          "### modelgate rollout: share changed by hand",
          "",
          `The share changed by hand from ${judgement.from} to ${judgement.to} in ${file} at ${key}; apply ${inlineCode(label, { max: 60 })} to promote through the gates (or revert the edit)${phase}.`,
          "",
          "A promotion label checks the next phase, a model-only change, the eval and rollback rehearsal evidence for this commit and the current phase's production gates; an edit of the share skips all of them.",
          ...footer,
        ].join("\n"),
      };
    }
    case "unreadable":
      return {
        conclusion: "failure",
        title: `Cannot read the rollout share in ${plainText(input.file)}`,
        summary: [
          "### modelgate rollout: cannot read the rollout share",
          "",
          `modelgate cannot tell whether this PR changes ${key} in ${file}, so it fails closed: ${escapeUntrusted(judgement.message)}`,
          ...footer,
        ].join("\n"),
      };
    case "decrease":
      return {
        conclusion: "neutral",
        title: `Share lowered: ${judgement.from} % → ${judgement.to} % (a rollback is always allowed)`,
        summary: [
          "### modelgate rollout: share lowered",
          "",
          `This PR lowers ${key} in ${file} from ${judgement.from} to ${judgement.to}: less traffic on the candidate, which needs no gate.`,
          ...footer,
        ].join("\n"),
      };
    case "unchanged":
      return {
        conclusion: "neutral",
        title: "No hand edit of the rollout share",
        summary: [
          "### modelgate rollout: no hand edit of the rollout share",
          "",
          `This PR does not raise ${key} in ${file}.`,
          ...footer,
        ].join("\n"),
      };
  }
}

function plainText(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 120);
}
