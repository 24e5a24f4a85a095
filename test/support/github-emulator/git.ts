/**
 * A content-addressed git object store: blobs, nested trees and commits hashed exactly as git
 * hashes them (`sha1("<type> <size>\0<body>")`), so shas look and behave like real ones.
 */
import { createHash } from "node:crypto";

export interface BlobObject {
  type: "blob";
  content: Buffer;
}

/** One entry of a tree object. `type: "commit"` is a submodule (mode 160000). */
export interface TreeEntry {
  name: string;
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

export interface TreeObject {
  type: "tree";
  entries: TreeEntry[];
}

export interface Signature {
  name: string;
  email: string;
  /** ISO 8601, seconds precision. */
  date: string;
}

export interface CommitObject {
  type: "commit";
  tree: string;
  parents: string[];
  message: string;
  author: Signature;
  committer: Signature;
}

export type GitObject = BlobObject | TreeObject | CommitObject;

/** A leaf of a tree, addressed by its full path (no directories). */
export interface FlatEntry {
  mode: string;
  type: "blob" | "commit";
  sha: string;
}

/** path → leaf: the "tree as a path → blob map" view used for diffs and edits. */
export type FlatTree = Map<string, FlatEntry>;

export const FILE_MODE = "100644";
export const TREE_MODE = "040000";
export const SUBMODULE_MODE = "160000";
export const VALID_MODES = new Set(["100644", "100755", "040000", "160000", "120000"]);

function hashObject(type: string, body: Buffer): string {
  const header = Buffer.from(`${type} ${body.length}\0`);
  return createHash("sha1").update(header).update(body).digest("hex");
}

/** Git orders tree entries by name, comparing a subtree as if its name ended in "/". */
function gitSortKey(entry: TreeEntry): string {
  return entry.type === "tree" ? `${entry.name}/` : entry.name;
}

function compareEntries(a: TreeEntry, b: TreeEntry): number {
  const ka = gitSortKey(a);
  const kb = gitSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function treeBody(entries: TreeEntry[]): Buffer {
  const parts = entries.map((e) => {
    const mode = e.mode === TREE_MODE ? "40000" : e.mode;
    return Buffer.concat([Buffer.from(`${mode} ${e.name}\0`), Buffer.from(e.sha, "hex")]);
  });
  return Buffer.concat(parts);
}

function signatureLine(role: string, s: Signature): string {
  const seconds = Math.floor(Date.parse(s.date) / 1000);
  return `${role} ${s.name} <${s.email}> ${seconds} +0000`;
}

function commitBody(c: Omit<CommitObject, "type">): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`)];
  lines.push(signatureLine("author", c.author), signatureLine("committer", c.committer));
  return Buffer.from(`${lines.join("\n")}\n\n${c.message}`);
}

interface DirNode {
  files: Map<string, FlatEntry>;
  dirs: Map<string, DirNode>;
}

function buildDirTree(flat: FlatTree): DirNode {
  const root: DirNode = { files: new Map(), dirs: new Map() };
  for (const [path, entry] of flat) {
    const segments = path.split("/");
    const fileName = segments.pop() ?? path;
    let node = root;
    for (const segment of segments) {
      let child = node.dirs.get(segment);
      if (!child) {
        child = { files: new Map(), dirs: new Map() };
        node.dirs.set(segment, child);
      }
      node = child;
    }
    node.files.set(fileName, entry);
  }
  return root;
}

export class ObjectStore {
  readonly objects = new Map<string, GitObject>();
  readonly #flatCache = new Map<string, FlatTree>();

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  blob(sha: string): BlobObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "blob" ? o : undefined;
  }

  tree(sha: string): TreeObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "tree" ? o : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "commit" ? o : undefined;
  }

  /** Full sha for a (possibly abbreviated, ≥ 7 hex digits) object name. */
  expand(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(lower)) return undefined;
    if (this.objects.has(lower)) return lower;
    if (lower.length === 40) return undefined;
    for (const sha of this.objects.keys()) if (sha.startsWith(lower)) return sha;
    return undefined;
  }

  writeBlob(content: Buffer): string {
    const sha = hashObject("blob", content);
    if (!this.objects.has(sha)) this.objects.set(sha, { type: "blob", content });
    return sha;
  }

  writeTreeEntries(entries: TreeEntry[]): string {
    const sorted = [...entries].sort(compareEntries);
    const sha = hashObject("tree", treeBody(sorted));
    if (!this.objects.has(sha)) this.objects.set(sha, { type: "tree", entries: sorted });
    return sha;
  }

  /** Writes the nested trees for a flat path map and returns the root tree sha. */
  writeTree(flat: FlatTree): string {
    return this.#writeDir(buildDirTree(flat));
  }

  #writeDir(node: DirNode): string {
    const entries: TreeEntry[] = [];
    for (const [name, file] of node.files)
      entries.push({ name, mode: file.mode, type: file.type, sha: file.sha });
    for (const [name, dir] of node.dirs) {
      entries.push({ name, mode: TREE_MODE, type: "tree", sha: this.#writeDir(dir) });
    }
    return this.writeTreeEntries(entries);
  }

  writeCommit(commit: Omit<CommitObject, "type">): string {
    const sha = hashObject("commit", commitBody(commit));
    if (!this.objects.has(sha)) this.objects.set(sha, { type: "commit", ...commit });
    return sha;
  }

  /** The leaves of a tree keyed by full path. Cached: trees are immutable. */
  flatten(treeSha: string): FlatTree {
    const cached = this.#flatCache.get(treeSha);
    if (cached) return cached;
    const flat: FlatTree = new Map();
    this.#collect(treeSha, "", flat);
    this.#flatCache.set(treeSha, flat);
    return flat;
  }

  #collect(treeSha: string, prefix: string, into: FlatTree): void {
    for (const e of this.tree(treeSha)?.entries ?? []) {
      const path = prefix + e.name;
      if (e.type === "tree") this.#collect(e.sha, `${path}/`, into);
      else into.set(path, { mode: e.mode, type: e.type, sha: e.sha });
    }
  }

  /** The entry at `path` ("" is the root tree itself), walking nested trees. */
  lookup(rootTree: string, path: string): TreeEntry | undefined {
    let current: TreeEntry = { name: "", mode: TREE_MODE, type: "tree", sha: rootTree };
    for (const segment of path.split("/").filter((s) => s !== "")) {
      if (current.type !== "tree") return undefined;
      const next = this.tree(current.sha)?.entries.find((e) => e.name === segment);
      if (!next) return undefined;
      current = next;
    }
    return current;
  }

  /** All commits reachable from `head` (inclusive). */
  ancestors(head: string): Set<string> {
    const seen = new Set<string>();
    const queue = [head];
    while (queue.length > 0) {
      const sha = queue.shift() as string;
      if (seen.has(sha)) continue;
      const commit = this.commit(sha);
      if (!commit) continue;
      seen.add(sha);
      queue.push(...commit.parents);
    }
    return seen;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.ancestors(descendant).has(ancestor);
  }

  /** The nearest common ancestor of `a` and `b` (breadth-first from `b`). */
  mergeBase(a: string, b: string): string | undefined {
    const fromA = this.ancestors(a);
    const queue = [b];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const sha = queue.shift() as string;
      if (seen.has(sha)) continue;
      seen.add(sha);
      if (fromA.has(sha)) return sha;
      queue.push(...(this.commit(sha)?.parents ?? []));
    }
    return undefined;
  }

  /** Commits reachable from `head` but not from `exclude`, parents before children. */
  log(head: string, exclude?: string): string[] {
    const excluded = exclude ? this.ancestors(exclude) : new Set<string>();
    const result: string[] = [];
    const visited = new Set<string>();
    const stack: Array<{ sha: string; expanded: boolean }> = [{ sha: head, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop() as { sha: string; expanded: boolean };
      if (top.expanded) {
        result.push(top.sha);
        continue;
      }
      if (visited.has(top.sha) || excluded.has(top.sha) || !this.commit(top.sha)) continue;
      visited.add(top.sha);
      stack.push({ sha: top.sha, expanded: true });
      for (const parent of this.commit(top.sha)?.parents ?? []) stack.push({ sha: parent, expanded: false });
    }
    return result;
  }
}
