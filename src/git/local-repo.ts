import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { ChangedPath, FileStatus } from "../core/classify/classify.ts";
import { RepoError } from "../core/errors.ts";

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
      return parseNameStatus(
        await git(dir, ["diff", "--name-status", "-z", "-M", "--no-ext-diff", base, head]),
      );
    },
    readFiles: (commit, paths) => catFiles(dir, commit, paths),
    async listFiles(commit) {
      const out = await git(dir, ["ls-tree", "-r", "-z", "--name-only", commit]);
      return out.split("\0").filter(Boolean);
    },
  };
}

async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", dir, ...args], {
    maxBuffer: 512 * 1024 * 1024,
    encoding: "utf8",
  });
  return stdout;
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
      changes.push({ path: fields[i++] ?? "", status: STATUS[letter] ?? "modified" });
    }
  }
  return changes;
}

/** `git cat-file --batch` reads any number of blobs in one process. */
function catFiles(
  dir: string,
  commit: string,
  paths: readonly string[],
): Promise<Map<string, string | null>> {
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
      if (code !== 0) return reject(new RepoError(`git cat-file failed in ${dir}: ${stderr.trim()}`));
      resolve(parseBatch(Buffer.concat(chunks), paths));
    });
    child.stdin.end(paths.map((path) => `${commit}:${path}\n`).join(""));
  });
}

function parseBatch(out: Buffer, paths: readonly string[]): Map<string, string | null> {
  const files = new Map<string, string | null>();
  let offset = 0;
  for (const path of paths) {
    const newline = out.indexOf(10, offset);
    const header = out.subarray(offset, newline).toString();
    offset = newline + 1;
    const [, type, size] = header.split(" ");
    if (type !== "blob" || size === undefined) {
      files.set(path, null);
      continue;
    }
    const body = out.subarray(offset, offset + Number(size));
    offset += Number(size) + 1;
    files.set(path, body.includes(0) ? null : body.toString("utf8"));
  }
  return files;
}
