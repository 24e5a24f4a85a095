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
