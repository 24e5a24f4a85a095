/** Pull requests: list, create, get, update, files (max 3,000), commits. */
import { actor, issueFor, repoFor } from "../access.ts";
import { type Ctx, notFound, pageReply, parseBody, pathNumber, type Reply, type Route } from "../http.ts";
import { createPull, pullChanges, refreshPull, requirePull } from "../ops.ts";
import { commitJson, diffEntryJson, pullJson } from "../shapes.ts";
import { findRepo, type IssueRecord, now, type PullFields, type RepoRecord, repoKey } from "../state.ts";

/** GitHub lists at most this many files for a pull request, whatever the pagination. */
export const PULL_FILES_LIMIT = 3000;

function pullFor(ctx: Ctx, access: "read" | "write" = "read") {
  const repo = repoFor(ctx, access);
  const issue = issueFor(repo, pathNumber(ctx, "number"));
  const pull = refreshPull(ctx.state, repo, requirePull(issue));
  return { repo, issue, pull };
}

function getPull(ctx: Ctx): Reply {
  const { repo, issue, pull } = pullFor(ctx);
  return { body: pullJson(ctx, repo, issue, pull) };
}

function listFiles(ctx: Ctx): Reply {
  const { repo, pull } = pullFor(ctx);
  const files = pullChanges(ctx.state, repo, pull).slice(0, PULL_FILES_LIMIT);
  return pageReply(ctx, files, (f) => diffEntryJson(ctx, repo, pull.headSha, f));
}

function listCommits(ctx: Ctx): Reply {
  const { repo, pull } = pullFor(ctx);
  const shas = ctx.state.store.log(pull.headSha, pull.baseSha).slice(0, 250);
  return pageReply(ctx, shas, (sha) => commitJson(ctx, repo, sha));
}

/** `head` filter / create parameter: "branch" or "owner:branch" (a fork with the same repo name). */
function splitHead(ctx: Ctx, repo: RepoRecord, head: string): { repo: RepoRecord | undefined; ref: string } {
  const colon = head.indexOf(":");
  if (colon < 0) return { repo, ref: head };
  return { repo: findRepo(ctx.state, head.slice(0, colon), repo.name), ref: head.slice(colon + 1) };
}

function matchesFilters(ctx: Ctx, repo: RepoRecord, issue: IssueRecord, pull: PullFields): boolean {
  const state = ctx.query.get("state") ?? "open";
  if (state !== "all" && issue.state !== state) return false;
  const base = ctx.query.get("base");
  if (base !== null && pull.baseRef !== base) return false;
  const head = ctx.query.get("head");
  if (head !== null) {
    const wanted = splitHead(ctx, repo, head);
    if (!wanted.repo || repoKey(wanted.repo.owner, wanted.repo.name) !== pull.headRepo) return false;
    if (pull.headRef !== wanted.ref) return false;
  }
  return true;
}

function listPulls(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const pulls = [...repo.issues.values()].flatMap((issue) =>
    issue.pull && matchesFilters(ctx, repo, issue, issue.pull) ? [{ issue, pull: issue.pull }] : [],
  );
  const ascending = ctx.query.get("direction") === "asc";
  pulls.sort((a, b) => (ascending ? a.issue.number - b.issue.number : b.issue.number - a.issue.number));
  return pageReply(ctx, pulls, ({ issue, pull }) =>
    pullJson(ctx, repo, issue, refreshPull(ctx.state, repo, pull)),
  );
}

function createPullRoute(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const user = actor(ctx);
  const body = parseBody(ctx, "PullRequest", {
    title: "string",
    head: "string",
    base: "string",
    body: "string|null?",
    draft: "boolean?",
    maintainer_can_modify: "boolean?",
  });
  const head = splitHead(ctx, repo, body.head);
  if (!head.repo) throw notFound();
  const issue = createPull(ctx.state, repo, {
    base: body.base,
    head: head.ref,
    headRepo: head.repo,
    title: body.title,
    body: body.body ?? null,
    user: user.login,
    draft: body.draft ?? false,
  });
  return { status: 201, body: pullJson(ctx, repo, issue, requirePull(issue)) };
}

function updatePull(ctx: Ctx): Reply {
  const { repo, issue, pull } = pullFor(ctx, "write");
  const body = parseBody(ctx, "PullRequest", {
    title: "string?",
    body: "string|null?",
    state: "string?",
    base: "string?",
  });
  if (body.title !== undefined) issue.title = body.title;
  if (body.body !== undefined) issue.body = body.body;
  if (body.base !== undefined) pull.baseRef = body.base;
  if (body.state === "open" || body.state === "closed") {
    issue.state = body.state;
    issue.closedAt = body.state === "closed" ? now(ctx.state) : null;
  }
  issue.updatedAt = now(ctx.state);
  return { body: pullJson(ctx, repo, issue, refreshPull(ctx.state, repo, pull)) };
}

export const pullRoutes: Route[] = [
  { method: "GET", pattern: "/repos/:owner/:repo/pulls", handler: listPulls },
  { method: "POST", pattern: "/repos/:owner/:repo/pulls", handler: createPullRoute },
  { method: "GET", pattern: "/repos/:owner/:repo/pulls/:number", handler: getPull },
  { method: "PATCH", pattern: "/repos/:owner/:repo/pulls/:number", handler: updatePull },
  { method: "GET", pattern: "/repos/:owner/:repo/pulls/:number/files", handler: listFiles },
  { method: "GET", pattern: "/repos/:owner/:repo/pulls/:number/commits", handler: listCommits },
];
