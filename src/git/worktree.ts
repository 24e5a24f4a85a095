import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The top folder of the work tree that `dir` belongs to, where the files of a checked-out
 * commit appear; undefined for a bare repository (no files are checked out anywhere).
 */
export async function worktreeRoot(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", ["-C", dir, "rev-parse", "--show-toplevel"], { encoding: "utf8" });
    const root = stdout.replace(/\n$/, "");
    return root === "" ? undefined : root;
  } catch {
    return undefined;
  }
}

/**
 * How many tracked files the work tree of `dir` has changed (staged or not) against HEAD:
 * `git status --porcelain`, untracked files left out. 0 for a bare repository or when git
 * cannot tell: it only feeds a warning.
 */
export async function uncommittedChanges(dir: string): Promise<number> {
  try {
    const { stdout } = await run("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    return stdout.split("\n").filter((line) => line.trim() !== "").length;
  } catch {
    return 0;
  }
}

/**
 * The warning for a run whose `--head` was left at its default, HEAD, while the work tree has
 * uncommitted edits: they are silently not part of the run otherwise.
 */
export async function headDefaultWarning(dir: string): Promise<string | undefined> {
  const changes = await uncommittedChanges(dir);
  if (changes === 0) return undefined;
  return `--head defaults to HEAD; ${changes} uncommitted ${changes === 1 ? "change" : "changes"} to tracked files ${changes === 1 ? "is" : "are"} not included (commit them or pass --head)`;
}
