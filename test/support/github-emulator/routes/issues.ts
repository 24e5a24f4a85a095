/** Issue (and pull request) comments, labels and events. */
import { actor, issueFor, repoFor } from "../access.ts";
import {
  type Ctx,
  HttpError,
  isRecord,
  notFound,
  pageReply,
  parseBody,
  pathNumber,
  type Reply,
  type Route,
  validationFailed,
} from "../http.ts";
import { addLabels, issueLabels, removeLabel } from "../ops.ts";
import { commentJson, issueEventJson, labelJson } from "../shapes.ts";
import { type CommentRecord, hasPermission, nextId, now, type RepoRecord } from "../state.ts";

/** GitHub rejects issue comment bodies longer than this many characters. */
export const COMMENT_MAX_CHARS = 65536;

function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function commentBody(ctx: Ctx): string {
  const { body } = parseBody(ctx, "IssueComment", { body: "string" });
  if (body.trim() === "")
    throw validationFailed([{ resource: "IssueComment", field: "body", code: "missing_field" }]);
  if (characters(body) > COMMENT_MAX_CHARS) {
    throw validationFailed([
      {
        resource: "IssueComment",
        code: "custom",
        field: "body",
        message: `body is too long (maximum is ${COMMENT_MAX_CHARS} characters)`,
      },
    ]);
  }
  return body;
}

function issueContext(ctx: Ctx, access: "read" | "write") {
  const repo = repoFor(ctx, access);
  return { repo, issue: issueFor(repo, pathNumber(ctx, "number")) };
}

// ---------------------------------------------------------------------------------------------
// Comments

function listComments(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "read");
  const since = ctx.query.get("since");
  const comments = [...ctx.state.comments.values()].filter(
    (c) =>
      c.repo === repo.fullName && c.issueNumber === issue.number && (since === null || c.updatedAt >= since),
  );
  return pageReply(ctx, comments, (c) => commentJson(ctx, repo, c));
}

function createComment(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "read");
  const user = actor(ctx);
  const body = commentBody(ctx);
  const time = now(ctx.state);
  const comment: CommentRecord = {
    id: nextId(ctx.state),
    repo: repo.fullName,
    issueNumber: issue.number,
    body,
    user: user.login,
    createdAt: time,
    updatedAt: time,
  };
  ctx.state.comments.set(comment.id, comment);
  issue.updatedAt = time;
  return { status: 201, body: commentJson(ctx, repo, comment) };
}

function commentFor(ctx: Ctx, repo: RepoRecord): CommentRecord {
  const comment = ctx.state.comments.get(pathNumber(ctx, "id"));
  if (!comment || comment.repo !== repo.fullName) throw notFound();
  return comment;
}

/** Authors edit their own comments; others need write access (bots have it). */
function checkCanEdit(ctx: Ctx, repo: RepoRecord, comment: CommentRecord): void {
  const user = actor(ctx);
  if (user.login === comment.user || user.type === "Bot") return;
  if (!hasPermission(repo, user.login, "write"))
    throw new HttpError(403, "Resource not accessible by integration");
}

function getComment(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  return { body: commentJson(ctx, repo, commentFor(ctx, repo)) };
}

function updateComment(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const comment = commentFor(ctx, repo);
  checkCanEdit(ctx, repo, comment);
  comment.body = commentBody(ctx);
  comment.updatedAt = now(ctx.state);
  return { body: commentJson(ctx, repo, comment) };
}

function deleteComment(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const comment = commentFor(ctx, repo);
  checkCanEdit(ctx, repo, comment);
  ctx.state.comments.delete(comment.id);
  return { status: 204 };
}

// ---------------------------------------------------------------------------------------------
// Labels and events

/** Accepts `{labels: ["a"]}`, `{labels: [{name: "a"}]}` or a bare `["a"]`, as GitHub does. */
function labelNames(body: unknown): string[] {
  const list = Array.isArray(body) ? body : isRecord(body) ? body.labels : undefined;
  if (!Array.isArray(list))
    throw validationFailed([{ resource: "Label", field: "labels", code: "missing_field" }]);
  return list.map((item) => {
    const name = isRecord(item) ? item.name : item;
    if (typeof name !== "string")
      throw validationFailed([{ resource: "Label", field: "labels", code: "invalid" }]);
    return name;
  });
}

function labelsReply(ctx: Ctx, repo: RepoRecord, names: ReturnType<typeof issueLabels>): Reply {
  return { body: names.map((label) => labelJson(ctx, repo, label)) };
}

function listLabels(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "read");
  return pageReply(ctx, issueLabels(repo, issue), (label) => labelJson(ctx, repo, label));
}

function addLabelsRoute(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "write");
  addLabels(ctx.state, repo, issue, labelNames(ctx.body), actor(ctx).login);
  return labelsReply(ctx, repo, issueLabels(repo, issue));
}

function setLabels(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "write");
  const wanted = labelNames(ctx.body);
  const login = actor(ctx).login;
  const keep = new Set(wanted.map((n) => n.toLowerCase()));
  for (const label of issueLabels(repo, issue)) {
    if (!keep.has(label.name.toLowerCase())) removeLabel(ctx.state, repo, issue, label.name, login);
  }
  addLabels(ctx.state, repo, issue, wanted, login);
  return labelsReply(ctx, repo, issueLabels(repo, issue));
}

function removeLabelRoute(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "write");
  removeLabel(ctx.state, repo, issue, ctx.params.name ?? "", actor(ctx).login);
  return labelsReply(ctx, repo, issueLabels(repo, issue));
}

function listEvents(ctx: Ctx): Reply {
  const { repo, issue } = issueContext(ctx, "read");
  return pageReply(ctx, issue.events, (event) => issueEventJson(ctx, repo, event));
}

export const issueRoutes: Route[] = [
  { method: "GET", pattern: "/repos/:owner/:repo/issues/comments/:id", handler: getComment },
  { method: "PATCH", pattern: "/repos/:owner/:repo/issues/comments/:id", handler: updateComment },
  { method: "DELETE", pattern: "/repos/:owner/:repo/issues/comments/:id", handler: deleteComment },
  { method: "GET", pattern: "/repos/:owner/:repo/issues/:number/comments", handler: listComments },
  { method: "POST", pattern: "/repos/:owner/:repo/issues/:number/comments", handler: createComment },
  { method: "GET", pattern: "/repos/:owner/:repo/issues/:number/labels", handler: listLabels },
  { method: "POST", pattern: "/repos/:owner/:repo/issues/:number/labels", handler: addLabelsRoute },
  { method: "PUT", pattern: "/repos/:owner/:repo/issues/:number/labels", handler: setLabels },
  { method: "DELETE", pattern: "/repos/:owner/:repo/issues/:number/labels/:name", handler: removeLabelRoute },
  { method: "GET", pattern: "/repos/:owner/:repo/issues/:number/events", handler: listEvents },
];
