/** Git data API: refs, commits, trees, blobs. */
import { actor, repoFor } from "../access.ts";
import { type FlatTree, type Signature, VALID_MODES } from "../git.ts";
import {
  type Ctx,
  HttpError,
  invalid,
  notFound,
  parseBody,
  parseFields,
  type Reply,
  type Route,
} from "../http.ts";
import { identitySignature, signature } from "../ops.ts";
import { gitCommitJson, refJson, repoApi, treeEntryJson } from "../shapes.ts";
import { now, type RepoRecord, resolveCommit } from "../state.ts";

function fullRef(ctx: Ctx): string {
  return `refs/${(ctx.params.ref ?? "").replace(/^refs\//, "")}`;
}

function commitSha(ctx: Ctx, value: string): string | undefined {
  const sha = ctx.state.store.expand(value);
  return sha && ctx.state.store.commit(sha) ? sha : undefined;
}

// ---------------------------------------------------------------------------------------------
// Refs

function getRef(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const ref = fullRef(ctx);
  const sha = repo.refs.get(ref);
  if (!sha) throw notFound();
  return { body: refJson(ctx, repo, ref, sha) };
}

function refsWithPrefix(ctx: Ctx, repo: RepoRecord, prefix: string) {
  return [...repo.refs.entries()]
    .filter(([name]) => name.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, sha]) => refJson(ctx, repo, name, sha));
}

function matchingRefs(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  return { body: refsWithPrefix(ctx, repo, fullRef(ctx)) };
}

/** The legacy `GET /git/refs/{ref}`: one ref when exact, else the refs it prefixes. */
function getRefsLegacy(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const ref = fullRef(ctx);
  const exact = repo.refs.get(ref);
  if (exact) return { body: refJson(ctx, repo, ref, exact) };
  const matches = refsWithPrefix(ctx, repo, `${ref}/`);
  if (matches.length === 0) throw notFound();
  return { body: matches };
}

function createRef(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Reference", { ref: "string", sha: "string" });
  if (!/^refs\/[^/]+\/.+/.test(body.ref)) throw new HttpError(422, "Reference name is invalid");
  const sha = commitSha(ctx, body.sha);
  if (!sha) throw new HttpError(422, "Object does not exist");
  if (repo.refs.has(body.ref)) throw new HttpError(422, "Reference already exists");
  repo.refs.set(body.ref, sha);
  return { status: 201, body: refJson(ctx, repo, body.ref, sha) };
}

function updateRef(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Reference", { sha: "string", force: "boolean?" });
  const ref = fullRef(ctx);
  const current = repo.refs.get(ref);
  if (!current) throw new HttpError(422, "Reference does not exist");
  const sha = commitSha(ctx, body.sha);
  if (!sha) throw new HttpError(422, "Object does not exist");
  if (!body.force && !ctx.state.store.isAncestor(current, sha)) {
    throw new HttpError(422, "Update is not a fast forward");
  }
  repo.refs.set(ref, sha);
  repo.pushedAt = now(ctx.state);
  return { body: refJson(ctx, repo, ref, sha) };
}

function deleteRef(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const ref = fullRef(ctx);
  if (!repo.refs.delete(ref)) throw new HttpError(422, "Reference does not exist");
  return { status: 204 };
}

// ---------------------------------------------------------------------------------------------
// Commits

function getGitCommit(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const sha = commitSha(ctx, ctx.params.sha ?? "");
  if (!sha) throw notFound();
  return { body: gitCommitJson(ctx, repo, sha) };
}

function person(ctx: Ctx, value: Record<string, unknown> | undefined): Signature | undefined {
  if (!value) return undefined;
  const p = parseFields(value, "Commit", { name: "string", email: "string", date: "string?" });
  return p.date ? { name: p.name, email: p.email, date: p.date } : signature(ctx.state, p.name, p.email);
}

function createGitCommit(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Commit", {
    message: "string",
    tree: "string",
    parents: "array?",
    author: "object?",
    committer: "object?",
  });
  const { store } = ctx.state;
  if (!store.tree(body.tree)) throw new HttpError(422, "Tree SHA does not exist");
  const parents = (body.parents ?? []).map((p) => {
    const sha = typeof p === "string" ? commitSha(ctx, p) : undefined;
    if (!sha) throw new HttpError(422, "Parent SHA does not exist or is not a commit object");
    return sha;
  });
  const author = person(ctx, body.author) ?? identitySignature(ctx.state, actor(ctx));
  const committer = person(ctx, body.committer) ?? author;
  const sha = store.writeCommit({ tree: body.tree, parents, message: body.message, author, committer });
  return { status: 201, body: gitCommitJson(ctx, repo, sha) };
}

// ---------------------------------------------------------------------------------------------
// Trees

/** A tree sha for a tree sha, a commit sha, or a ref name (as GitHub accepts). */
function treeSha(ctx: Ctx, repo: RepoRecord, value: string): string | undefined {
  const { store } = ctx.state;
  const sha = store.expand(value);
  if (sha && store.tree(sha)) return sha;
  const commit = resolveCommit(ctx.state, repo, value);
  return commit ? store.commit(commit)?.tree : undefined;
}

function walk(ctx: Ctx, repo: RepoRecord, sha: string, prefix: string, recursive: boolean): unknown[] {
  const entries = ctx.state.store.tree(sha)?.entries ?? [];
  return entries.flatMap((entry) => {
    const path = prefix + entry.name;
    const own = treeEntryJson(ctx, repo, path, entry);
    return recursive && entry.type === "tree"
      ? [own, ...walk(ctx, repo, entry.sha, `${path}/`, true)]
      : [own];
  });
}

function treeReply(ctx: Ctx, repo: RepoRecord, sha: string, recursive: boolean, status = 200): Reply {
  const tree = walk(ctx, repo, sha, "", recursive);
  const limit = ctx.state.treeEntryLimit;
  const truncated = recursive && limit !== undefined && tree.length > limit;
  return {
    status,
    body: {
      sha,
      url: `${repoApi(ctx, repo)}/git/trees/${sha}`,
      tree: truncated ? tree.slice(0, limit) : tree,
      truncated,
    },
  };
}

function getTree(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const sha = treeSha(ctx, repo, ctx.params.sha ?? "");
  if (!sha) throw notFound();
  return treeReply(ctx, repo, sha, ctx.query.has("recursive"));
}

function removePath(flat: FlatTree, path: string): void {
  flat.delete(path);
  for (const p of [...flat.keys()]) if (p.startsWith(`${path}/`)) flat.delete(p);
}

/** Drops files that sit where a directory of `path` must go ("a" when writing "a/b"). */
function clearAncestors(flat: FlatTree, path: string): void {
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) flat.delete(segments.slice(0, i).join("/"));
}

function applyTreeItem(ctx: Ctx, flat: FlatTree, item: unknown): void {
  const spec = parseFields(item, "Tree", {
    path: "string",
    mode: "string",
    type: "string",
    sha: "string|null?",
    content: "string?",
  });
  const path = spec.path.replace(/^\/+|\/+$/g, "");
  const { store } = ctx.state;
  if (!VALID_MODES.has(spec.mode)) throw invalid("Tree", "mode", `${spec.mode} is not a valid mode`);
  if (spec.type !== "blob" && spec.type !== "tree" && spec.type !== "commit") {
    throw invalid("Tree", "type", `${spec.type} is not a valid type`);
  }
  removePath(flat, path);
  if (spec.sha === null) return;
  clearAncestors(flat, path);
  if (spec.content !== undefined) {
    if (spec.type !== "blob") throw invalid("Tree", "content", "content can only be given for blobs");
    flat.set(path, {
      mode: spec.mode,
      type: "blob",
      sha: store.writeBlob(Buffer.from(spec.content, "utf8")),
    });
    return;
  }
  if (spec.sha === undefined) throw invalid("Tree", "sha", "either sha or content is required");
  if (spec.type === "tree") {
    if (!store.tree(spec.sha)) throw invalid("Tree", "sha", `${spec.sha} is not a tree`);
    for (const [sub, entry] of store.flatten(spec.sha)) flat.set(`${path}/${sub}`, entry);
    return;
  }
  if (spec.type === "blob" && !store.blob(spec.sha))
    throw invalid("Tree", "sha", `${spec.sha} is not a blob`);
  flat.set(path, { mode: spec.mode, type: spec.type, sha: spec.sha });
}

function createTree(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Tree", { tree: "array", base_tree: "string?" });
  let flat: FlatTree = new Map();
  if (body.base_tree !== undefined) {
    const base = treeSha(ctx, repo, body.base_tree);
    if (!base) throw invalid("Tree", "base_tree", `${body.base_tree} is not a valid tree`);
    flat = new Map(ctx.state.store.flatten(base));
  }
  for (const item of body.tree) applyTreeItem(ctx, flat, item);
  return treeReply(ctx, repo, ctx.state.store.writeTree(flat), false, 201);
}

// ---------------------------------------------------------------------------------------------
// Blobs

function createBlob(ctx: Ctx): Reply {
  const repo = repoFor(ctx, "write");
  const body = parseBody(ctx, "Blob", { content: "string", encoding: "string?" });
  const encoding = body.encoding ?? "utf-8";
  if (encoding !== "utf-8" && encoding !== "utf8" && encoding !== "base64") {
    throw invalid("Blob", "encoding", `${encoding} is not a supported encoding`);
  }
  const data = Buffer.from(body.content, encoding === "base64" ? "base64" : "utf8");
  const sha = ctx.state.store.writeBlob(data);
  return { status: 201, body: { sha, url: `${repoApi(ctx, repo)}/git/blobs/${sha}` } };
}

function getBlob(ctx: Ctx): Reply {
  const repo = repoFor(ctx);
  const sha = ctx.state.store.expand(ctx.params.sha ?? "");
  const blob = sha ? ctx.state.store.blob(sha) : undefined;
  if (!sha || !blob) throw notFound();
  return {
    body: {
      sha,
      node_id: Buffer.from(`Blob:${sha}`).toString("base64"),
      size: blob.content.length,
      url: `${repoApi(ctx, repo)}/git/blobs/${sha}`,
      content: blob.content.toString("base64"),
      encoding: "base64",
    },
  };
}

export const gitRoutes: Route[] = [
  { method: "GET", pattern: "/repos/:owner/:repo/git/ref/*ref", handler: getRef },
  { method: "GET", pattern: "/repos/:owner/:repo/git/matching-refs/*ref", handler: matchingRefs },
  { method: "GET", pattern: "/repos/:owner/:repo/git/refs/*ref", handler: getRefsLegacy },
  { method: "POST", pattern: "/repos/:owner/:repo/git/refs", handler: createRef },
  { method: "PATCH", pattern: "/repos/:owner/:repo/git/refs/*ref", handler: updateRef },
  { method: "DELETE", pattern: "/repos/:owner/:repo/git/refs/*ref", handler: deleteRef },
  { method: "GET", pattern: "/repos/:owner/:repo/git/commits/:sha", handler: getGitCommit },
  { method: "POST", pattern: "/repos/:owner/:repo/git/commits", handler: createGitCommit },
  { method: "GET", pattern: "/repos/:owner/:repo/git/trees/*sha", handler: getTree },
  { method: "POST", pattern: "/repos/:owner/:repo/git/trees", handler: createTree },
  { method: "GET", pattern: "/repos/:owner/:repo/git/blobs/:sha", handler: getBlob },
  { method: "POST", pattern: "/repos/:owner/:repo/git/blobs", handler: createBlob },
];
