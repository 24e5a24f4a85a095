import type { WriteAction } from "./check-runs.ts";
import type { GitHub, RepoRef } from "./client.ts";
import { createIdempotently } from "./idempotent-create.ts";

/** GitHub answers 422 to an issue comment body longer than this. */
export const COMMENT_BODY_LIMIT = 65_536;

export interface StickyTarget extends RepoRef {
  issue_number: number;
  /** A hidden HTML comment that marks our comment, e.g. `<!-- modelgate:attribution -->`. */
  marker: string;
  /**
   * Login that must have written it (`modelgate[bot]`, `github-actions[bot]`): anyone can
   * paste the marker into a comment of their own, so the marker alone proves nothing.
   */
  author: string;
}

export interface StickyComment {
  id: number;
  body: string;
}

/** Every comment of ours on the issue or PR, oldest first. */
export async function findStickyComments(gh: GitHub, target: StickyTarget): Promise<StickyComment[]> {
  const found: StickyComment[] = [];
  const author = target.author.toLowerCase();
  for (let page = 1; ; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issue_number,
      per_page: 100,
      page,
    });
    for (const comment of data) {
      if (comment.user?.login.toLowerCase() !== author) continue;
      if (!comment.body?.includes(target.marker)) continue;
      found.push({ id: Number(comment.id), body: comment.body });
    }
    if (data.length < 100) break;
  }
  return found;
}

/**
 * Creates the one comment, or edits it in place; an identical body is not written again
 * (a redelivered webhook changes nothing). Duplicates left by a race are deleted.
 * `body` must contain the marker.
 */
export async function upsertStickyComment(
  gh: GitHub,
  target: StickyTarget,
  body: string,
  options: { onlyIfPresent?: boolean } = {},
): Promise<{ id: number | undefined; action: WriteAction | "absent" }> {
  if (!body.includes(target.marker)) throw new Error("sticky comment body lacks its marker");
  const [first, ...duplicates] = await findStickyComments(gh, target);
  for (const duplicate of duplicates) {
    await gh.request("DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}", {
      owner: target.owner,
      repo: target.repo,
      comment_id: duplicate.id,
    });
  }
  if (!first) {
    if (options.onlyIfPresent) return { id: undefined, action: "absent" };
    // A lost answer to the POST may hide a comment that was made: look for it before posting again.
    const { value: made } = await createIdempotently(
      async (): Promise<StickyComment> => {
        const { data } = await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
          owner: target.owner,
          repo: target.repo,
          issue_number: target.issue_number,
          body,
        });
        return { id: Number(data.id), body };
      },
      async () => (await findStickyComments(gh, target))[0],
    );
    if (made.body !== body) await patchComment(gh, target, made.id, body);
    return { id: made.id, action: "created" };
  }
  if (first.body === body) return { id: first.id, action: "unchanged" };
  await patchComment(gh, target, first.id, body);
  return { id: first.id, action: "updated" };
}

async function patchComment(gh: GitHub, target: StickyTarget, id: number, body: string): Promise<void> {
  await gh.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
    owner: target.owner,
    repo: target.repo,
    comment_id: id,
    body,
  });
}
