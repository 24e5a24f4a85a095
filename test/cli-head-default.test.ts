import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runModelgate } from "./support/cli.ts";
import { git, tempDir } from "./support/git.ts";

/**
 * Without --head, classify and eval read the committed HEAD: edits in the work tree are not part
 * of the run. That is right for CI but surprising at a desk, so it is said in one line on stderr.
 */
const WARNING =
  "modelgate: --head defaults to HEAD; 2 uncommitted changes to tracked files are not included (commit them or pass --head)\n";

let dirty: string;
let clean: string;

beforeAll(() => {
  clean = makeExampleRepo(tempDir()).dir;
  dirty = makeExampleRepo(tempDir()).dir;
  git(dirty, "checkout", "--quiet", "main");
  writeFileSync(join(dirty, "config/llm.json"), "{}\n");
  writeFileSync(join(dirty, "README.md"), "edited\n");
  git(dirty, "add", "README.md");
  writeFileSync(join(dirty, "untracked.txt"), "not tracked: not counted\n");
});

describe("--head defaults to HEAD", () => {
  it("classify warns once about uncommitted changes to tracked files", () => {
    const run = runModelgate(["classify", "--repo", dirty, "--base", "main"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(WARNING);
    expect(JSON.parse(run.stdout).categories).toEqual([]);
  });

  it("an explicit --head, or a clean tree, gets no warning", () => {
    expect(runModelgate(["classify", "--repo", dirty, "--base", "main", "--head", "HEAD"]).stderr).toBe("");
    const cleanRun = runModelgate(["classify", "--repo", clean, "--base", "main"]);
    expect(cleanRun.code).toBe(0);
    expect(cleanRun.stderr).toBe("");
  });

  it("eval warns the same way", () => {
    const run = runModelgate(["eval", "--repo", dirty, "--base", "main", "--no-cache"], {
      env: { OPENAI_BASE_URL: "", OPENAI_API_KEY: "" },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.startsWith(WARNING)).toBe(true);
  });

  it("--help says what --head defaults to", () => {
    for (const command of ["classify", "eval"]) {
      expect(runModelgate([command, "--help"]).stdout).toMatch(
        /--head REF: .*\(default: HEAD, the last commit; uncommitted edits are not\n/,
      );
    }
  });
});
