import { beforeAll, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runModelgate } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

let repo: string;

beforeAll(() => {
  repo = makeExampleRepo(tempDir()).dir;
});

describe("modelgate classify", () => {
  it("a model-only migration: JSON by default, exit 0", () => {
    const run = runModelgate([
      "classify",
      "--repo",
      repo,
      "--base",
      "main",
      "--head",
      "migrate-agentic-coding",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      categories: ["model"],
      mixed: false,
      files: [
        {
          path: "config/llm.json",
          previous_path: null,
          status: "modified",
          categories: ["model"],
          keys: [{ path: "llm.routes.agentic_coding", category: "model" }],
        },
      ],
      warnings: [],
    });
  });

  it("a mixed change exits 1 and lists each category", () => {
    const run = runModelgate(["classify", "--repo", repo, "--base", "main", "--head", "mixed"]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["infra", "model", "prompt"]);
    expect(result.mixed).toBe(true);
    const llm = result.files.find((f: { path: string }) => f.path === "config/llm.json");
    expect(llm.categories).toEqual(["infra", "model"]);
  });

  it("--format text is for people", () => {
    const run = runModelgate([
      "classify",
      "--repo",
      repo,
      "--base",
      "main",
      "--head",
      "mixed",
      "--format",
      "text",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("MIXED: this change touches infra + model + prompt");
    expect(run.stdout).toContain("llm.timeout_ms  (infra)");
  });

  it("reads the policy from the base ref: a PR cannot loosen its own rule", () => {
    const dir = makeExampleRepo(tempDir()).dir;
    git(dir, "checkout", "--quiet", "-b", "loosen", "mixed");
    // The PR also rewrites the policy so that nothing counts as infra or prompt.
    commitFiles(dir, {
      ".github/modelgate.yml":
        'changes:\n  prompt: { files: ["nothing/**"] }\n  infra: { files: ["nothing/**"], keys: ["nothing"] }\n',
    });
    const run = runModelgate(["classify", "--repo", dir, "--base", "main", "--head", "loosen"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).categories).toEqual(["infra", "model", "prompt"]);
  });

  it("an invalid config at the base is one clear line per problem and exit 2", () => {
    const dir = tempDir();
    git(dir, "init", "--quiet", "--initial-branch=main");
    commitFiles(dir, { ".github/modelgate.yml": "gates:\n  max_eror_rate: 0.1\n" });
    commitFiles(dir, { "prompts/a.md": "hi" });
    const run = runModelgate(["classify", "--repo", dir, "--base", "HEAD~1"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      '.github/modelgate.yml:2 gates.max_eror_rate: unknown key; did you mean "max_error_rate"?',
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unknown --base revision exits 2 with one line", () => {
    const run = runModelgate(["classify", "--repo", repo, "--base", "no-such-branch"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`modelgate: unknown revision 'no-such-branch' in ${repo}`);
  });

  it("a directory that is not a git repo exits 2 with one line", () => {
    const dir = tempDir();
    const run = runModelgate(["classify", "--repo", dir, "--base", "main"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`modelgate: ${dir} is not a git repository (or git is not installed)`);
  });

  it("usage errors exit 2: missing --base, unknown flag, bad --format", () => {
    expect(runModelgate(["classify", "--repo", repo]).stderr).toContain("--base REF is required");
    const unknown = runModelgate(["classify", "--repo", repo, "--base", "main", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const format = runModelgate(["classify", "--repo", repo, "--base", "main", "--format", "xml"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format: expected one of json, text, found 'xml'");
    expect(runModelgate(["nope"]).code).toBe(2);
  });

  it("renames and deletions on a real repo", () => {
    const dir = makeExampleRepo(tempDir()).dir;
    git(dir, "checkout", "--quiet", "-b", "moves", "main");
    git(dir, "mv", "prompts/qna.md", "prompts/support-qna.md");
    commitFiles(dir, { ".env.example": null }, "move and delete");
    const run = runModelgate(["classify", "--repo", dir, "--base", "main", "--head", "moves"]);
    const result = JSON.parse(run.stdout);
    expect(result.files).toContainEqual(
      expect.objectContaining({
        path: "prompts/support-qna.md",
        previous_path: "prompts/qna.md",
        status: "renamed",
      }),
    );
    const env = result.files.find((f: { path: string }) => f.path === ".env.example");
    expect(env.status).toBe("removed");
    expect(env.keys).toContainEqual({ path: "OPENAI_MODEL_DEFAULT", category: "model" });
    expect(result.categories).toEqual(["model", "prompt"]);
    expect(run.code).toBe(1);
  });
});
