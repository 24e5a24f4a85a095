import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Builds the bundled example as a real git repository: `main` holds `acme-support/base`,
 * and every folder of `acme-support/changes` becomes a branch with that change applied.
 */
const here = dirname(fileURLToPath(import.meta.url));
// Run from the sources (examples/) or from the demo bundle (dist/, next to examples/).
export const EXAMPLE_ROOT =
  [join(here, "acme-support"), join(here, "..", "examples", "acme-support")].find((candidate) =>
    existsSync(join(candidate, "base")),
  ) ?? join(here, "acme-support");

export interface ExampleRepo {
  dir: string;
  branches: string[];
}

export function makeExampleRepo(dir: string): ExampleRepo {
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: "2026-11-01T12:00:00Z",
        GIT_COMMITTER_DATE: "2026-11-01T12:00:00Z",
      },
    });
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.email", "demo@example.com");
  git("config", "user.name", "modelgate demo");
  git("config", "commit.gpgsign", "false");
  cpSync(join(EXAMPLE_ROOT, "base"), dir, { recursive: true });
  git("add", "-A");
  git("commit", "--quiet", "-m", "Acme support assistant");
  const changesDir = join(EXAMPLE_ROOT, "changes");
  const branches = existsSync(changesDir)
    ? readdirSync(changesDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
    : [];
  for (const branch of branches) {
    git("checkout", "--quiet", "-b", branch, "main");
    cpSync(join(changesDir, branch), dir, { recursive: true });
    git("add", "-A");
    git("commit", "--quiet", "-m", `Example change: ${branch}`);
  }
  git("checkout", "--quiet", "main");
  return { dir, branches };
}

// Only when this file itself is the entry point, not when a bundle that contains it is.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[1].endsWith("make-example-repo.ts")) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write("usage: node examples/make-example-repo.ts DIR\n");
    process.exit(2);
  }
  const repo = makeExampleRepo(target);
  process.stdout.write(`example repo in ${repo.dir}; branches: main, ${repo.branches.join(", ")}\n`);
}
