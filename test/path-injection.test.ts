import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { UserError } from "../src/core/errors.ts";
import type { EvalResult } from "../src/core/result.ts";
import { openLocalRepo } from "../src/git/local-repo.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { ROOT, runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * `git cat-file --batch` reads one `<rev>:<path>` per line: a newline in a path starts a second
 * request, for any revision, and shifts every answer after it. File names from the repo and
 * prompt paths from cases must never reach it as text.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

const cli = runCliCaptured;

const BASE = join(ROOT, "examples/acme-support/base");
/** A model + infra change of the LLM config: a route moves and the timeout changes. */
const modelAndInfra = readFileSync(join(BASE, "config/llm.json"), "utf8")
  .replace('"agentic_coding": "gpt-5.4"', '"agentic_coding": "gpt-5.5"')
  .replace('"timeout_ms": 120000', '"timeout_ms": 60000');

/** A JSON file whose path, fed to cat-file, asks for main's LLM config instead. */
const INJECTED = "a\nmain:config/llm.json";

describe("a file name with a newline", () => {
  it("classify refuses it with a one-line error naming the file, instead of reading main's config", async () => {
    const dir = makeExampleRepo(tempDir()).dir;
    git(dir, "checkout", "--quiet", "-b", "pr");
    commitFiles(dir, { "config/llm.json": modelAndInfra, [INJECTED]: "{}\n" }, "model + infra, hidden");
    const run = await cli(["classify", "--repo", dir, "--base", "main", "--head", "pr"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(JSON.stringify(INJECTED));
    expect(run.stderr).toMatch(/control character/);
  });

  it("blobs are read by object id: a path is never parsed as a revision", async () => {
    const dir = makeExampleRepo(tempDir()).dir;
    git(dir, "checkout", "--quiet", "-b", "pr");
    const head = commitFiles(dir, { "config/llm.json": modelAndInfra, "x:y.json": "{}\n" }, "pr");
    const repo = await openLocalRepo(dir);
    const files = await repo.readFiles(head, [
      "main:config/llm.json",
      "x:y.json",
      "config/llm.json",
      ":config/llm.json",
      "HEAD",
      "config",
    ]);
    expect(files.get("main:config/llm.json")).toBeNull();
    expect(files.get("x:y.json")).toBe("{}\n");
    expect(files.get("config/llm.json")).toBe(modelAndInfra);
    expect(files.get(":config/llm.json")).toBeNull();
    expect(files.get("HEAD")).toBeNull();
    expect(files.get("config")).toBeNull();
    await expect(repo.readFiles(head, ["config/llm.json", INJECTED])).rejects.toThrow(UserError);
  });
});

describe("a case's prompt path", () => {
  const qna = readFileSync(join(BASE, "evals/qna.jsonl"), "utf8").split("\n")[0] ?? "";

  async function evalWithPrompt(prompt: string) {
    const sim = await startExampleSimulator();
    simulators.push(sim);
    const dir = makeExampleRepo(tempDir()).dir;
    commitFiles(dir, { "prompts/secret.md": "SECRET ON MAIN ONLY" }, "a file only main has");
    git(dir, "checkout", "--quiet", "-b", "pr");
    const evil = JSON.stringify({ ...JSON.parse(qna), id: "qna-evil", prompt });
    commitFiles(
      dir,
      {
        "prompts/secret.md": null,
        "config/llm.json": modelAndInfra.replace('"general_qna": "gpt-5.4"', '"general_qna": "gpt-5.5"'),
        "evals/evil.jsonl": `${evil}\n`,
      },
      "a case that reads another revision",
    );
    const out = join(tempDir(), "result.json");
    const run = await cli(
      ["eval", "--repo", dir, "--base", "main", "--head", "pr", "--out", out, "--no-cache"],
      { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
    );
    const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined;
    return { ...run, sim, result };
  }

  it.each([
    ["a newline", "prompts/qna.md\nmain:prompts/secret.md"],
    ["a parent directory", "../prompts/secret.md"],
    ["an absolute path", "/etc/passwd"],
  ])("with %s is a file:line (case id) error before any request", async (_what, prompt) => {
    const run = await evalWithPrompt(prompt);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("evals/evil.jsonl:1 (case qna-evil) prompt:");
    expect(run.stderr).not.toMatch(/internal error|fatal:/i);
    expect(run.sim.stats.requests).toBe(0);
  });

  it("that names another revision is only a path: the file is missing on both sides, nothing is sent", async () => {
    const run = await evalWithPrompt("main:prompts/secret.md");
    expect(run.stderr).not.toMatch(/internal error|fatal:/i);
    const evil = run.result?.cases.find((c) => c.id === "qna-evil");
    expect(evil?.base).toBeUndefined();
    expect(evil?.head).toBeUndefined();
  });
});
