import { UserError } from "../core/errors.ts";
import { parseLlmDocument } from "../core/llm-config.ts";
import { readShare } from "../core/rollout/llm-edit.ts";
import type { GitHub, RepoRef } from "../github/client.ts";
import { readFileAt } from "../github/contents.ts";

/**
 * When the live phase began: the commit on the base branch that set the share to its current
 * value. The production gates' always-valid guarantee needs running totals since that moment
 * (`{{phase_window}}` in the queries); a sliding window would make every look a fresh sample.
 *
 * The history of the LLM config file is walked newest first while the share stays the same;
 * the oldest such commit started the phase. Bounded: after `MAX_COMMITS` commits of an unchanged
 * share the oldest one seen is used, which only starts the totals later than the phase did.
 */

const MAX_COMMITS = 30;

export type PhaseStart =
  | { kind: "found"; since: Date; sha: string; bounded: boolean }
  | { kind: "unknown"; reason: string };

export async function phaseStart(
  gh: GitHub,
  at: RepoRef & { ref: string; file: string; key: string; share: number },
): Promise<PhaseStart> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/commits", {
    owner: at.owner,
    repo: at.repo,
    sha: at.ref,
    path: at.file,
    per_page: MAX_COMMITS,
  });
  let start: { sha: string; date: string | undefined } | undefined;
  for (const commit of data) {
    const text = await readFileAt(gh, { owner: at.owner, repo: at.repo, path: at.file, ref: commit.sha });
    if (text === null || shareOf(text, at.file, at.key) !== at.share) break;
    start = { sha: commit.sha, date: commit.commit.committer?.date ?? commit.commit.author?.date };
  }
  if (!start)
    return { kind: "unknown", reason: `no commit on ${at.ref} set ${at.key} in ${at.file} to ${at.share}` };
  const since = start.date ? new Date(start.date) : undefined;
  if (!since || Number.isNaN(since.getTime()))
    return { kind: "unknown", reason: `commit ${start.sha.slice(0, 7)} has no committer date` };
  return { kind: "found", since, sha: start.sha, bounded: data.length >= MAX_COMMITS };
}

/** A version of the file that cannot be read has no share: the phase cannot reach past it. */
function shareOf(text: string, file: string, key: string): number | undefined {
  try {
    return readShare(parseLlmDocument(text, file), key);
  } catch (error) {
    if (error instanceof UserError) return undefined;
    throw error;
  }
}

/** A Prometheus duration covering `since` until `now`: whole seconds, at least one minute. */
export function phaseWindow(since: Date, now: Date): string {
  return `${Math.max(60, Math.ceil((now.getTime() - since.getTime()) / 1000))}s`;
}
