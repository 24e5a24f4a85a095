import type { ChangedPath, FileStatus } from "../core/classify/classify.ts";
import { type GitHub, mapLimit, type RepoRef } from "./client.ts";

/** `pulls.listFiles` lists at most this many files (100 a page), however many the PR changes. */
export const GITHUB_FILE_LIST_LIMIT = 3000;
const PER_PAGE = 100;
const MAX_PAGES = GITHUB_FILE_LIST_LIMIT / PER_PAGE;

export interface PullFiles {
  changes: ChangedPath[];
  /** True when GitHub listed fewer files than the PR changes: the verdict must fail closed. */
  truncated: boolean;
  /** The PR's own count (`changed_files`), when known. */
  expected: number | undefined;
}

type GitHubFileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";

interface ListedFile {
  filename: string;
  status: GitHubFileStatus;
  previous_filename?: string;
}

/**
 * Every file of a PR, from `GET /pulls/{n}/files` (never the `patch` field: GitHub cuts it).
 * When the PR's `changed_files` is known, its pages are fetched concurrently.
 */
export async function listPullFiles(
  gh: GitHub,
  pull: RepoRef & { pull_number: number; changed_files?: number | undefined },
): Promise<PullFiles> {
  const page = async (n: number): Promise<ListedFile[]> => {
    const response = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      owner: pull.owner,
      repo: pull.repo,
      pull_number: pull.pull_number,
      per_page: PER_PAGE,
      page: n,
    });
    return response.data;
  };
  const expected = pull.changed_files;
  const known = expected === undefined ? 1 : Math.min(MAX_PAGES, Math.max(1, Math.ceil(expected / PER_PAGE)));
  const pages = await mapLimit(
    Array.from({ length: known }, (_, i) => i + 1),
    8,
    page,
  );
  // `changed_files` can be stale by a push; keep reading while the last page is full.
  while (pages.length < MAX_PAGES && (pages.at(-1)?.length ?? 0) === PER_PAGE)
    pages.push(await page(pages.length + 1));
  const files = pages.flat();
  const truncated =
    (expected !== undefined && files.length < expected) ||
    (expected === undefined && files.length >= GITHUB_FILE_LIST_LIMIT);
  return { changes: files.map(toChangedPath), truncated, expected };
}

function toChangedPath(file: ListedFile): ChangedPath {
  const status = fileStatus(file.status);
  return {
    path: file.filename,
    status,
    previous_path: status === "renamed" ? (file.previous_filename ?? null) : null,
  };
}

/** A copy leaves its source untouched, so it is an addition; a mode change is a modification. */
function fileStatus(status: GitHubFileStatus): FileStatus {
  switch (status) {
    case "added":
    case "copied":
      return "added";
    case "removed":
      return "removed";
    case "renamed":
      return "renamed";
    default:
      return "modified";
  }
}
