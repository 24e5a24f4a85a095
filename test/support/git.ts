import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

export function tempDir(prefix = "modelgate-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Writes files (null deletes) and commits them; returns the commit SHA. */
export function commitFiles(dir: string, files: Record<string, string | null>, message = "change"): string {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    if (content === null) rmSync(target, { force: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }
  git(dir, "add", "-A");
  git(
    dir,
    "-c",
    "user.email=t@example.com",
    "-c",
    "user.name=test",
    "commit",
    "--quiet",
    "--allow-empty",
    "-m",
    message,
  );
  return git(dir, "rev-parse", "HEAD").trim();
}

/** Every file under `dir`, keyed by its path relative to `dir` (fixtures to commit into a repo). */
export function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, "utf8");
    }
  };
  walk(dir);
  return files;
}
