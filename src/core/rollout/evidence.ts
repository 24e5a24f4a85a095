import { COMMENT_MARKERS } from "../protocol.ts";
import { type Evidence, readEvidence } from "../report/evidence.ts";

/**
 * Which published eval evidence the App may act on (docs/action.md#security, issue 6 point 2). Evidence
 * counts only when GitHub says the trusted bot wrote it (a comment's author, or the app that
 * created a check run) and it names the commit the label was pinned to. Everything else that
 * looks like evidence (a user pasting a block into a comment, a block for an older push) is
 * listed as ignored, so the audit shows it was seen and why it did not count.
 */

export type EvidenceKind = "eval" | "rehearsal";

export interface EvidenceCandidate {
  origin: "comment" | "check_run";
  id: number;
  /** A comment's author login; for a check run, `<app slug>[bot]` of the app that created it. */
  author: string;
  /** Newest first among candidates of one origin. */
  updated_at: string;
  html_url?: string | undefined;
  /** The comment body, or the check run's summary and text. */
  text: string;
}

export interface IgnoredEvidence {
  origin: EvidenceCandidate["origin"];
  id: number;
  author: string;
  reason: "untrusted_author" | "other_commit" | "malformed";
  /** The SHA the block names; empty for a malformed block. */
  head_sha: string;
  /** For a malformed block: the one-line reason it was rejected. */
  problem?: string;
}

export interface EvidencePick {
  kind: EvidenceKind;
  evidence: Evidence | undefined;
  source: EvidenceCandidate | undefined;
  ignored: IgnoredEvidence[];
}

/** Whether a comment body is the one that carries `kind`'s evidence. */
export function isEvidenceComment(body: string, kind: EvidenceKind): boolean {
  return kind === "eval"
    ? body.includes(COMMENT_MARKERS.eval) && !body.includes(COMMENT_MARKERS.rehearsal)
    : body.includes(COMMENT_MARKERS.rehearsal);
}

/**
 * The trusted evidence of one kind for `head_sha`: comments first (the Action's sticky comment
 * is the latest word), then check runs; the newest of each.
 */
export function pickEvidence(
  kind: EvidenceKind,
  candidates: readonly EvidenceCandidate[],
  trust: { trusted_bot: string; head_sha: string },
): EvidencePick {
  const trusted = trust.trusted_bot.toLowerCase();
  const ignored: IgnoredEvidence[] = [];
  const usable: Array<{ candidate: EvidenceCandidate; evidence: Evidence }> = [];
  for (const candidate of candidates) {
    const read = readEvidence(candidate.text);
    if (read.kind === "none") continue;
    if (read.kind === "malformed") {
      // A block from the trusted bot that fails the schema is never partly trusted; it is
      // listed so the decision says why it did not count. Others' malformed blocks are noise.
      if (candidate.author.toLowerCase() === trust.trusted_bot.toLowerCase()) {
        ignored.push({
          origin: candidate.origin,
          id: candidate.id,
          author: candidate.author,
          reason: "malformed",
          head_sha: "",
          problem: read.problem,
        });
      }
      continue;
    }
    const { evidence } = read;
    const base = {
      origin: candidate.origin,
      id: candidate.id,
      author: candidate.author,
      head_sha: evidence.head_sha,
    };
    if (candidate.author.toLowerCase() !== trusted) {
      ignored.push({ ...base, reason: "untrusted_author" });
      continue;
    }
    if (evidence.head_sha.trim().toLowerCase() !== trust.head_sha.toLowerCase()) {
      ignored.push({ ...base, reason: "other_commit" });
      continue;
    }
    usable.push({ candidate, evidence });
  }
  const rank = (c: EvidenceCandidate) => (c.origin === "comment" ? 0 : 1);
  usable.sort(
    (a, b) =>
      rank(a.candidate) - rank(b.candidate) ||
      b.candidate.updated_at.localeCompare(a.candidate.updated_at) ||
      b.candidate.id - a.candidate.id,
  );
  const best = usable[0];
  return { kind, evidence: best?.evidence, source: best?.candidate, ignored };
}

/** Why evidence that was found still cannot promote, or undefined when it can. */
export function evidenceProblem(evidence: Evidence): string | undefined {
  if (evidence.simulated)
    return "its numbers come from the simulated provider, which is never evidence for a real promotion";
  if (evidence.partial)
    return "the run was partial (a budget cap, a kill or provider failures stopped it early)";
  if (evidence.verdict !== "pass") return `its verdict is ${evidence.verdict}, not pass`;
  return undefined;
}
