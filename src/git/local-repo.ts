import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { ChangedPath, FileStatus } from "../core/classify/classify.ts";
import { RepoError, UserError } from "../core/errors.ts";
import { ownGet } from "../core/own.ts";
import { hasControlCharacter } from "../core/repo-path.ts";

const run = promisify(execFile);

/** A local git repository, read through the `git` binary (never the work tree). */
export interface LocalRepo {
  dir: string;
  /** Full commit SHA of a revision; RepoError when unknown. */
  resolve(ref: string): Promise<string>;
  changedPaths(base: string, head: string): Promise<ChangedPath[]>;
  /** Text of files at a commit; `null` for missing or binary files. One `git` process for all of them. */
  readFiles(commit: string, paths: readonly string[]): Promise<Map<string, string | null>>;
  listFiles(commit: string): Promise<string[]>;
}

export async function openLocalRepo(dir: string): Promise<LocalRepo> {
  try {
    await git(dir, ["rev-parse", "--git-dir"]);
  } catch {
    throw new RepoError(`${dir} is not a git repository (or git is not installed)`);
  }
  // One tree listing per commit: path -> object id, so blobs are read by id, never by `rev:path`.
  const trees = new Map<string, Promise<Map<string, TreeEntry>>>();
  const treeOf = (commit: string) => {
    let tree = trees.get(commit);
    if (!tree) {
      tree = listTree(dir, commit);
      trees.set(commit, tree);
    }
    return tree;
  };
  return {
    dir,
    async resolve(ref) {
      try {
        return (await git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
      } catch {
        throw new RepoError(`unknown revision '${ref}' in ${dir}`);
      }
    },
    async changedPaths(base, head) {
      const changes = parseNameStatus(
        await git(dir, ["diff", "--name-status", "-z", "-M", "--no-ext-diff", base, head]),
      );
      for (const change of changes) {
        assertPlainPath(change.path);
        if (change.previous_path) assertPlainPath(change.previous_path);
      }
      return changes;
    },
    async readFiles(commit, paths) {
      for (const path of paths) assertPlainPath(path);
      const tree = await treeOf(commit);
      return catBlobs(dir, paths, tree);
    },
    async listFiles(commit) {
      return [...(await treeOf(commit)).keys()];
    },
  };
}

/**
 * File names reach git, the provider and reports: a control character (a newline above all)
 * could split a request or a line, so such a name is refused where it enters, naming it.
 */
export function assertPlainPath(path: string): void {
  if (hasControlCharacter(path)) {
    throw new UserError(
      `the file name ${JSON.stringify(path)} contains a control character; rename it (modelgate refuses such names so they cannot change which file is read)`,
    );
  }
}

interface TreeEntry {
  type: string;
  oid: string;
}

/** `git ls-tree -r -z --full-tree`: every entry of a commit with its type and object id. */
async function listTree(dir: string, commit: string): Promise<Map<string, TreeEntry>> {
  const out = await git(dir, ["ls-tree", "-r", "-z", "--full-tree", commit]);
  const tree = new Map<string, TreeEntry>();
  for (const record of out.split("\0")) {
    const tab = record.indexOf("\t");
    if (tab < 0) continue;
    const [, type = "", oid = ""] = record.slice(0, tab).split(" ");
    tree.set(record.slice(tab + 1), { type, oid });
  }
  return tree;
}

async function git(dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", ["-C", dir, ...args], {
      maxBuffer: 512 * 1024 * 1024,
      encoding: "utf8",
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw gitFailure(dir, `git ${args[0] ?? ""}`, typeof stderr === "string" ? stderr : "", error);
  }
}

/** What git says when a partial clone (`--filter=blob:none`) cannot get a blob from its promisor remote. */
const PROMISOR_FAILURE = /promisor remote|could not fetch [0-9a-f]+ from promisor/i;
/** What git says about an object that is not in the repository at all. */
const MISSING_OBJECT = /missing blob|unable to read [0-9a-f]{40}|bad object [0-9a-f]{40}/i;

const FETCH_FIX =
  "Fetch the missing objects (in that directory: `git fetch --refetch origin`; `git rev-list --objects --missing=print BASE..HEAD` lists them) or clone without --filter (actions/checkout: fetch-depth: 0 and no filter), then run modelgate again";

/**
 * A git command that failed: a missing object says so and how to fetch it (said plainly as a
 * partial clone when git named its promisor remote); anything else is the repository's state,
 * named with git's first line. Both are the user's to fix (exit 2), never an internal error.
 * `cause` is rethrown as is when git did not run at all.
 */
export function gitFailure(dir: string, command: string, stderr: string, cause?: unknown): Error {
  if (PROMISOR_FAILURE.test(stderr)) {
    return new RepoError(
      `${command}: the repository at ${dir} is a partial clone (cloned with --filter, e.g. blob:none) and objects modelgate needs are missing: git could not fetch them from its promisor remote. ${FETCH_FIX}`,
    );
  }
  if (MISSING_OBJECT.test(stderr)) {
    return new RepoError(
      `${command}: objects modelgate needs are missing from the repository at ${dir} (a partial clone whose missing objects were not fetched, or a damaged repository). ${FETCH_FIX}`,
    );
  }
  const first = stderr
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line !== "");
  if (first === undefined && cause !== undefined && !(cause as { code?: unknown }).code)
    return cause as Error;
  return new RepoError(`${command} failed in ${dir}: ${first ?? "no message from git"}`);
}

const STATUS: Record<string, FileStatus> = {
  A: "added",
  M: "modified",
  D: "removed",
  R: "renamed",
  T: "modified",
};

/** Parses `git diff --name-status -z`: `M\0path\0` or `R100\0old\0new\0`. */
export function parseNameStatus(out: string): ChangedPath[] {
  const fields = out.split("\0");
  const changes: ChangedPath[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++];
    if (!code) continue;
    const letter = code[0] ?? "";
    if (letter === "R" || letter === "C") {
      const previous = fields[i++] ?? "";
      const path = fields[i++] ?? "";
      changes.push(
        letter === "R" ? { path, status: "renamed", previous_path: previous } : { path, status: "added" },
      );
    } else {
      changes.push({ path: fields[i++] ?? "", status: ownGet(STATUS, letter) ?? "modified" });
    }
  }
  return changes;
}

/**
 * `git cat-file --batch` reads any number of blobs in one process. Its input is object ids only
 * (hex from `ls-tree`): a path is never parsed by git as `rev:path`, whatever characters it holds.
 */
async function catBlobs(
  dir: string,
  paths: readonly string[],
  tree: ReadonlyMap<string, TreeEntry>,
): Promise<Map<string, string | null>> {
  const files = new Map<string, string | null>();
  const blobs: Array<{ path: string; oid: string }> = [];
  for (const path of paths) {
    const entry = tree.get(path);
    if (entry?.type === "blob" && /^[0-9a-f]{40,64}$/.test(entry.oid)) blobs.push({ path, oid: entry.oid });
    else files.set(path, null);
  }
  if (blobs.length === 0) return files;
  const texts = await catFiles(
    dir,
    blobs.map((blob) => blob.oid),
  );
  blobs.forEach((blob, i) => {
    files.set(blob.path, texts[i] ?? null);
  });
  return new Map(paths.map((path) => [path, files.get(path) ?? null]));
}

function catFiles(dir: string, oids: readonly string[]): Promise<Array<string | null>> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", dir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(gitFailure(dir, "git cat-file", stderr));
      try {
        resolve(parseBatch(Buffer.concat(chunks), oids.length));
      } catch (error) {
        reject(
          error instanceof MissingObject
            ? gitFailure(dir, "git cat-file", `missing blob ${error.oid}`)
            : error,
        );
      }
    });
    child.stdin.end(oids.map((oid) => `${oid}\n`).join(""));
  });
}

function parseBatch(out: Buffer, count: number): Array<string | null> {
  const files: Array<string | null> = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const newline = out.indexOf(10, offset);
    const header = out.subarray(offset, newline).toString();
    offset = newline + 1;
    const [oid = "", type, size] = header.split(" ");
    // Every id came from this commit's tree: one git cannot find was never fetched (a partial clone).
    if (type === "missing") throw new MissingObject(oid);
    if (type !== "blob" || size === undefined) {
      files.push(null);
      continue;
    }
    const body = out.subarray(offset, offset + Number(size));
    offset += Number(size) + 1;
    files.push(body.includes(0) ? null : body.toString("utf8"));
  }
  return files;
}

class MissingObject extends Error {
  readonly oid: string;
  constructor(oid: string) {
    super(`missing object ${oid}`);
    this.oid = oid;
  }
}
