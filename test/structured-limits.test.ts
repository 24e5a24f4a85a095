import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { EXAMPLE_POLICY } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Hostile structured files (issue 9, minor): alias bombs, 10,000-deep nesting, a 33 MB config.
 * Each is a one-line user error naming the file (exit 2), in bounded time, never exit 3.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

const ALIAS_BOMB = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]",
  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]",
  "",
].join("\n");
const DEEP_JSON = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
const DEEP_YAML = `x: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
const HUGE_JSON = `{"llm": {"default_model": "gpt-5.4"}, "pad": "${"x".repeat(33 * 1024 * 1024)}"}`;

async function evalWith(base: Record<string, string>, head: Record<string, string>) {
  const sim = await startExampleSimulator();
  simulators.push(sim);
  const dir = makeExampleRepo(tempDir()).dir;
  if (Object.keys(base).length) commitFiles(dir, base, "base");
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, head, "pr");
  let stderr = "";
  const started = Date.now();
  const code = await runCli(
    ["eval", "--repo", dir, "--base", "main", "--head", "pr", "--no-cache", "--out", `${tempDir()}/r.json`],
    {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
    },
  );
  const errors = stderr
    .split("\n")
    .filter((line) => line.startsWith("modelgate:") && !line.includes("provider:"));
  return { code, stderr, errors, ms: Date.now() - started };
}

describe("hostile structured files", () => {
  it.each([
    ["a YAML alias bomb in the policy", { ".github/modelgate.yml": ALIAS_BOMB }, {}, ".github/modelgate.yml"],
    [
      "10,000-deep YAML nesting in the policy",
      { ".github/modelgate.yml": DEEP_YAML },
      {},
      ".github/modelgate.yml",
    ],
    ["10,000-deep JSON nesting in the LLM config", {}, { "config/llm.json": DEEP_JSON }, "config/llm.json"],
    ["a 33 MB LLM config", {}, { "config/llm.json": HUGE_JSON }, "config/llm.json"],
    [
      "a YAML alias bomb in a case file",
      {
        ".github/modelgate.yml": EXAMPLE_POLICY.replace(
          'cases: ["evals/**/*.jsonl"]',
          'cases: ["evals/**/*.jsonl", "evals/**/*.yaml"]',
        ),
      },
      { "evals/bomb.yaml": ALIAS_BOMB },
      "evals/bomb.yaml",
    ],
  ])(
    "%s: exit 2, one line naming the file",
    async (_what, base, head, file) => {
      const run = await evalWith(base, head);
      expect(run.stderr).not.toMatch(/internal error/i);
      expect(run.code).toBe(2);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain(file);
      expect(run.ms).toBeLessThan(20_000);
      if (file === "evals/bomb.yaml") expect(EXAMPLE_POLICY).toContain('cases: ["evals/**/*.jsonl"]');
    },
    60_000,
  );
});
