import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
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

export interface ExampleOptions {
  /**
   * Generated `agentic_coding` cases added to the base suite (`evals/coding-generated.jsonl`),
   * answered by the simulator profile's `^Refactor module` entry. The demo uses a few hundred so
   * its sequential run can reach a decisive verdict; the tests use the hand-written 51.
   */
  extraCases?: number;
}

/** `count` coding cases in the shape of the hand-written ones (same tools, same asserts). */
export function generatedCodingCases(count: number): string {
  const tools = [
    {
      type: "function",
      function: {
        name: "read_file",
        description: "Read a file of the repository",
        parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
      },
    },
    {
      type: "function",
      function: {
        name: "run_tests",
        description: "Run the test suite and return the summary",
        parameters: { type: "object", properties: { filter: { type: "string" } }, required: [] },
      },
    },
  ];
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const n = String(i).padStart(3, "0");
    lines.push(
      JSON.stringify({
        id: `code-g${n}`,
        route: "agentic_coding",
        prompt: "prompts/coding-agent.md",
        vars: { repo: "acme/shop" },
        input: `Refactor module m${n}: split its largest function and keep the tests green.`,
        tools,
        tool_results: { read_file: "// file contents elided for the eval", run_tests: "42 passed, 0 failed" },
        max_steps: 6,
        assert: [
          { type: "contains", value: "DONE:" },
          { type: "tool_called", name: "run_tests" },
        ],
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface ExampleRepo {
  dir: string;
  branches: string[];
}

export function makeExampleRepo(dir: string, options: ExampleOptions = {}): ExampleRepo {
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
  if (options.extraCases) {
    writeFileSync(join(dir, "evals", "coding-generated.jsonl"), generatedCodingCases(options.extraCases));
  }
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
