import { CHECK_NAMES, EVIDENCE_OPEN } from "../core/protocol.ts";
import { type EvidenceCandidate, type EvidenceKind, isEvidenceComment } from "../core/rollout/evidence.ts";
import { type GitHub, httpStatus, type RepoRef } from "./client.ts";

/**
 * The GitHub reads and writes of the rollout handlers that `src/github` has no helper for:
 * evidence candidates, commits through the git data API, and the rollback branch and PR.
 */

const PAGE = 100;
const MAX_PAGES = 30;

/**
 * Every comment and check run that may carry eval or rehearsal evidence for `sha`, by kind.
 * Trust is decided later (`pickEvidence`); here only the author GitHub reports is recorded.
 */
export async function evidenceCandidates(
  gh: GitHub,
  repo: RepoRef,
  at: { issue_number: number; sha: string },
): Promise<Record<EvidenceKind, EvidenceCandidate[]>> {
  const out: Record<EvidenceKind, EvidenceCandidate[]> = { eval: [], rehearsal: [] };
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...repo,
      issue_number: at.issue_number,
      per_page: PAGE,
      page,
    });
    for (const comment of data) {
      const body = comment.body ?? "";
      for (const kind of ["eval", "rehearsal"] as const) {
        if (!isEvidenceComment(body, kind)) continue;
        out[kind].push({
          origin: "comment",
          id: Number(comment.id),
          author: comment.user?.login ?? "",
          updated_at: comment.updated_at,
          html_url: comment.html_url,
          text: body,
        });
      }
    }
    if (data.length < PAGE) break;
  }
  for (let page = 1; page <= 10; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repo,
      ref: at.sha,
      filter: "all",
      per_page: PAGE,
      page,
    });
    for (const run of data.check_runs) {
      const kind =
        run.name === CHECK_NAMES.eval ? "eval" : run.name === CHECK_NAMES.rehearsal ? "rehearsal" : undefined;
      if (!kind || run.head_sha !== at.sha) continue;
      const summary = run.output.summary ?? "";
      out[kind].push({
        origin: "check_run",
        id: Number(run.id),
        // Only a GitHub App can create a check run, so its app is who wrote it.
        author: run.app?.slug ? `${run.app.slug}[bot]` : "",
        updated_at: run.completed_at ?? run.started_at ?? "",
        html_url: run.html_url ?? undefined,
        text: summary.includes(EVIDENCE_OPEN) ? summary : (run.output.text ?? summary),
      });
    }
    if (data.check_runs.length < PAGE) break;
  }
  return out;
}

export interface GitCommit {
  sha: string;
  message: string;
  parents: string[];
  tree: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
}

export async function getGitCommit(gh: GitHub, repo: RepoRef, sha: string): Promise<GitCommit> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
    ...repo,
    commit_sha: sha,
  });
  return {
    sha: data.sha,
    message: data.message,
    parents: data.parents.map((p) => p.sha),
    tree: data.tree.sha,
    author: { name: data.author.name, email: data.author.email },
    committer: { name: data.committer.name, email: data.committer.email },
  };
}

/** A new commit on top of `parent` that replaces one file's text. Nothing points at it yet. */
export async function commitFile(
  gh: GitHub,
  repo: RepoRef,
  change: { parent: string; path: string; text: string; message: string },
): Promise<string> {
  const parent = await getGitCommit(gh, repo, change.parent);
  const tree = await gh.request("POST /repos/{owner}/{repo}/git/trees", {
    ...repo,
    base_tree: parent.tree,
    tree: [{ path: change.path, mode: "100644", type: "blob", content: change.text }],
  });
  const commit = await gh.request("POST /repos/{owner}/{repo}/git/commits", {
    ...repo,
    message: change.message,
    tree: tree.data.sha,
    parents: [parent.sha],
  });
  return commit.data.sha;
}

/**
 * Moves `branch` to `sha` only as a fast-forward: a push that landed after the commit the App
 * built on makes GitHub answer 422, and the App never overwrites it. Returns false then.
 */
export async function fastForward(gh: GitHub, repo: RepoRef, branch: string, sha: string): Promise<boolean> {
  try {
    await gh.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      ...repo,
      ref: `heads/${branch}`,
      sha,
      force: false,
    });
    return true;
  } catch (error) {
    if (httpStatus(error) === 422) return false;
    throw error;
  }
}

/** The commit a branch points at, or undefined when there is no such branch. */
export async function branchSha(gh: GitHub, repo: RepoRef, branch: string): Promise<string | undefined> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      ...repo,
      ref: `heads/${branch}`,
    });
    return data.object.sha;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Points `branch` at `sha`, creating it, or resetting a stale one left by a closed rollback PR. */
export async function setBranch(gh: GitHub, repo: RepoRef, branch: string, sha: string): Promise<void> {
  try {
    await gh.request("POST /repos/{owner}/{repo}/git/refs", { ...repo, ref: `refs/heads/${branch}`, sha });
  } catch (error) {
    if (httpStatus(error) !== 422) throw error;
    await gh.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
      ...repo,
      ref: `heads/${branch}`,
      sha,
      force: true,
    });
  }
}

export interface OpenPull {
  number: number;
  html_url: string;
}

/** The open PR from `branch` (of this repository) into `base`, if any. */
export async function openPullFrom(
  gh: GitHub,
  repo: RepoRef,
  branch: string,
  base: string,
): Promise<OpenPull | undefined> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls", {
    ...repo,
    state: "open",
    head: `${repo.owner}:${branch}`,
    base,
    per_page: 10,
  });
  const pull = data[0];
  return pull ? { number: pull.number, html_url: pull.html_url } : undefined;
}

export async function createPull(
  gh: GitHub,
  repo: RepoRef,
  spec: { title: string; head: string; base: string; body: string },
): Promise<OpenPull> {
  const { data } = await gh.request("POST /repos/{owner}/{repo}/pulls", { ...repo, ...spec });
  return { number: data.number, html_url: data.html_url };
}

export async function addLabels(
  gh: GitHub,
  repo: RepoRef,
  issue_number: number,
  labels: string[],
): Promise<void> {
  await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", {
    ...repo,
    issue_number,
    labels,
  });
}

/** The labels an issue or PR carries now (a webhook payload can be stale). */
export async function currentLabels(gh: GitHub, repo: RepoRef, issue_number: number): Promise<string[]> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/{issue_number}/labels", {
    ...repo,
    issue_number,
    per_page: 100,
  });
  return data.map((label) => label.name);
}
