import type { TreeSource } from "../core/source.ts";
import { type GitHub, type Limiter, limiter, mapLimit, type RepoRef } from "./client.ts";

/**
 * What the sources of one run share. Blob texts by blob SHA: a file that is the same on both
 * sides (most of them) is fetched once, and a file read twice (classification, then the eval)
 * is fetched once; `null` marks a binary blob. Tree levels by tree SHA: a directory that is the
 * same on both sides is listed once by the walk of a truncated tree. And one limit on the
 * walk's requests in flight, however many levels and sides walk at once.
 */
export interface BlobStore {
  blobs: Map<string, Promise<string | null>>;
  trees: Map<string, Promise<TreeResponse>>;
  walkLimit: Limiter;
}

/** Tree requests in flight at once for all walks sharing a store (GitHub asks for few). */
export const WALK_CONCURRENCY = 8;

export function blobStore(walkConcurrency = WALK_CONCURRENCY): BlobStore {
  return { blobs: new Map(), trees: new Map(), walkLimit: limiter(walkConcurrency) };
}

export interface RestTreeOptions {
  side: "base" | "head";
  /** Shared between the two sides of a run; default: one of its own. */
  blobs?: BlobStore;
  /** Requests in flight at once (default 8: GitHub asks integrators not to fan out wider). */
  concurrency?: number;
}

interface TreeEntry {
  path: string;
  type: string;
  sha: string;
}

export interface TreeResponse {
  tree: TreeEntry[];
  truncated: boolean;
}

/**
 * One commit of a GitHub repository as a side of the comparison, read through REST only, so
 * the Action works with the default shallow `actions/checkout` (the base commit is not on disk)
 * and never executes anything from the PR: files are data. The file list comes from one
 * recursive git tree request; contents from the blobs API by SHA.
 */
export function restTreeSource(gh: GitHub, repo: RepoRef, sha: string, options: RestTreeOptions): TreeSource {
  const store = options.blobs ?? blobStore();
  const blobs = store.blobs;
  const concurrency = options.concurrency ?? 8;
  let tree: Promise<Map<string, string>> | undefined;
  const files = () => {
    tree ??= listTree(gh, repo, sha, store);
    return tree;
  };
  const blob = (blobSha: string): Promise<string | null> => {
    let text = blobs.get(blobSha);
    if (!text) {
      text = readBlob(gh, repo, blobSha);
      // A failed read is not cached: the next caller tries again.
      text.catch(() => blobs.delete(blobSha));
      blobs.set(blobSha, text);
    }
    return text;
  };
  return {
    label: `${options.side} ${sha.slice(0, 7)}`,
    async listFiles() {
      return [...(await files()).keys()];
    },
    async readFiles(paths) {
      const byPath = await files();
      const unique = [...new Set(paths)];
      const texts = await mapLimit(unique, concurrency, async (path) => {
        const blobSha = byPath.get(path);
        return blobSha ? blob(blobSha) : null;
      });
      return new Map(unique.map((path, i) => [path, texts[i] ?? null]));
    },
  };
}

/** Path → blob SHA of every file (symlinks and submodules excluded). */
async function listTree(
  gh: GitHub,
  repo: RepoRef,
  sha: string,
  store: BlobStore,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const { data } = await gh.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    ...repo,
    tree_sha: sha,
    recursive: "1",
  });
  const response = data as TreeResponse;
  if (!response.truncated) {
    for (const entry of response.tree) if (isFile(entry)) files.set(entry.path, entry.sha);
    return files;
  }
  // Past GitHub's limit (100,000 entries or 7 MB) the recursive listing is cut off: walk the
  // tree level by level instead, which is never truncated for one directory. Only the request
  // waits for the shared limit (not the recursion, which would deadlock on deep trees), and a
  // level already listed, on this side or the other, is not asked for again.
  const level = (treeSha: string): Promise<TreeResponse> => {
    let listed = store.trees.get(treeSha);
    if (!listed) {
      listed = store.walkLimit(async () => {
        const { data } = await gh.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
          ...repo,
          tree_sha: treeSha,
        });
        return data as TreeResponse;
      });
      // A failed read is not cached: the next caller tries again.
      listed.catch(() => store.trees.delete(treeSha));
      store.trees.set(treeSha, listed);
    }
    return listed;
  };
  const walk = async (treeSha: string, prefix: string): Promise<void> => {
    const subtrees: Array<Promise<void>> = [];
    for (const entry of (await level(treeSha)).tree) {
      const path = `${prefix}${entry.path}`;
      if (isFile(entry)) files.set(path, entry.sha);
      else if (entry.type === "tree") subtrees.push(walk(entry.sha, `${path}/`));
    }
    await Promise.all(subtrees);
  };
  await walk(sha, "");
  return files;
}

function isFile(entry: TreeEntry): boolean {
  return entry.type === "blob";
}

async function readBlob(gh: GitHub, repo: RepoRef, sha: string): Promise<string | null> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
    ...repo,
    file_sha: sha,
  });
  const bytes =
    data.encoding === "base64" ? Buffer.from(data.content, "base64") : Buffer.from(data.content, "utf8");
  if (bytes.includes(0)) return null;
  return new TextDecoder("utf-8").decode(bytes);
}
