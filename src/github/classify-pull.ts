import type { Classification } from "../core/classify/classify.ts";
import { classifySides } from "../core/classify/classify-sides.ts";
import type { Config } from "../core/config/schema.ts";
import type { GitHub, RepoRef } from "./client.ts";
import { readFilesAt } from "./contents.ts";
import { listPullFiles } from "./pull-files.ts";
import { mergeBase, type PullRequestState } from "./pulls.ts";

/** A PR's change classified by a policy; contents are read only for structured files. */
export async function classifyPull(
  gh: GitHub,
  repo: RepoRef,
  pr: PullRequestState,
  config: Config,
): Promise<Classification> {
  const files = await listPullFiles(gh, { ...repo, pull_number: pr.number, changed_files: pr.changed_files });
  return classifySides(config, {
    changes: files.changes,
    truncated: files.truncated,
    // GitHub's file list is base...head, so the base side is the merge base (asked only when needed).
    readBase: async (paths) =>
      readFilesAt(
        gh,
        { ...repo, ref: await mergeBase(gh, { ...repo, base: pr.base_sha, head: pr.head_sha }) },
        paths,
      ),
    readHead: (paths) => readFilesAt(gh, { ...repo, ref: pr.head_sha }, paths),
  });
}
