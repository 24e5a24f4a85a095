import { type GitHub, httpStatus, type RepoRef } from "./client.ts";
import { isFork } from "./fork.ts";

/** The fields of a pull request the doors use, read fresh (a webhook payload can be stale). */
export interface PullRequestState {
  number: number;
  state: "open" | "closed";
  draft: boolean;
  author: string;
  head_sha: string;
  /** Head repository "owner/name"; differs from the base repository for a fork. */
  head_repo: string | null;
  /** `isFork`: the head is in another repository, or in one that was deleted (`head.repo` null). */
  fork: boolean;
  base_sha: string;
  base_ref: string;
  changed_files: number;
  labels: string[];
  html_url: string;
}

export async function getPullRequest(
  gh: GitHub,
  pull: RepoRef & { pull_number: number },
): Promise<PullRequestState> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", pull);
  return {
    number: data.number,
    state: data.state === "closed" ? "closed" : "open",
    draft: data.draft ?? false,
    author: data.user.login,
    head_sha: data.head.sha,
    head_repo: data.head.repo?.full_name ?? null,
    fork: isFork(data, `${pull.owner}/${pull.repo}`),
    base_sha: data.base.sha,
    base_ref: data.base.ref,
    changed_files: data.changed_files,
    labels: data.labels.map((label) => label.name),
    html_url: data.html_url,
  };
}

/**
 * The commit a PR's file list is relative to: GitHub lists `base...head` (three dots), so
 * base-side contents must come from the merge base, not from the base branch's tip (which
 * may have moved on since the PR branched). Falls back to `base` when compare is unavailable.
 */
export async function mergeBase(gh: GitHub, at: RepoRef & { base: string; head: string }): Promise<string> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      owner: at.owner,
      repo: at.repo,
      basehead: `${at.base}...${at.head}`,
      per_page: 1,
    });
    return data.merge_base_commit.sha;
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404 || status === 422) return at.base;
    throw error;
  }
}

/** When a commit was committed (its committer date), or undefined when GitHub does not say. */
export async function commitDate(gh: GitHub, at: RepoRef & { sha: string }): Promise<string | undefined> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/commits/{ref}", {
    owner: at.owner,
    repo: at.repo,
    ref: at.sha,
  });
  return data.commit.committer?.date ?? data.commit.author?.date ?? undefined;
}
