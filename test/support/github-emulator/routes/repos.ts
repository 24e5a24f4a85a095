/** Repository metadata, collaborator permission, single commits and compare. */
import { repoFor } from "../access.ts";
import { type Ctx, HttpError, notFound, paginate, type Reply, type Route } from "../http.ts";
import { commitDiff, threeDotDiff } from "../ops.ts";
import {
  collaboratorPermissionJson,
  commitJson,
  diffEntryJson,
  fullRepoJson,
  repoApi,
  repoWeb,
} from "../shapes.ts";
import { findRepo, type RepoRecord, resolveCommit } from "../state.ts";

const COMPARE_MAX_COMMITS = 250;
const COMPARE_MAX_FILES = 300;

function getRepo(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const caller = ctx.auth.kind === "token" ? ctx.auth.identity.login : undefined;
  return { body: fullRepoJson(ctx, repo, caller) };
}

function getPermission(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  return { body: collaboratorPermissionJson(ctx, repo, ctx.params.user ?? "") };
}

function commitOr422(ctx: Ctx, repo: RepoRecord, ref: string): string {
  const sha = resolveCommit(ctx.state, repo, ref);
  if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  return sha;
}

function getCommit(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const sha = commitOr422(ctx, repo, ctx.params.ref ?? "");
  const parent = ctx.state.store.commit(sha)?.parents[0];
  const files = commitDiff(ctx.state, parent, sha);
  const additions = files.reduce((n, f) => n + f.additions, 0);
  const deletions = files.reduce((n, f) => n + f.deletions, 0);
  return {
    body: {
      ...commitJson(ctx, repo, sha),
      stats: { additions, deletions, total: additions + deletions },
      files: files.map((f) => diffEntryJson(ctx, repo, sha, f)),
    },
  };
}

/**
 * `GET /repos/{owner}/{repo}/commits?sha=&path=`: newest first (by committer date, as GitHub
 * orders them), only commits that changed `path` against their first parent when it is given.
 */
function listCommits(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const start = resolveCommit(ctx.state, repo, ctx.query.get("sha") ?? `refs/heads/${repo.defaultBranch}`);
  if (!start) throw new HttpError(404, "No commit found for SHA");
  const { store } = ctx.state;
  const path = ctx.query.get("path");
  const blobAt = (sha: string | undefined) => {
    const tree = sha ? store.commit(sha)?.tree : undefined;
    return tree ? store.lookup(tree, path ?? "")?.sha : undefined;
  };
  const shas = store
    .log(start)
    .reverse()
    .filter((sha) => path === null || blobAt(sha) !== blobAt(store.commit(sha)?.parents[0]));
  const { items, headers } = paginate(ctx, shas);
  return { body: items.map((sha) => commitJson(ctx, repo, sha)), headers };
}

/** One side of `base...head`: a ref or sha, optionally `owner:ref` for a fork with the same name. */
function compareSide(ctx: Ctx, repo: RepoRecord, side: string): string {
  const colon = side.indexOf(":");
  const target = colon > 0 ? findRepo(ctx.state, side.slice(0, colon), repo.name) : repo;
  const sha = target && resolveCommit(ctx.state, target, colon > 0 ? side.slice(colon + 1) : side);
  if (!sha) throw notFound();
  return sha;
}

function compareStatus(ahead: number, behind: number, same: boolean): string {
  if (same) return "identical";
  if (behind === 0) return "ahead";
  if (ahead === 0) return "behind";
  return "diverged";
}

function compare(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const spec = ctx.params.spec ?? "";
  const [baseSpec, headSpec, extra] = spec.split("...");
  if (!baseSpec || !headSpec || extra !== undefined) throw notFound();
  const base = compareSide(ctx, repo, baseSpec);
  const head = compareSide(ctx, repo, headSpec);
  const { store } = ctx.state;
  const mergeBase = store.mergeBase(base, head) ?? base;
  const ahead = store.log(head, base);
  const behind = store.log(base, head);
  const web = repoWeb(ctx, repo);
  const short = (sha: string) => `${repo.owner}:${sha.slice(0, 7)}`;
  return {
    body: {
      url: `${repoApi(ctx, repo)}/compare/${spec}`,
      html_url: `${web}/compare/${spec}`,
      permalink_url: `${web}/compare/${short(base)}...${short(head)}`,
      diff_url: `${web}/compare/${spec}.diff`,
      patch_url: `${web}/compare/${spec}.patch`,
      base_commit: commitJson(ctx, repo, base),
      merge_base_commit: commitJson(ctx, repo, mergeBase),
      status: compareStatus(ahead.length, behind.length, base === head),
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits: ahead.slice(0, COMPARE_MAX_COMMITS).map((sha) => commitJson(ctx, repo, sha)),
      files: threeDotDiff(ctx.state, base, head)
        .slice(0, COMPARE_MAX_FILES)
        .map((f) => diffEntryJson(ctx, repo, head, f)),
    },
  };
}

export const repoRoutes: Route[] = [
  { method: "GET", pattern: "/repos/:owner/:repo", handler: getRepo },
  { method: "GET", pattern: "/repos/:owner/:repo/collaborators/:user/permission", handler: getPermission },
  { method: "GET", pattern: "/repos/:owner/:repo/commits", handler: listCommits },
  { method: "GET", pattern: "/repos/:owner/:repo/commits/*ref", handler: getCommit },
  { method: "GET", pattern: "/repos/:owner/:repo/compare/*spec", handler: compare },
];
