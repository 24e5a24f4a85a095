/** `/repos/{owner}/{repo}/contents/{path}`: read (JSON or raw), create/update and delete files. */
import { actor, repoFor } from "../access.ts";
import type { Signature } from "../git.ts";
import {
  type Ctx,
  HttpError,
  invalid,
  isRecord,
  notFound,
  parseBody,
  type Reply,
  type Route,
} from "../http.ts";
import { branchHead, commitFiles, identitySignature, signature, treeOf } from "../ops.ts";
import { contentEntryJson, contentFileJson, gitCommitJson } from "../shapes.ts";
import { type RepoRecord, resolveCommit } from "../state.ts";

const RAW_ACCEPT = /application\/vnd\.github(\.v3)?\.raw/;

function cleanPath(ctx: Ctx): string {
  return (ctx.params.path ?? "").replace(/^\/+|\/+$/g, "");
}

function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function rawReply(content: Buffer): Reply {
  const text = !content.includes(0) && Buffer.from(content.toString("utf8"), "utf8").equals(content);
  const contentType = text ? "application/vnd.github.raw; charset=utf-8" : "application/vnd.github.raw";
  return { raw: { data: content, contentType } };
}

function getContents(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const requested = ctx.query.get("ref");
  const ref = requested ?? repo.defaultBranch;
  const sha = resolveCommit(ctx.state, repo, ref);
  if (!sha)
    throw new HttpError(404, requested ? `No commit found for the ref ${ref}` : "This repository is empty.");
  const path = cleanPath(ctx);
  const { store } = ctx.state;
  const entry = store.lookup(treeOf(ctx.state, sha), path);
  if (!entry) throw notFound();
  if (entry.type === "tree") {
    const children = store.tree(entry.sha)?.entries ?? [];
    return {
      body: children.map((child) => contentEntryJson(ctx, repo, joinPath(path, child.name), ref, child)),
    };
  }
  const blob = store.blob(entry.sha);
  if (blob && RAW_ACCEPT.test(String(ctx.headers.accept ?? ""))) return rawReply(blob.content);
  return { body: contentFileJson(ctx, repo, path, ref, entry) };
}

function signatureFrom(ctx: Ctx, person: Record<string, unknown> | undefined): Signature {
  if (!person) return identitySignature(ctx.state, actor(ctx));
  const { name, email } = person;
  if (typeof name !== "string" || typeof email !== "string") {
    throw invalid("Commit", "committer", "name and email are required");
  }
  return signature(ctx.state, name, email);
}

function decodeBase64(content: string): Buffer {
  const compact = content.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    throw invalid("Contents", "content", "content is not valid Base64");
  return Buffer.from(compact, "base64");
}

/** The branch a write targets; it must exist unless the repository is still empty. */
function targetBranch(
  repo: RepoRecord,
  branch: string | undefined,
): { name: string; head: string | undefined } {
  const name = branch ?? repo.defaultBranch;
  const head = branchHead(repo, name);
  if (!head && repo.refs.size > 0) throw new HttpError(404, `Branch ${name} not found`);
  return { name, head };
}

/** The blob sha currently at `path` on `head`, checked against the caller's `sha`. */
function checkCurrentSha(ctx: Ctx, head: string | undefined, path: string, given: string | undefined) {
  const current = head ? ctx.state.store.lookup(treeOf(ctx.state, head), path) : undefined;
  if (current?.type === "tree") throw invalid("Contents", "path", `${path} is a directory`);
  if (current && given === undefined) throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
  if (current && given !== current.sha) throw new HttpError(409, `${path} does not match ${given}`);
  return current;
}

function putContents(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Contents", {
    message: "string",
    content: "string",
    sha: "string?",
    branch: "string?",
    committer: "object?",
    author: "object?",
  });
  const path = cleanPath(ctx);
  if (path === "") throw notFound();
  const branch = targetBranch(repo, body.branch);
  const existing = checkCurrentSha(ctx, branch.head, path, body.sha);
  const author = signatureFrom(ctx, isRecord(body.author) ? body.author : body.committer);
  const files = new Map([[path, decodeBase64(body.content)]]);
  const sha = commitFiles(ctx.state, repo, branch.name, files, body.message, author);
  const entry = ctx.state.store.lookup(treeOf(ctx.state, sha), path);
  if (!entry) throw new Error("github-emulator: committed file is missing");
  return {
    status: existing ? 200 : 201,
    body: {
      content: contentEntryJson(ctx, repo, path, branch.name, entry),
      commit: gitCommitJson(ctx, repo, sha),
    },
  };
}

function deleteContents(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Contents", {
    message: "string",
    sha: "string",
    branch: "string?",
    committer: "object?",
    author: "object?",
  });
  const path = cleanPath(ctx);
  const branch = targetBranch(repo, body.branch);
  if (!checkCurrentSha(ctx, branch.head, path, body.sha)) throw notFound();
  const author = signatureFrom(ctx, isRecord(body.author) ? body.author : body.committer);
  const sha = commitFiles(ctx.state, repo, branch.name, new Map([[path, null]]), body.message, author);
  return { body: { content: null, commit: gitCommitJson(ctx, repo, sha) } };
}

export const contentRoutes: Route[] = [
  { method: "GET", pattern: "/repos/:owner/:repo/contents", handler: getContents },
  { method: "GET", pattern: "/repos/:owner/:repo/contents/*path", handler: getContents },
  { method: "PUT", pattern: "/repos/:owner/:repo/contents/*path", handler: putContents },
  { method: "DELETE", pattern: "/repos/:owner/:repo/contents/*path", handler: deleteContents },
];
